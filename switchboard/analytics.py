"""The cost dashboard's queries. They read `usage_daily` (kept by a trigger on provider_usage),
so their cost grows with days × providers, not with calls. Run them under `db.as_user(claims)`:
RLS limits them to the caller's organisations; the explicit organisation filter picks one.
Days are UTC, as `provider_usage.usage_date`."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import UUID

from psycopg import AsyncConnection

from switchboard.models import (
    ComponentBreakdown,
    ComponentCost,
    DailyCost,
    DailyCostSeries,
    ProviderComponents,
    ProviderCostPerMinute,
    ProviderDailyCosts,
    ProviderLatency,
    SpendSummary,
)

COMPONENTS = ("stt", "llm", "tts", "platform", "telephony")


def _today(today: date | None) -> date:
    return today or datetime.now(timezone.utc).date()


def _money(value) -> float:
    return round(float(value or 0), 6)


def _window(days: int, today: date | None) -> tuple[date, date]:
    if not 1 <= days <= 366:
        raise ValueError("days must be between 1 and 366")
    end = _today(today)
    return end - timedelta(days=days - 1), end


async def spend_this_month(conn: AsyncConnection, organization_id: UUID, *, today: date | None = None) -> SpendSummary:
    """Spend so far this month, and last month's (whole, and to the same day) for a trend."""
    as_of = _today(today)
    month_start = as_of.replace(day=1)
    last_start = (month_start - timedelta(days=1)).replace(day=1)
    # the same day of last month, clamped to its length (31 March → 28/29 February)
    last_same_day = min(as_of.day, (month_start - timedelta(days=1)).day)
    last_to_date_end = last_start.replace(day=last_same_day)
    cur = await conn.execute(
        """
        select
          coalesce(sum(cost_amount) filter (where day >= %(month)s), 0) as this_month,
          coalesce(sum(calls) filter (where day >= %(month)s), 0) as calls,
          coalesce(sum(unpriced_calls) filter (where day >= %(month)s), 0) as unpriced,
          coalesce(sum(duration_seconds) filter (where day >= %(month)s), 0) as seconds,
          coalesce(sum(cost_amount) filter (where day < %(month)s), 0) as last_month,
          coalesce(sum(cost_amount) filter (where day < %(month)s and day <= %(last_to)s), 0) as last_to_date
        from public.usage_daily
        where organization_id = %(org)s and day >= %(last)s and day <= %(as_of)s
        """,
        {"org": organization_id, "month": month_start, "last": last_start, "last_to": last_to_date_end, "as_of": as_of},
    )
    r = await cur.fetchone()
    this_month, base = _money(r["this_month"]), _money(r["last_to_date"])
    return SpendSummary(
        month_start=month_start, as_of=as_of, this_month=this_month, calls_this_month=int(r["calls"]),
        minutes_this_month=round(float(r["seconds"]) / 60, 2), last_month=_money(r["last_month"]),
        last_month_to_date=base,
        change_vs_last_month_pct=round((this_month - base) / base * 100, 1) if base > 0 else None,
        unpriced_calls_this_month=int(r["unpriced"]),
    )


async def cost_per_provider_per_day(
    conn: AsyncConnection, organization_id: UUID, *, days: int = 30, today: date | None = None
) -> DailyCostSeries:
    """One series per platform that had calls in the window, one point per day (zeros filled)."""
    start, end = _window(days, today)
    cur = await conn.execute(
        """
        select p.code, p.name, u.day, sum(u.cost_amount) as cost, sum(u.calls) as calls,
               sum(u.duration_seconds) as seconds
        from public.usage_daily u join public.voice_ai_providers p on p.id = u.provider_id
        where u.organization_id = %s and u.day between %s and %s
        group by p.code, p.name, u.day
        """,
        (organization_id, start, end),
    )
    rows = await cur.fetchall()
    all_days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    by_provider: dict[str, dict] = {}
    for r in rows:
        entry = by_provider.setdefault(r["code"], {"name": r["name"], "days": {}})
        entry["days"][r["day"]] = r
    series = []
    for code, entry in by_provider.items():
        points = []
        for d in all_days:
            r = entry["days"].get(d)
            points.append(DailyCost(day=d, cost=_money(r["cost"]) if r else 0.0, calls=int(r["calls"]) if r else 0,
                                    minutes=round(float(r["seconds"]) / 60, 2) if r else 0.0))
        series.append(ProviderDailyCosts(provider_code=code, provider_name=entry["name"],
                                         total=round(sum(p.cost for p in points), 6), points=points))
    series.sort(key=lambda s: (-s.total, s.provider_code))
    return DailyCostSeries(start=start, end=end, days=all_days, providers=series)


async def component_breakdown(
    conn: AsyncConnection, organization_id: UUID, *, days: int = 30, today: date | None = None
) -> ComponentBreakdown:
    """What the money went on (STT / LLM / TTS / platform / telephony), overall and per platform."""
    start, end = _window(days, today)
    cur = await conn.execute(
        """
        select p.code, p.name, sum(u.stt_cost) as stt, sum(u.llm_cost) as llm, sum(u.tts_cost) as tts,
               sum(u.platform_cost) as platform, sum(u.telephony_cost) as telephony, sum(u.cost_amount) as total
        from public.usage_daily u join public.voice_ai_providers p on p.id = u.provider_id
        where u.organization_id = %s and u.day between %s and %s
        group by p.code, p.name
        order by sum(u.cost_amount) desc, p.code
        """,
        (organization_id, start, end),
    )
    providers = [
        ProviderComponents(provider_code=r["code"], provider_name=r["name"], total=_money(r["total"]),
                           **{c: _money(r[c]) for c in COMPONENTS})
        for r in await cur.fetchall()
    ]
    sums = {c: round(sum(getattr(p, c) for p in providers), 6) for c in COMPONENTS}
    total = round(sum(sums.values()), 6)
    return ComponentBreakdown(
        start=start, end=end, total=total, providers=providers,
        components=[ComponentCost(component=c, cost=sums[c], share=round(sums[c] / total, 4) if total else 0.0)
                    for c in COMPONENTS],
    )


async def cost_per_minute_by_provider(
    conn: AsyncConnection, organization_id: UUID, *, days: int = 30, today: date | None = None
) -> list[ProviderCostPerMinute]:
    """Measured cost per minute of each platform (cheapest first), beside its list price: both
    from `switchboard.pricing.platform_prices`, the one source of per-minute prices."""
    from switchboard import pricing

    _, end = _window(days, today)
    result = [
        ProviderCostPerMinute(
            provider_code=p.code, provider_name=p.name, calls=p.calls, minutes=p.minutes, cost=_money(p.cost),
            cost_per_minute=round(float(p.measured), 6) if p.measured is not None else None,
            list_price_per_minute=float(p.list_price) if p.list_price is not None else None,
        )
        for p in (await pricing.platform_prices(conn, organization_id, days=days, today=end)).values()
    ]
    result.sort(key=lambda x: (x.cost_per_minute is None, x.cost_per_minute or 0, x.provider_code))
    return result


# latency_daily's buckets (migration …100100): bucket b holds (GAMMA^(b-1), GAMMA^b] ms; a
# bucket read back as its midpoint is within 2.5 % of any value in it.
LATENCY_GAMMA = 1.05


def _bucket_ms(bucket: int) -> float:
    return 1.0 if bucket <= 0 else round(2 * LATENCY_GAMMA ** bucket / (LATENCY_GAMMA + 1), 1)


def _median_bucket(counts: list[tuple[int, int]]) -> float | None:
    total = sum(n for _b, n in counts)
    seen = 0
    for bucket, n in sorted(counts):
        seen += n
        if seen * 2 >= total > 0:
            return _bucket_ms(bucket)
    return None


async def latency_by_provider(
    conn: AsyncConnection, organization_id: UUID, *, days: int = 30, today: date | None = None
) -> list[ProviderLatency]:
    """Each platform's answer latency over the window (fastest first): the median of its calls'
    e2e p50 and p90, from the `latency_daily` histogram, and the average of their parts' p50,
    from `latency_parts_daily` — days × platforms × buckets rows, however many calls. Both are
    summed before the platform's name is joined, so the join reads a few hundred rows."""
    start, end = _window(days, today)
    args = {"org": organization_id, "start": start, "end": end}
    cur = await conn.execute(
        """
        select p.code, p.name, h.measure, h.bucket, h.calls
        from (select provider_id, measure, bucket, sum(calls) as calls from public.latency_daily
              where organization_id = %(org)s and day between %(start)s and %(end)s
              group by provider_id, measure, bucket) h
        join public.voice_ai_providers p on p.id = h.provider_id
        where h.calls > 0
        """,
        args,
    )
    histograms: dict[str, dict[str, list[tuple[int, int]]]] = {}
    names: dict[str, str] = {}
    for r in await cur.fetchall():
        names[r["code"]] = r["name"]
        histograms.setdefault(r["code"], {}).setdefault(r["measure"], []).append((r["bucket"], int(r["calls"])))
    cur = await conn.execute(
        """
        select p.code, p.name, s.part, s.calls, s.sum_ms
        from (select provider_id, part, sum(calls) as calls, sum(sum_ms) as sum_ms from public.latency_parts_daily
              where organization_id = %(org)s and day between %(start)s and %(end)s
              group by provider_id, part) s
        join public.voice_ai_providers p on p.id = s.provider_id
        where s.calls > 0
        """,
        args,
    )
    averages: dict[str, dict[str, float]] = {}
    for r in await cur.fetchall():
        names[r["code"]] = r["name"]
        averages.setdefault(r["code"], {})[f"{r['part']}_avg_ms"] = round(float(r["sum_ms"]) / int(r["calls"]), 1)
    result = []
    for code, name in names.items():
        measures = histograms.get(code, {})
        result.append(ProviderLatency(
            provider_code=code, provider_name=name, calls=sum(n for _b, n in measures.get("e2e_p50", [])),
            e2e_p50_ms=_median_bucket(measures.get("e2e_p50", [])), e2e_p90_ms=_median_bucket(measures.get("e2e_p90", [])),
            **averages.get(code, {}),
        ))
    result.sort(key=lambda x: (x.e2e_p50_ms is None, x.e2e_p50_ms or 0, x.provider_code))
    return result
