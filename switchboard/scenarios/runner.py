"""Running an agent's scenarios: each (scenario, platform) pair is one text conversation through
`switchboard.conversations` (the same path as the test panel), checked by `checks.evaluate`.

Invariants:
- a run tests one version (the live one when none is named), recorded on the run and on every
  conversation it holds, on the platforms asked for ("all": every platform the agent is
  configured on that this installation offers);
- at most the organisation's `scenario_concurrency` conversations of a run are open at once;
- every pair's result is stored as it finishes (progress is `done`/`total` on the run): the
  conversation, each check's outcome and why it failed, each turn's latency, the reported cost;
- a platform that cannot hold the conversation (no key, down) is that pair's `error`, in our
  words — the other pairs still run; nothing an LLM judges decides a deterministic check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from uuid import UUID

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from switchboard import conversations
from switchboard.conversations import Turn
from switchboard.db import Database
from switchboard.errors import Conflict, FieldError, InvalidInput, NotFound, SwitchboardError
from switchboard.inbound import ProviderSource
from switchboard.scenarios.checks import CheckResult, Judge, evaluate
from switchboard.scenarios.store import StoredScenario, list_scenarios
from switchboard.tenancy import Claims
from switchboard.versions.gate import agent_platforms

ALL = "all"


class PairResult(BaseModel):
    scenario: str
    platform: str
    outcome: str  # passed | failed | error | not_run
    checks: list[CheckResult] = []
    turn_latency_ms: list[float] = []
    cost: Decimal | None = None
    conversation_id: UUID | None = None
    error: str | None = None

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome == "failed"]


Progress = Callable[[int, int, PairResult], None]


async def _platforms(conn, organization_id: UUID, agent_id: UUID, asked: str | list[str]) -> list[str]:
    if asked == ALL:
        return await agent_platforms(conn, organization_id, agent_id)
    offered = {r["code"] for r in await (await conn.execute(
        "select code from public.voice_ai_providers where is_active")).fetchall()}
    codes = [asked] if isinstance(asked, str) else list(asked)
    unknown = [c for c in codes if c not in offered]
    if unknown or not codes:
        raise InvalidInput(FieldError("platform", f"{', '.join(unknown) or 'nothing'} is not a platform offered here "
                                                  f"(offered: {', '.join(sorted(offered))}, or all)"))
    return list(dict.fromkeys(codes))


async def create_run(db: Database, claims: Claims, organization_id: UUID, agent_id: UUID, *,
                     platform: str | list[str] = ALL, version: int | None = None) -> UUID:
    """The run's record (status running), for `execute_run` to fill."""
    async with db.as_user(claims) as conn:
        agent = await (await conn.execute(
            "select live_version_id from public.agent_configs where organization_id = %s and id = %s",
            (organization_id, agent_id))).fetchone()
        if agent is None:
            raise NotFound("agent not found")
        version_id = agent["live_version_id"]
        if version is not None:
            row = await (await conn.execute("select id from public.agent_versions where agent_config_id = %s and number = %s",
                                            (agent_id, version))).fetchone()
            if row is None:
                raise InvalidInput(FieldError("version", f"this agent has no version {version}"))
            version_id = row["id"]
        codes = await _platforms(conn, organization_id, agent_id, platform)
        suite = await list_scenarios(conn, organization_id, agent_id)
        if not suite:
            raise Conflict("this agent has no scenarios yet; add some (or import a YAML file) first")
        row = await (await conn.execute(
            """
            insert into public.scenario_runs (organization_id, agent_config_id, agent_version_id, platforms, total, started_by)
            values (%s, %s, %s, %s, %s, auth.uid()) returning id
            """, (organization_id, agent_id, version_id, codes, len(suite) * len(codes)))).fetchone()
    return row["id"]


async def _hold(db: Database, claims: Claims, organization_id: UUID, agent_id: UUID, version_id: UUID,
                stored: StoredScenario, platform: str, source: ProviderSource, transfer_tools: set[str],
                judge: Judge | None) -> PairResult:
    scenario = stored.scenario
    base = {"scenario": scenario.name, "platform": platform}
    if scenario.needs_llm and judge is None:
        return PairResult(**base, outcome="not_run",
                          error="not run: a simulated caller is driven by an LLM, and none is configured for this organisation")
    try:
        conv = await conversations.start(db, claims, organization_id, agent_id, platform, source, version_id=version_id)
    except (SwitchboardError, InvalidInput) as exc:
        return PairResult(**base, outcome="error", error=str(exc))
    turns: list[Turn] = []
    stopped: str | None = None
    try:
        for scripted in scenario.turns:
            try:
                turns.append(await conversations.say(db, claims, organization_id, agent_id, conv.id, scripted.say, source))
            except Conflict as exc:
                stopped = str(exc)
                break
            except SwitchboardError as exc:
                return PairResult(**base, outcome="error", conversation_id=conv.id, error=str(exc),
                                  turn_latency_ms=[t.latency_ms for t in turns])
        held = await conversations.get(db, claims, organization_id, agent_id, conv.id)
    finally:
        await conversations.end(db, claims, organization_id, agent_id, conv.id, source)
    checks = await evaluate(turns, [t.expect for t in scenario.turns], scenario.checks, ended=held.status == "ended",
                            transfer_tools=transfer_tools, judge=judge)
    for i in range(len(turns) + 1, len(scenario.turns) + 1):  # turns the agent never got to
        for check in scenario.turns[i - 1].expect:
            checks.append(CheckResult(check=check.label(), kind=check.kind, turn=i, outcome="failed",
                                      message=f"turn {i}, {check.label()}: not reached ({stopped or 'the conversation ended'})"))
    costs = [t.cost for t in held.turns if t.cost is not None]
    return PairResult(**base, outcome="failed" if any(c.outcome == "failed" for c in checks) else "passed",
                      checks=checks, turn_latency_ms=[t.latency_ms for t in turns], conversation_id=conv.id,
                      cost=held.cost if held.cost is not None else (sum(costs, Decimal(0)) if costs else None))


async def execute_run(db: Database, claims: Claims, organization_id: UUID, run_id: UUID, source: ProviderSource, *,
                      on_progress: Progress | None = None, judge: Judge | None = None) -> list[PairResult]:
    async with db.as_user(claims) as conn:
        run = await (await conn.execute(
            """
            select r.*, o.scenario_concurrency, v.spec from public.scenario_runs r
            join public.organizations o on o.id = r.organization_id
            join public.agent_versions v on v.id = r.agent_version_id
            where r.organization_id = %s and r.id = %s
            """, (organization_id, run_id))).fetchone()
        if run is None:
            raise NotFound("scenario run not found")
        suite = await list_scenarios(conn, organization_id, run["agent_config_id"])
    agent_id, version_id = run["agent_config_id"], run["agent_version_id"]
    transfer_tools = {t.get("name") or "transfer_call" for t in run["spec"].get("tools") or [] if t.get("type") == "transfer"}
    limit = asyncio.Semaphore(run["scenario_concurrency"])
    pairs = [(s, p) for p in run["platforms"] for s in suite]
    results: list[PairResult] = []

    async def one(stored: StoredScenario, platform: str) -> None:
        async with limit:
            result = await _hold(db, claims, organization_id, agent_id, version_id, stored, platform, source,
                                 transfer_tools, judge)
        async with db.as_user(claims) as conn:
            await conn.execute(
                """
                insert into public.scenario_results (organization_id, run_id, scenario_id, scenario_name, platform,
                  conversation_id, outcome, checks, turn_latency_ms, cost_amount, error)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                """,
                (organization_id, run_id, stored.id, result.scenario, platform, result.conversation_id, result.outcome,
                 Jsonb([c.model_dump() for c in result.checks]), [round(x, 1) for x in result.turn_latency_ms],
                 result.cost, result.error))
            await conn.execute("update public.scenario_runs set done = done + 1, passed = passed + %s where id = %s",
                               (int(result.outcome == "passed"), run_id))
        results.append(result)
        if on_progress:
            on_progress(len(results), len(pairs), result)

    try:
        await asyncio.gather(*(one(s, p) for s, p in pairs))
    except Exception:
        async with db.as_user(claims) as conn:
            await conn.execute("update public.scenario_runs set status = 'error', finished_at = now(), "
                               "error = 'the run stopped on an internal error' where id = %s", (run_id,))
        raise
    status = "passed" if results and all(r.outcome == "passed" for r in results) else "failed"
    async with db.as_user(claims) as conn:
        await conn.execute("update public.scenario_runs set status = %s, finished_at = now() where id = %s", (status, run_id))
    return results


async def run_suite(db: Database, claims: Claims, organization_id: UUID, agent_id: UUID, source: ProviderSource, *,
                    platform: str | list[str] = ALL, version: int | None = None, on_progress: Progress | None = None,
                    judge: Judge | None = None) -> tuple[UUID, list[PairResult]]:
    run_id = await create_run(db, claims, organization_id, agent_id, platform=platform, version=version)
    return run_id, await execute_run(db, claims, organization_id, run_id, source, on_progress=on_progress, judge=judge)


