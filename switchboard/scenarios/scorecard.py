"""A run's report and its scorecard: per platform (and the version it tested) the pass rate, the
failed checks, turn latency p50/p95 and the cost per conversation where the platform reported
one; and two runs side by side (platform vs platform, version vs version) with what changed.

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


class RunReport(BaseModel):
    id: UUID
    agent_id: UUID
    version: int
    platforms: list[str]
    status: str
    total: int
    done: int
    passed: int
    error: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
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


def compare(a: RunReport, b: RunReport) -> list[dict[str, Any]]:
    """What changed from run `a` to run `b`, per scenario and platform pair present in both
    (platforms matched by name, or the single platform of each when they differ)."""
    if a.platforms != b.platforms and len(a.platforms) == len(b.platforms) == 1:
        pa, pb = a.platforms[0], b.platforms[0]
        key_a = {(r.scenario, "*"): r for r in a.results if r.platform == pa}
        key_b = {(r.scenario, "*"): r for r in b.results if r.platform == pb}
    else:
        key_a = {(r.scenario, r.platform): r for r in a.results}
        key_b = {(r.scenario, r.platform): r for r in b.results}
    changes = []
    for key in sorted(set(key_a) | set(key_b)):
        ra, rb = key_a.get(key), key_b.get(key)
        before, after = (ra.outcome if ra else None), (rb.outcome if rb else None)
        if before != after:
            changes.append({"scenario": key[0], "platform": key[1], "before": before, "after": after,
                            "failed_checks": [c.message for c in (rb.checks if rb else []) if c.outcome == "failed"]})
    return changes
