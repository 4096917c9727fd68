"""The publish gate: where the organisation requires it, a version is published only when its
latest finished run on each of the agent's platforms passed. A refusal lists what failed.

Imported lazily by `switchboard.versions.publish` (the scenarios package sits above versions)."""

from __future__ import annotations

from uuid import UUID

from psycopg import AsyncConnection
from pydantic import BaseModel, Field

from switchboard.errors import Conflict, Forbidden, NotFound

MAX_LISTED = 10


class PublishBlocked(Conflict):
    code = "publish_blocked"


async def check_gate(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, version_id: UUID, number: int) -> None:
    org = await (await conn.execute("select require_scenarios_to_publish from public.organizations where id = %s",
                                    (organization_id,))).fetchone()
    if not org or not org["require_scenarios_to_publish"]:
        return
    from switchboard.scenarios.runner import ALL, _platforms

    targets = await _platforms(conn, organization_id, agent_id, ALL)
    untested, failed = [], []
    for code in targets:
        run = await (await conn.execute(
            """
            select r.id from public.scenario_runs r
            where r.organization_id = %s and r.agent_config_id = %s and r.agent_version_id = %s
              and %s = any(r.platforms) and r.status not in ('running', 'interrupted')
            order by r.started_at desc limit 1
            """, (organization_id, agent_id, version_id, code))).fetchone()
        if run is None:
            untested.append(code)
            continue
        rows = await (await conn.execute(
            "select scenario_name, outcome, checks, error from public.scenario_results "
            "where run_id = %s and platform = %s and outcome <> 'passed' order by scenario_name", (run["id"], code))).fetchall()
        for r in rows:
            messages = [c["message"] for c in r["checks"] if c.get("outcome") == "failed"] or [r["error"] or r["outcome"]]
            failed += [f"{code} · {r['scenario_name']}: {m}" for m in messages]
    if untested:
        raise PublishBlocked(f"version {number} has not been tested on {', '.join(untested)}: this organisation requires "
                             "its scenarios to pass before publishing; run them first")
    if failed:
        listed = "; ".join(failed[:MAX_LISTED]) + (f"; and {len(failed) - MAX_LISTED} more" if len(failed) > MAX_LISTED else "")
        raise PublishBlocked(f"version {number} failed its scenarios, so it cannot be published: {listed}")


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
