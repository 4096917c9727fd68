"""The organisation's test settings: whether publishing needs the scenarios to pass (the gate
itself is `switchboard.versions.gate`) and how many conversations a run holds at once."""

from __future__ import annotations

from uuid import UUID

from psycopg import AsyncConnection
from pydantic import BaseModel, Field

from switchboard.errors import Forbidden, NotFound


class ScenarioSettings(BaseModel):
    require_scenarios_to_publish: bool = Field(description="publish only versions whose scenarios passed on the agent's platforms")
    scenario_concurrency: int = Field(ge=1, le=20, description="conversations a run holds at once")


async def read_settings(conn: AsyncConnection, organization_id: UUID) -> ScenarioSettings:
    row = await (await conn.execute(
        "select require_scenarios_to_publish, scenario_concurrency from public.organizations where id = %s",
        (organization_id,))).fetchone()
    if row is None:
        raise NotFound("organisation not found")
    return ScenarioSettings.model_validate(row)


async def write_settings(conn: AsyncConnection, organization_id: UUID, wanted: ScenarioSettings) -> ScenarioSettings:
    row = await (await conn.execute(
        "update public.organizations set require_scenarios_to_publish = %s, scenario_concurrency = %s where id = %s "
        "returning require_scenarios_to_publish, scenario_concurrency",
        (wanted.require_scenarios_to_publish, wanted.scenario_concurrency, organization_id))).fetchone()
    if row is None:
        raise Forbidden("only admins and owners may change the organisation's test settings")
    return ScenarioSettings.model_validate(row)
