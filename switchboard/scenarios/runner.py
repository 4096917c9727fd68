"""Running an agent's scenarios: each (scenario, platform) pair is one text conversation through
`switchboard.conversations` (the same path as the test panel), checked by `checks.evaluate`.

Invariants:
- a run tests one version (the live one when none is named), recorded on the run and on every
  conversation it holds, on the platforms asked for ("all": every platform the agent is
  configured on that this installation offers);
- at most the organisation's `scenario_concurrency` conversations are open at once, all its runs
  and processes together (a slot per open conversation, counted in Postgres: `leases`);
- a run lives in the database, not in the process executing it: its runner beats a heartbeat; a
  run whose runner died is shown interrupted, and executing it again (resume) keeps the stored
  results and holds only the conversations not stored;
- every pair's result is stored as it finishes (progress is `done`/`total` on the run): the
  conversation, each check's outcome and why it failed, each turn's latency, the reported cost;
- a platform that cannot hold the conversation (no key, down) is that pair's `error`, in our
  words — the other pairs still run; nothing an LLM judges decides a deterministic check;
- a simulated caller (the organisation's test LLM) talks after the scripted turns until it says
  its goal is met, the agent ends, or its turn limit; "the caller's goal is met" is then a check.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from uuid import UUID

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from switchboard import conversations
from switchboard.conversations import Conversation, Turn
from switchboard.conversations.service import MAX_TEXT
from switchboard.db import Database
from switchboard.errors import Conflict, FieldError, InvalidInput, NotFound, SwitchboardError
from switchboard.inbound import ProviderSource
from switchboard.scenarios import leases
from switchboard.scenarios.checks import CheckResult, evaluate
from switchboard.scenarios.llm import ScenarioLLM, for_organization
from switchboard.scenarios.model import SimulatedCaller
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


async def _simulate(db: Database, claims: Claims, organization_id: UUID, agent_id: UUID, conv: Conversation,
                    caller: SimulatedCaller, turns: list[Turn], source: ProviderSource, llm: ScenarioLLM) -> CheckResult:
    """The simulated caller talks (after any scripted turns) until it says its goal is met, the
    agent ends the conversation, or `max_turns`; `turns` grows. The outcome: was the goal met."""
    history = [("agent", t.reply) for t in conv.turns if t.seq == 0]
    history += [(who, text or "") for t in turns for who, text in (("caller", t.text), ("agent", t.reply))]

    def goal(why: str | None) -> CheckResult:
        return CheckResult(check="the caller's goal is met", kind="goal", outcome="failed" if why else "passed",
                           message=f"the caller's goal is met: {why}" if why else None)

    ended = bool(turns and turns[-1].ended)
    for _ in range(caller.max_turns):
        text = await llm.caller_turn(caller, history, ended=ended)
        if text is None:
            return goal(None)
        if ended:
            return goal(f"the agent ended the conversation first; the caller said {text!r}")
        try:
            turn = await conversations.say(db, claims, organization_id, agent_id, conv.id, text[:MAX_TEXT], source)
        except Conflict:  # ended between turns
            ended = True
            continue
        turns.append(turn)
        history += [("caller", text), ("agent", turn.reply)]
        ended = turn.ended
    if ended:  # the agent's last reply ended it: one more look from the caller
        text = await llm.caller_turn(caller, history, ended=True)
        return goal(None if text is None else f"the agent ended the conversation first; the caller said {text!r}")
    last = f"; the last reply was {turns[-1].reply!r}" if turns else ""
    return goal(f"not met within {caller.max_turns} turns of the simulated caller{last}")


async def _hold(db: Database, claims: Claims, organization_id: UUID, agent_id: UUID, version_id: UUID,
                stored: StoredScenario, platform: str, source: ProviderSource, transfer_tools: set[str],
                llm: ScenarioLLM | None) -> PairResult:
    scenario = stored.scenario
    base = {"scenario": scenario.name, "platform": platform}
    if scenario.needs_llm and llm is None:
        return PairResult(**base, outcome="not_run",
                          error="not run: a simulated caller is driven by an LLM, and none is configured for this organisation")
    try:
        conv = await conversations.start(db, claims, organization_id, agent_id, platform, source, version_id=version_id)
    except (SwitchboardError, InvalidInput) as exc:
        return PairResult(**base, outcome="error", error=str(exc))
    turns: list[Turn] = []
    stopped: str | None = None
    extra: list[CheckResult] = []
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
        if scenario.caller is not None and llm is not None and stopped is None:
            try:
                extra.append(await _simulate(db, claims, organization_id, agent_id, conv, scenario.caller, turns, source, llm))
            except SwitchboardError as exc:  # the caller's LLM or the platform failed mid-way
                return PairResult(**base, outcome="error", conversation_id=conv.id, turn_latency_ms=[t.latency_ms for t in turns],
                                  error=f"the simulated caller could not go on: {exc}")
        held = await conversations.get(db, claims, organization_id, agent_id, conv.id)
    finally:
        await conversations.end(db, claims, organization_id, agent_id, conv.id, source)
    checks = await evaluate(turns, [t.expect for t in scenario.turns], scenario.checks, ended=held.status == "ended",
                            transfer_tools=transfer_tools, judge=llm.judge if llm else None) + extra
    for i in range(len(turns) + 1, len(scenario.turns) + 1):  # turns the agent never got to
        for check in scenario.turns[i - 1].expect:
            checks.append(CheckResult(check=check.label(), kind=check.kind, turn=i, outcome="failed",
                                      message=f"turn {i}, {check.label()}: not reached ({stopped or 'the conversation ended'})"))
    costs = [t.cost for t in held.turns if t.cost is not None]
    return PairResult(**base, outcome=_outcome(checks),
                      checks=checks, turn_latency_ms=[t.latency_ms for t in turns], conversation_id=conv.id,
                      cost=held.cost if held.cost is not None else (sum(costs, Decimal(0)) if costs else None))


def _outcome(checks: list[CheckResult]) -> str:
    """Failed if a check failed; else not run if one was not run (an unjudged rubric never passes)."""
    outcomes = {c.outcome for c in checks}
    return "failed" if "failed" in outcomes else "not_run" if "not_run" in outcomes else "passed"


async def execute_run(db: Database, claims: Claims, organization_id: UUID, run_id: UUID, source: ProviderSource, *,
                      on_progress: Progress | None = None, runner_token: UUID | None = None) -> list[PairResult]:
    """Hold the run's conversations not stored yet (all of a new run's); rubrics and simulated
    callers use the organisation's test LLM (`scenarios.llm`), if it configured one.
    `runner_token`: the run was already taken over (`leases.take_over`, as a resume does); else
    this takes it."""
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
        kept = await _stored_pairs(conn, run_id)
    token = runner_token or await leases.take_over(db, claims, organization_id, run_id)
    agent_id, version_id = run["agent_config_id"], run["agent_version_id"]
    transfer_tools = {t.get("name") or "transfer_call" for t in run["spec"].get("tools") or [] if t.get("type") == "transfer"}
    pairs = [(s, p) for p in run["platforms"] for s in suite if (s.scenario.name, p) not in kept]
    results: list[PairResult] = []
    llm = await for_organization(db, organization_id) if any(s.scenario.needs_llm or s.scenario.has_rubric for s in suite) else None

    async def one(stored: StoredScenario, platform: str) -> None:
        async with leases.slot(db, claims, organization_id, run_id, token):
            result = await _hold(db, claims, organization_id, agent_id, version_id, stored, platform, source,
                                 transfer_tools, llm)
        await _store(db, claims, organization_id, run_id, token, stored.id, result)
        results.append(result)
        if on_progress:
            on_progress(len(results), len(pairs), result)

    try:
        async with leases.beating(db, claims, run_id, token):
            await asyncio.gather(*(one(s, p) for s, p in pairs))
    except Exception:
        async with db.as_user(claims) as conn:
            await conn.execute("update public.scenario_runs set status = 'error', finished_at = now(), "
                               "error = 'the run stopped on an internal error' where id = %s and runner_token = %s",
                               (run_id, token))
        raise
    finally:
        if llm is not None:
            await llm.aclose()
    async with db.as_user(claims) as conn:  # the stored results decide (a resumed run's earlier ones too)
        await conn.execute("update public.scenario_runs set status = case when passed = total and done = total then 'passed' "
                           "else 'failed' end, finished_at = now() where id = %s and runner_token = %s", (run_id, token))
    return results


async def _stored_pairs(conn, run_id: UUID) -> set[tuple[str, str]]:
    rows = await (await conn.execute("select scenario_name, platform from public.scenario_results where run_id = %s",
                                     (run_id,))).fetchall()
    return {(r["scenario_name"], r["platform"]) for r in rows}


async def _store(db: Database, claims: Claims, organization_id: UUID, run_id: UUID, token: UUID, scenario_id: UUID,
                 result: PairResult) -> None:
    """One pair's result and the run's progress — only while this runner still owns the run."""
    async with db.as_user(claims) as conn:
        row = await (await conn.execute(
            """
            insert into public.scenario_results (organization_id, run_id, scenario_id, scenario_name, platform,
              conversation_id, outcome, checks, turn_latency_ms, cost_amount, error)
            select %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s
            where exists (select 1 from public.scenario_runs where id = %s and runner_token = %s)
            on conflict (run_id, scenario_name, platform) do nothing returning id
            """,
            (organization_id, run_id, scenario_id, result.scenario, result.platform, result.conversation_id, result.outcome,
             Jsonb([c.model_dump() for c in result.checks]), [round(x, 1) for x in result.turn_latency_ms],
             result.cost, result.error, run_id, token))).fetchone()
        if row is not None:
            await conn.execute("update public.scenario_runs set done = done + 1, passed = passed + %s, heartbeat_at = now() "
                               "where id = %s", (int(result.outcome == "passed"), run_id))


async def run_suite(db: Database, claims: Claims, organization_id: UUID, agent_id: UUID, source: ProviderSource, *,
                    platform: str | list[str] = ALL, version: int | None = None, on_progress: Progress | None = None,
                    ) -> tuple[UUID, list[PairResult]]:
    run_id = await create_run(db, claims, organization_id, agent_id, platform=platform, version=version)
    return run_id, await execute_run(db, claims, organization_id, run_id, source, on_progress=on_progress)


