"""Reading, saving and publishing agent versions.

Invariants:
- every function takes a connection opened as the caller (`db.as_user`): RLS decides, and another
  organisation's agent is "not found";
- a draft is written under the agent's row lock (the lock `agents.update_agent` takes), so two
  saves cannot take one number; numbers are unique per agent in the database as well;
- publishing takes the agent's row lock without waiting: a publish (or save) already holding it
  means a concurrent change, answered 409 in words — one winner, never two interleaved;
- the version's spec becomes live in the same statement (the database trigger
  `agent_configs_publish`), and the agent's update is what the sync webhook acts on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from switchboard.errors import Conflict, FieldError, InvalidInput, NotFound
from switchboard.spec import AGENT_COLUMNS
from switchboard.versions.gate import check_gate


class PublishConflict(Conflict):
    code = "publish_conflict"


class AgentVersion(BaseModel):
    id: UUID
    agent_id: UUID
    number: int
    spec: dict[str, Any] = Field(description="the agent's spec as saved (name, prompt, voice, tools, …)")
    note: str | None = None
    created_by: UUID | None = Field(None, description="the author")
    author_email: str | None = None
    created_at: datetime
    live: bool = Field(False, description="this version is the one serving calls")


_SQL = """
    select v.*, m.email as author_email, (a.live_version_id = v.id) as live
    from public.agent_versions v
    join public.agent_configs a on a.id = v.agent_config_id and a.organization_id = v.organization_id
    left join public.organization_members(%(org)s) m on m.user_id = v.created_by
    where v.organization_id = %(org)s and v.agent_config_id = %(agent)s
"""


def _version(row: dict[str, Any]) -> AgentVersion:
    return AgentVersion.model_validate({**row, "agent_id": row["agent_config_id"], "live": bool(row["live"])})


async def _agent_exists(conn: AsyncConnection, organization_id: UUID, agent_id: UUID) -> None:
    row = await (await conn.execute("select 1 from public.agent_configs where organization_id = %s and id = %s",
                                    (organization_id, agent_id))).fetchone()
    if row is None:
        raise NotFound("agent not found")


async def list_versions(conn: AsyncConnection, organization_id: UUID, agent_id: UUID) -> list[AgentVersion]:
    """Newest first."""
    await _agent_exists(conn, organization_id, agent_id)
    rows = await (await conn.execute(_SQL + " order by v.number desc", {"org": organization_id, "agent": agent_id})).fetchall()
    return [_version(r) for r in rows]


async def get_version(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, number: int) -> AgentVersion:
    await _agent_exists(conn, organization_id, agent_id)
    row = await (await conn.execute(_SQL + " and v.number = %(n)s", {"org": organization_id, "agent": agent_id, "n": number})).fetchone()
    if row is None:
        raise NotFound(f"this agent has no version {number}")
    return _version(row)


async def latest_version(conn: AsyncConnection, organization_id: UUID, agent_id: UUID) -> AgentVersion | None:
    row = await (await conn.execute(_SQL + " order by v.number desc limit 1", {"org": organization_id, "agent": agent_id})).fetchone()
    return None if row is None else _version(row)


async def save_draft(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, spec: dict[str, Any], *,
                     note: str | None = None) -> AgentVersion:
    """A new draft version holding `spec` (the caller holds the agent's row lock)."""
    spec = {k: spec.get(k) for k in AGENT_COLUMNS}
    row = await (await conn.execute(
        """
        insert into public.agent_versions (organization_id, agent_config_id, number, spec, note, created_by)
        select %s, %s, coalesce(max(number), 0) + 1, %s, %s, auth.uid()
        from public.agent_versions where agent_config_id = %s
        returning number
        """,
        (organization_id, agent_id, Jsonb(spec), note, agent_id),
    )).fetchone()
    return await get_version(conn, organization_id, agent_id, row["number"])


async def publish(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, number: int) -> AgentVersion:
    """Make version `number` live (rolling back is publishing an earlier number)."""
    try:
        async with conn.transaction():
            row = await (await conn.execute(
                "select live_version_id from public.agent_configs where organization_id = %s and id = %s for update nowait",
                (organization_id, agent_id),
            )).fetchone()
    except psycopg.errors.LockNotAvailable:
        raise PublishConflict("another publish or save of this agent is in progress; "
                              "reload its versions and publish again if you still want this one") from None
    if row is None:
        raise NotFound("agent not found")
    version = await get_version(conn, organization_id, agent_id, number)
    if version.live:
        return version
    platform = await (await conn.execute(
        "select vp.code, vp.supports_custom_voices from public.agent_configs a "
        "join public.voice_ai_providers vp on vp.id = a.active_provider_id where a.id = %s", (agent_id,))).fetchone()
    if platform and (version.spec.get("voice") or {}).get("custom") and not platform["supports_custom_voices"]:
        raise InvalidInput(FieldError("voice.custom", f"version {number} has a custom voice and {platform['code']} takes "
                                                      "preset voices only; publish a version with a preset voice"))
    await check_gate(conn, organization_id, agent_id, version.id, number)
    await conn.execute(
        """
        update public.agent_configs set live_version_id = %s, live_published_at = now(), live_published_by = auth.uid(),
          version = version + 1
        where id = %s
        """,
        (version.id, agent_id),
    )
    return version.model_copy(update={"live": True})


async def version_spec_row(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, version_id: UUID) -> dict[str, Any]:
    """The agent's row with one of its versions' spec in place of the live one (what a test run of
    a draft serves); NotFound when the version is not this agent's."""
    row = await (await conn.execute(
        """
        select a.*, a.id as agent_config_id, v.spec as version_spec from public.agent_configs a
        join public.agent_versions v on v.agent_config_id = a.id and v.organization_id = a.organization_id
        where a.organization_id = %s and a.id = %s and v.id = %s
        """,
        (organization_id, agent_id, version_id),
    )).fetchone()
    if row is None:
        raise NotFound("this agent has no such version")
    return {**row, **row["version_spec"]}
