"""A run's report and its scorecard: per platform (and the version it tested) the pass rate, the
failed checks, turn latency p50/p95 and the cost per conversation where the platform reported
one; and two runs side by side (platform vs platform, version vs version) with what changed
(`diff`: pass rate, the failed checks that differ, latency p50/p95, cost).

Costs: the mean over the conversations whose platform reported a cost (`priced` says how many);
none reported → None (unpriced), never $0."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from pydantic import BaseModel

from switchboard.errors import NotFound
from switchboard.scenarios import leases
from switchboard.scenarios.checks import CheckResult
from switchboard.scenarios.store import require_agent


class ResultRow(BaseModel):
    scenario: str
    platform: str
    outcome: str
    checks: list[CheckResult]
    turn_latency_ms: list[float]
    cost: Decimal | None = None
    conversation_id: UUID | None = None
    error: str | None = None


class PlatformScore(BaseModel):
    platform: str
    version: int
    scenarios: int
    passed: int
    pass_rate: float
    failed_checks: dict[str, int]  # "scenario: check" → how many times it failed
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    cost_per_conversation: Decimal | None
    priced: int


class RunListed(BaseModel):
    """A run and its progress (`done` of `total` conversations held)."""
    id: UUID
    version: int
    platforms: list[str]
    status: str
    total: int
    done: int
    passed: int
    started_at: datetime
    finished_at: datetime | None = None


class RunReport(RunListed):
    agent_id: UUID
    error: str | None = None
    scorecard: list[PlatformScore] = []
    results: list[ResultRow] = []


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) — the value a share q of the turns did not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return round(ordered[int(rank) - 1], 1)


def score(platform: str, version: int, rows: list[ResultRow]) -> PlatformScore:
    latencies = [x for r in rows for x in r.turn_latency_ms]
    costs = [r.cost for r in rows if r.cost is not None]
    failed = Counter(f"{r.scenario}: {c.check}" for r in rows for c in r.checks if c.outcome == "failed")
    failed.update(f"{r.scenario}: {r.error}" for r in rows if r.outcome in ("error", "not_run") and r.error)
    passed = sum(r.outcome == "passed" for r in rows)
    return PlatformScore(
        platform=platform, version=version, scenarios=len(rows), passed=passed,
        pass_rate=round(passed / len(rows), 4) if rows else 0.0, failed_checks=dict(failed),
        latency_p50_ms=percentile(latencies, 50), latency_p95_ms=percentile(latencies, 95),
        cost_per_conversation=(sum(costs, Decimal(0)) / len(costs)).quantize(Decimal("0.000001")) if costs else None,
        priced=len(costs),
    )


async def report(conn: AsyncConnection, organization_id: UUID, run_id: UUID) -> RunReport:
    column, params = leases.stale_column()
    run = await (await conn.execute(
        f"""
        select r.*, v.number as version, {column} from public.scenario_runs r
        join public.agent_versions v on v.id = r.agent_version_id
        where r.organization_id = %(org)s and r.id = %(run)s
        """, {**params, "org": organization_id, "run": run_id})).fetchone()
    if run is None:
        raise NotFound("scenario run not found")
    rows = await (await conn.execute(
        "select * from public.scenario_results where run_id = %s order by platform, scenario_name", (run_id,))).fetchall()
    results = [ResultRow(scenario=r["scenario_name"], platform=r["platform"], outcome=r["outcome"],
                         checks=[CheckResult.model_validate(c) for c in r["checks"]],
                         turn_latency_ms=[float(x) for x in r["turn_latency_ms"]], cost=r["cost_amount"],
                         conversation_id=r["conversation_id"], error=r["error"]) for r in rows]
    status, error = leases.shown(run)  # a run whose process died reads interrupted, in words
    card = [score(p, run["version"], [r for r in results if r.platform == p]) for p in run["platforms"]]
    return RunReport(id=run["id"], agent_id=run["agent_config_id"], version=run["version"], platforms=list(run["platforms"]),
                     status=status, total=run["total"], done=run["done"], passed=run["passed"], error=error,
                     started_at=run["started_at"], finished_at=run["finished_at"], scorecard=card, results=results)


def _pairs(a: RunReport, b: RunReport) -> tuple[dict[tuple[str, str], ResultRow], dict[tuple[str, str], ResultRow]]:
    """Each run's results keyed (scenario, platform) — or (scenario, "*") when each run tested one
    platform and they differ (platform against platform)."""
    if a.platforms != b.platforms and len(a.platforms) == len(b.platforms) == 1:
        return ({(r.scenario, "*"): r for r in a.results if r.platform == a.platforms[0]},
                {(r.scenario, "*"): r for r in b.results if r.platform == b.platforms[0]})
    return {(r.scenario, r.platform): r for r in a.results}, {(r.scenario, r.platform): r for r in b.results}


def compare(a: RunReport, b: RunReport) -> list[dict[str, Any]]:
    """What changed from run `a` to run `b`, per scenario and platform pair present in both
    (platforms matched by name, or the single platform of each when they differ)."""
    key_a, key_b = _pairs(a, b)
    changes = []
    for key in sorted(set(key_a) | set(key_b)):
        ra, rb = key_a.get(key), key_b.get(key)
        before, after = (ra.outcome if ra else None), (rb.outcome if rb else None)
        if before != after:
            changes.append({"scenario": key[0], "platform": key[1], "before": before, "after": after,
                            "failed_checks": [c.message for c in (rb.checks if rb else []) if c.outcome == "failed"]})
    return changes


class RunSummary(BaseModel):
    """A run over all its platforms: what a side of a comparison shows."""
    id: UUID
    version: int
    platforms: list[str]
    status: str
    started_at: datetime
    score: PlatformScore


class RunDiff(BaseModel):
    before: RunSummary
    after: RunSummary
    before_scorecard: list[PlatformScore]
    after_scorecard: list[PlatformScore]
    changes: list[dict[str, Any]]  # scenarios whose outcome changed (compare)
    newly_failed: list[str]  # "scenario: check" failing in the second run and not in the first
    fixed: list[str]  # failing in the first, not in the second
    pass_rate_change: float
    latency_p50_change_ms: float | None
    latency_p95_change_ms: float | None
    cost_change: Decimal | None  # per conversation; None unless both runs were priced


def _summary(run: RunReport) -> RunSummary:
    return RunSummary(id=run.id, version=run.version, platforms=run.platforms, status=run.status,
                      started_at=run.started_at, score=score(", ".join(run.platforms), run.version, run.results))


def _failing(keyed: dict[tuple[str, str], ResultRow]) -> set[str]:
    out = set()
    for (scenario, platform), r in keyed.items():
        where = scenario if platform == "*" else f"{platform} · {scenario}"
        out |= {f"{where}: {c.check}" for c in r.checks if c.outcome == "failed"}
        if r.outcome in ("error", "not_run") and r.error:
            out.add(f"{where}: {r.error}")
    return out


def _change(x: Any, y: Any) -> Any:
    return None if x is None or y is None else round(y - x, 6) if isinstance(x, Decimal) else round(y - x, 1)


def diff(a: RunReport, b: RunReport) -> RunDiff:
    """Two runs side by side (platform vs platform, version vs version): each one's pass rate,
    turn latency p50/p95 and cost per conversation, the changes between them, and which failed
    checks differ."""
    sa, sb = _summary(a), _summary(b)
    key_a, key_b = _pairs(a, b)
    fa, fb = _failing(key_a), _failing(key_b)
    return RunDiff(
        before=sa, after=sb, before_scorecard=a.scorecard, after_scorecard=b.scorecard, changes=compare(a, b),
        newly_failed=sorted(fb - fa), fixed=sorted(fa - fb),
        pass_rate_change=round(sb.score.pass_rate - sa.score.pass_rate, 4),
        latency_p50_change_ms=_change(sa.score.latency_p50_ms, sb.score.latency_p50_ms),
        latency_p95_change_ms=_change(sa.score.latency_p95_ms, sb.score.latency_p95_ms),
        cost_change=_change(sa.score.cost_per_conversation, sb.score.cost_per_conversation),
    )


async def list_runs(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, *, limit: int = 20) -> list[RunListed]:
    """The agent's latest runs, newest first (another organisation's agent: not found)."""
    await require_agent(conn, organization_id, agent_id)
    column, params = leases.stale_column()
    rows = await (await conn.execute(
        f"""
        select r.id, v.number as version, r.platforms, r.status, r.error, r.heartbeat_at, r.total, r.done, r.passed,
               r.started_at, r.finished_at, {column}
        from public.scenario_runs r join public.agent_versions v on v.id = r.agent_version_id
        where r.organization_id = %(org)s and r.agent_config_id = %(agent)s order by r.started_at desc, r.id limit %(limit)s
        """, {**params, "org": organization_id, "agent": agent_id, "limit": limit})).fetchall()
    # a run whose process died is listed as interrupted, as its report reads
    return [RunListed.model_validate({**r, "status": leases.shown(r)[0]}) for r in rows]
