"""An agent's scenarios in the database, and their YAML form (import replaces by name).

Every function takes a connection opened as the caller (`db.as_user`), or the service role for
trusted paths (the demo seed): RLS decides, another organisation's agent is "not found"."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from switchboard.errors import NotFound
from switchboard.scenarios.model import Scenario, suite_from_yaml, suite_to_yaml


class StoredScenario(BaseModel):
    id: UUID
    agent_id: UUID
    position: int
    scenario: Scenario
    updated_at: datetime


async def require_agent(conn: AsyncConnection, organization_id: UUID, agent_id: UUID) -> None:
    if await (await conn.execute("select 1 from public.agent_configs where organization_id = %s and id = %s",
                                 (organization_id, agent_id))).fetchone() is None:
        raise NotFound("agent not found")


async def list_scenarios(conn: AsyncConnection, organization_id: UUID, agent_id: UUID) -> list[StoredScenario]:
    await require_agent(conn, organization_id, agent_id)
    rows = await (await conn.execute(
        "select * from public.scenarios where organization_id = %s and agent_config_id = %s order by position, name",
        (organization_id, agent_id),
    )).fetchall()
    return [StoredScenario(id=r["id"], agent_id=r["agent_config_id"], position=r["position"],
                           scenario=Scenario.model_validate(r["definition"]), updated_at=r["updated_at"]) for r in rows]


async def save_suite(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, suite: list[Scenario], *,
                     replace: bool = False) -> list[StoredScenario]:
    """Write `suite` (by name: a scenario of the same name is replaced); `replace` also removes
    the agent's scenarios not in it."""
    await require_agent(conn, organization_id, agent_id)
    for position, scenario in enumerate(suite):
        await conn.execute(
            """
            insert into public.scenarios (organization_id, agent_config_id, name, position, definition, created_by)
            values (%s, %s, %s, %s, %s, auth.uid())
            on conflict (agent_config_id, name) do update set definition = excluded.definition, position = excluded.position
            """,
            (organization_id, agent_id, scenario.name, position, Jsonb(scenario.model_dump(mode="json", exclude_none=True))),
        )
    if replace:
        await conn.execute("delete from public.scenarios where organization_id = %s and agent_config_id = %s "
                           "and not (name = any(%s))", (organization_id, agent_id, [s.name for s in suite]))
    return await list_scenarios(conn, organization_id, agent_id)


async def import_yaml(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, text: str, *,
                      replace: bool = False) -> list[StoredScenario]:
    return await save_suite(conn, organization_id, agent_id, suite_from_yaml(text), replace=replace)


async def export_yaml(conn: AsyncConnection, organization_id: UUID, agent_id: UUID) -> str:
    return suite_to_yaml([s.scenario for s in await list_scenarios(conn, organization_id, agent_id)])
