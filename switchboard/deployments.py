"""An agent's advanced settings on one platform (`provider_configs.settings`): options the
canonical spec does not cover, passed to the platform as they are by the sync function.
Changing them marks the deployment pending so the sync function pushes them.

Takes a connection from `db.as_user(claims)` (members may edit; RLS checks the organisation).
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from switchboard.errors import Refused

MAX_SETTINGS_BYTES = 16_384


class SettingsError(Refused, ValueError):
    pass


async def get_platform_settings(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, platform: str) -> dict[str, Any]:
    cur = await conn.execute(
        """
        select pc.settings from public.provider_configs pc
        join public.voice_ai_providers vp on vp.id = pc.provider_id
        where pc.organization_id = %s and pc.agent_config_id = %s and vp.code = %s
        """,
        (organization_id, agent_id, platform),
    )
    row = await cur.fetchone()
    return dict(row["settings"]) if row else {}


async def set_platform_settings(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, platform: str,
                                settings: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(settings, dict):
        raise SettingsError("settings must be a JSON object")
    if len(json.dumps(settings)) > MAX_SETTINGS_BYTES:
        raise SettingsError(f"settings are larger than {MAX_SETTINGS_BYTES} bytes")
    cur = await conn.execute(
        """
        insert into public.provider_configs (organization_id, agent_config_id, provider_id, settings, sync_status)
        select a.organization_id, a.id, vp.id, %s, 'pending'
        from public.agent_configs a, public.voice_ai_providers vp
        where a.organization_id = %s and a.id = %s and vp.code = %s
        on conflict (agent_config_id, provider_id) do update
          set settings = excluded.settings, sync_status = 'pending', sync_error = null
        returning settings
        """,
        (Jsonb(settings), organization_id, agent_id, platform),
    )
    row = await cur.fetchone()
    if row is None:
        raise SettingsError("no such agent or platform in this organisation")
    return dict(row["settings"])
