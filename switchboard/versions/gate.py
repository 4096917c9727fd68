"""The publish gate: where the organisation requires it, a version is published only when its
latest finished run on each of the agent's platforms passed. A refusal lists what failed.

It reads the scenario runs' tables and imports nothing of `switchboard.scenarios` (which sits
above versions: its runs hold conversations, which read versions)."""

from __future__ import annotations

from uuid import UUID

from psycopg import AsyncConnection

from switchboard.errors import Conflict
from switchboard.providers import registry

MAX_LISTED = 10


class PublishBlocked(Conflict):
    code = "publish_blocked"


async def check_gate(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, version_id: UUID, number: int) -> None:
    org = await (await conn.execute("select require_scenarios_to_publish from public.organizations where id = %s",
                                    (organization_id,))).fetchone()
    if not org or not org["require_scenarios_to_publish"]:
        return
    targets = await agent_platforms(conn, organization_id, agent_id)
    untested, failed = [], []
    for code in targets:
        run = await (await conn.execute(
            """
            select r.id from public.scenario_runs r
            where r.organization_id = %s and r.agent_config_id = %s and r.agent_version_id = %s
              and %s = any(r.platforms) and r.status <> 'running'
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


async def agent_platforms(conn: AsyncConnection, organization_id: UUID, agent_id: UUID) -> list[str]:
    """The platforms the agent is configured on (active, fallbacks, split arms) that this
    installation offers; none configured: the offered platforms our own worker serves."""
    rows = await (await conn.execute(
        """
        select distinct vp.code from public.agent_configs a join public.voice_ai_providers vp
          on vp.id = a.active_provider_id or vp.code = any(a.fallback_order) or a.traffic_split ? vp.code
        where a.organization_id = %s and a.id = %s and vp.is_active order by vp.code
        """, (organization_id, agent_id))).fetchall()
    if rows:
        return [r["code"] for r in rows]
    offered = {r["code"] for r in await (await conn.execute(
        "select code from public.voice_ai_providers where is_active")).fetchall()}
    return sorted(offered & {d.code for d in registry.with_role("worker")})
