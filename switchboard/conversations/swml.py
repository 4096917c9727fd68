"""The SWML document SignalWire fetches for a text conversation (`config_url`): the agent's spec
compiled as for its calls. The caller (the edge function) has checked the URL's signature
(`switchboard.providers.signalwire.chat.verify_swml_url`), so this is a trusted read."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from switchboard.db import Database
from switchboard.errors import NotFound
from switchboard.providers.signalwire.chat import compile_chat_swml
from switchboard.spec import agent_spec_from_row


async def conversation_swml(db: Database, organization_id: UUID, agent_id: UUID) -> dict[str, Any]:
    async with db.as_service() as conn:
        row = await (await conn.execute(
            "select *, id as agent_config_id from public.agent_configs where organization_id = %s and id = %s",
            (organization_id, agent_id),
        )).fetchone()
    if row is None:
        raise NotFound("agent not found")
    return compile_chat_swml(agent_spec_from_row(row))
