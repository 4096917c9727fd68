"""A/B comparison of an agent's traffic-split arms ("A/B test different platforms").

Per arm (`call_records.experiment_arm`, normally a platform code): calls, cost per minute,
average duration, success rate and share of positive sentiment; then a significance test for
each measure and a verdict in plain words. The figures come from `experiment_daily` (counts,
sums and sums of squares per day and arm, kept by triggers on call_records and provider_usage),
and the tests run on those (Welch's t-test from means and variances, chi-square on the success
and sentiment counts), so the cost grows with days × arms, not with calls. Days are UTC, as in
`switchboard.analytics`: the last `days` days up to today.

Runs on a connection from `db.as_user(claims)`: RLS decides which calls are visible.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import UUID

from psycopg import AsyncConnection
from pydantic import BaseModel
from scipy import stats

from switchboard.providers import registry

MIN_CALLS_PER_ARM = 30  # below this no test is attempted
ALPHA = 0.05


class ArmStats(BaseModel):
    arm: str
    calls: int
    minutes: float
    cost: float
    cost_per_minute: float | None
    cost_per_minute_sd: float | None  # per-call cost per minute, sample standard deviation
    avg_duration_seconds: float | None
    duration_sd: float | None
    judged_calls: int  # calls with a success verdict
    successes: int
    success_rate: float | None
    rated_calls: int  # calls with a sentiment
    positive: int
    positive_rate: float | None


class TestResult(BaseModel):
    measure: str  # "cost per minute", "duration", "success rate", "positive sentiment"
    test: str  # "Welch's t-test", "chi-square"
    p_value: float | None
    significant: bool
    better_arm: str | None  # the arm that is better on this measure, when significant
    note: str


class Comparison(BaseModel):
    agent_id: UUID | None
    start: date
    end: date
    arms: list[ArmStats]
    tests: list[TestResult]
    verdict: str


# Sample variance from sums: (Σx² − (Σx)²/n) / (n − 1), as stddev_samp over the calls would give.
_ARM_SQL = """
with arm as (
  select arm, sum(calls) as calls, sum(usage_seconds) as usage_seconds, sum(cost_amount) as cost,
         sum(cpm_n) as cpm_n, sum(cpm_sum) as cpm_sum, sum(cpm_sumsq) as cpm_sumsq,
         sum(dur_n) as dur_n, sum(dur_sum) as dur_sum, sum(dur_sumsq) as dur_sumsq,
         sum(judged) as judged, sum(successes) as successes, sum(rated) as rated, sum(positive) as positive
  from public.experiment_daily
  where organization_id = %(org)s and day between %(start)s and %(end)s
    and (%(agent)s::uuid is null or agent_config_id = %(agent)s::uuid)
  group by arm
)
select arm, calls, usage_seconds / 60.0 as minutes, cost,
       cpm_sum / nullif(cpm_n, 0) as cpm_mean,
       case when cpm_n > 1 then sqrt(greatest(0, (cpm_sumsq - cpm_sum * cpm_sum / cpm_n) / (cpm_n - 1))) end as cpm_sd,
       cpm_n,
       dur_sum::double precision / nullif(dur_n, 0) as dur_mean,
       case when dur_n > 1 then sqrt(greatest(0, (dur_sumsq - dur_sum::double precision * dur_sum / dur_n) / (dur_n - 1))) end
         as dur_sd,
       dur_n, judged, successes, rated, positive
from arm
where calls > 0
order by arm
"""


def _f(value) -> float | None:
    return None if value is None else float(value)


async def compare_arms(
    conn: AsyncConnection, organization_id: UUID, *, agent_id: UUID | None = None,
    days: int = 30, today: date | None = None,
) -> Comparison:
    if not 1 <= days <= 366:
        raise ValueError("days must be between 1 and 366")
    end = today or datetime.now(timezone.utc).date()
    start = end - timedelta(days=days - 1)
    cur = await conn.execute(_ARM_SQL, {"org": organization_id, "start": start, "end": end, "agent": agent_id})
    rows = await cur.fetchall()
    arms: list[ArmStats] = []
    raw: dict[str, dict] = {}
    for r in rows:
        raw[r["arm"]] = r
        judged, rated = int(r["judged"]), int(r["rated"])
        arms.append(ArmStats(
            arm=r["arm"], calls=int(r["calls"]), minutes=float(r["minutes"]), cost=float(r["cost"]),
            cost_per_minute=(float(r["cost"]) / float(r["minutes"])) if float(r["minutes"]) > 0 else None,
            cost_per_minute_sd=_f(r["cpm_sd"]),
            avg_duration_seconds=_f(r["dur_mean"]), duration_sd=_f(r["dur_sd"]),
            judged_calls=judged, successes=int(r["successes"]),
            success_rate=(int(r["successes"]) / judged) if judged else None,
            rated_calls=rated, positive=int(r["positive"]),
            positive_rate=(int(r["positive"]) / rated) if rated else None,
        ))
    tests = _tests(arms, raw) if len(arms) >= 2 else []
    return Comparison(agent_id=agent_id, start=start, end=end, arms=arms, tests=tests, verdict=verdict(arms, tests))


# --- tests ------------------------------------------------------------------------------------
def _welch(measure: str, a: ArmStats, b: ArmStats, ra: dict, rb: dict, mean: str, sd: str, n: str,
           *, lower_is_better: bool | None) -> TestResult:
    na, nb = int(ra[n] or 0), int(rb[n] or 0)
    ma, mb, sa, sb = _f(ra[mean]), _f(rb[mean]), _f(ra[sd]), _f(rb[sd])
    if min(na, nb) < MIN_CALLS_PER_ARM or None in (ma, mb, sa, sb):
        return TestResult(measure=measure, test="Welch's t-test", p_value=None, significant=False, better_arm=None,
                          note=f"not enough calls to test {measure}")
    if sa == 0 and sb == 0:
        p = 0.0 if ma != mb else 1.0
    else:
        p = float(stats.ttest_ind_from_stats(ma, sa, na, mb, sb, nb, equal_var=False).pvalue)
    significant = p < ALPHA
    better = None
    if significant and lower_is_better is not None:
        better = (a.arm if ma < mb else b.arm) if lower_is_better else (a.arm if ma > mb else b.arm)
    return TestResult(measure=measure, test="Welch's t-test", p_value=p, significant=significant, better_arm=better,
                      note=f"p {_p(p)}")


def _chi2(measure: str, a: ArmStats, b: ArmStats, hits: str, total: str) -> TestResult:
    ha, ta, hb, tb = getattr(a, hits), getattr(a, total), getattr(b, hits), getattr(b, total)
    if min(ta, tb) < MIN_CALLS_PER_ARM:
        return TestResult(measure=measure, test="chi-square", p_value=None, significant=False, better_arm=None,
                          note=f"not enough calls to test {measure}")
    table = [[ha, ta - ha], [hb, tb - hb]]
    if (ha + hb) in (0, ta + tb):  # every call the same outcome: nothing differs
        p = 1.0
    else:
        p = float(stats.chi2_contingency(table).pvalue)
    significant = p < ALPHA
    better = (a.arm if ha / ta > hb / tb else b.arm) if significant else None
    return TestResult(measure=measure, test="chi-square", p_value=p, significant=significant, better_arm=better,
                      note=f"p {_p(p)}")


def _tests(arms: list[ArmStats], raw: dict[str, dict]) -> list[TestResult]:
    # With more than two arms, compare the two busiest (the split's main contenders).
    a, b = sorted(sorted(arms, key=lambda s: s.arm), key=lambda s: -s.calls)[:2]
    ra, rb = raw[a.arm], raw[b.arm]
    return [
        _welch("cost per minute", a, b, ra, rb, "cpm_mean", "cpm_sd", "cpm_n", lower_is_better=True),
        _welch("duration", a, b, ra, rb, "dur_mean", "dur_sd", "dur_n", lower_is_better=None),
        _chi2("success rate", a, b, "successes", "judged_calls"),
        _chi2("positive sentiment", a, b, "positive", "rated_calls"),
    ]


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _name(arm: str) -> str:
    return registry.descriptor(arm).short_label if arm in registry.PLATFORMS else arm


def _winner(test: TestResult, arms: list[ArmStats], value: str) -> tuple[ArmStats, ArmStats] | None:
    """The arm `test` found significantly better and the arm it beat (the first other one with a
    `value`); None when the test found no better arm."""
    if not (test.significant and test.better_arm):
        return None
    better = {s.arm: s for s in arms}[test.better_arm]
    return better, next(s for s in arms if s.arm != better.arm and getattr(s, value) is not None)


def verdict(arms: list[ArmStats], tests: list[TestResult]) -> str:
    """One paragraph a person can act on."""
    if not arms:
        return "No A/B test has run: no calls carry an experiment arm yet. Set a traffic split on the agent to start one."
    if len(arms) == 1:
        return f"Only one arm ({_name(arms[0].arm)}) has calls so far; a comparison needs at least two."
    if all(t.p_value is None for t in tests):
        counts = ", ".join(f"{_name(s.arm)} {s.calls}" for s in arms)
        return (f"Not enough calls yet to tell the arms apart ({counts}); "
                f"each arm needs at least {MIN_CALLS_PER_ARM} calls.")
    parts: list[str] = []
    by_measure = {t.measure: t for t in tests}
    cost = by_measure["cost per minute"]
    if cheaper := _winner(cost, arms, "cost_per_minute"):
        cheap, other = cheaper
        diff = (other.cost_per_minute or 0) - (cheap.cost_per_minute or 0)
        pct = diff / other.cost_per_minute * 100 if other.cost_per_minute else 0
        parts.append(f"{_name(cheap.arm)} is cheaper: ${cheap.cost_per_minute:.4f} against "
                     f"${other.cost_per_minute:.4f} per minute ({pct:.0f} % less), a real difference ({cost.note}).")
    elif cost.p_value is not None:
        parts.append(f"Cost per minute does not differ significantly ({cost.note}).")
    success = by_measure["success rate"]
    if likelier := _winner(success, arms, "success_rate"):
        good, other = likelier
        parts.append(f"{_name(good.arm)} succeeds more often: {good.success_rate:.0%} against "
                     f"{other.success_rate:.0%} ({success.note}).")
    elif success.p_value is not None:
        parts.append(f"Success rates are about the same ({success.note}).")
    sentiment = by_measure["positive sentiment"]
    if sentiment.significant and sentiment.better_arm:
        parts.append(f"Callers are happier on {_name(sentiment.better_arm)} ({sentiment.note}).")
    duration = by_measure["duration"]
    if duration.significant:
        longer = max((s for s in arms if s.avg_duration_seconds is not None), key=lambda s: s.avg_duration_seconds)
        parts.append(f"Calls last longer on {_name(longer.arm)} (avg {longer.avg_duration_seconds:.0f} s, {duration.note}).")
    # The recommendation: cheaper wins unless it is significantly worse at succeeding.
    if cost.significant and cost.better_arm:
        if success.significant and success.better_arm and success.better_arm != cost.better_arm:
            parts.append(f"Trade-off: {_name(cost.better_arm)} saves money but {_name(success.better_arm)} "
                         "succeeds more; weigh the value of a successful call.")
        else:
            parts.append(f"Recommendation: move more traffic to {_name(cost.better_arm)}.")
    elif success.significant and success.better_arm:
        parts.append(f"Recommendation: move more traffic to {_name(success.better_arm)}.")
    else:
        parts.append("No arm is clearly better yet; keep the test running.")
    return " ".join(parts)
