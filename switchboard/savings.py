"""Money-saving recommendations from an organisation's own calls (the product's "recommendations to
save money"): "these N calls on X would have cost $Y less on Z".

For each platform the organisation used in the window, its minutes are re-priced at every other
platform's one per-minute price (`switchboard.pricing.platform_prices`, the figure every page
shows): what the organisation's own calls on that platform cost per minute in the same window
when it has priced calls there, otherwise the platform's list price. The sentence says which
("at what your LiveKit calls cost, $0.0409/min over the last 30 days" or "at LiveKit's list price
of $0.0450/min"). A platform with neither figure is not estimated (never at $0). Platforms that
cannot serve the organisation's agents (a custom voice on a platform without custom voices) are
not recommended. Reads `usage_daily`, so the cost does not grow with the number of calls.

Runs on a connection from `db.as_user(claims)`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import UUID

from psycopg import AsyncConnection
from pydantic import BaseModel

from switchboard import pricing

COMPONENTS = ("platform", "stt", "llm", "tts", "telephony")
MIN_SAVING_USD = 0.50
MIN_SAVING_SHARE = 0.05


class Saving(BaseModel):
    from_provider: str
    from_name: str
    to_provider: str
    to_name: str
    calls: int
    minutes: float
    actual_cost: float
    estimated_cost: float
    saving: float
    saving_share: float  # of the actual cost
    to_price_per_minute: float
    borrowed_components: list[str]  # kept for the API's shape: always [] (one all-in price per minute)
    borrowed_basis: str  # the price used: "measured" (your calls on it, in the window) or "list"
    sentence: str


_USAGE_SQL = """
select p.code, p.name, sum(d.calls) as calls, sum(d.duration_seconds) / 60.0 as minutes,
       sum(d.cost_amount) as cost, sum(d.platform_cost) as platform, sum(d.stt_cost) as stt,
       sum(d.llm_cost) as llm, sum(d.tts_cost) as tts, sum(d.telephony_cost) as telephony
from public.usage_daily d
join public.voice_ai_providers p on p.id = d.provider_id
where d.organization_id = %s and d.day between %s and %s
group by p.code, p.name
order by p.code
"""

_PRICES_SQL = """
select distinct on (b.subject, b.component) b.subject, b.component, b.usd_per_unit
from public.price_book b
join public.voice_ai_providers p on p.code = b.subject and p.is_active
where b.unit = 'minute' and b.effective_from <= %s
order by b.subject, b.component, b.effective_from desc
"""


async def per_minute_prices(conn: AsyncConnection, on: date | None = None) -> dict[str, dict[str, float]]:
    """platform code → component → USD per minute, as in force on `on` (today by default)."""
    cur = await conn.execute(_PRICES_SQL, (on or datetime.now(timezone.utc).date(),))
    prices: dict[str, dict[str, float]] = {}
    for r in await cur.fetchall():
        prices.setdefault(r["subject"], {})[r["component"]] = float(r["usd_per_unit"])
    return prices


async def _platforms(conn: AsyncConnection) -> dict[str, dict]:
    cur = await conn.execute(
        "select code, name, supports_custom_voices, cost_per_minute, "
        "coalesce((capabilities->>'byo_pipeline')::boolean, false) as byo "
        "from public.voice_ai_providers where is_active order by code"
    )
    return {r["code"]: r for r in await cur.fetchall()}


async def _needs_custom_voice(conn: AsyncConnection, organization_id: UUID) -> bool:
    cur = await conn.execute(
        "select exists(select 1 from public.agent_configs where organization_id = %s "
        "and coalesce((voice->>'custom')::boolean, false)) as custom",
        (organization_id,),
    )
    return bool((await cur.fetchone())["custom"])


async def recommendations(conn: AsyncConnection, organization_id: UUID, *, days: int = 30,
                          today: date | None = None) -> list[Saving]:
    """The best cheaper alternative for each platform used, biggest saving first."""
    start, end = pricing.window(days, today)
    cur = await conn.execute(_USAGE_SQL, (organization_id, start, end))
    usage = await cur.fetchall()
    if not usage:
        return []
    prices = await pricing.platform_prices(conn, organization_id, days=days, today=end)
    platforms = await _platforms(conn)
    custom = await _needs_custom_voice(conn, organization_id)
    found: list[Saving] = []
    for u in usage:
        minutes, actual = float(u["minutes"]), float(u["cost"])
        if minutes <= 0 or actual <= 0:
            continue
        best: Saving | None = None
        for code, platform in platforms.items():
            price = prices.get(code)
            if code == u["code"] or price is None:
                continue
            if custom and not platform["supports_custom_voices"]:
                continue
            basis = "measured" if price.measured is not None else "list"
            per_minute = price.measured if price.measured is not None else price.list_price
            if per_minute is None:
                continue  # no price to estimate with: no estimate rather than a wrong one
            estimated = float(per_minute) * minutes
            saving = actual - estimated
            if saving < MIN_SAVING_USD or saving / actual < MIN_SAVING_SHARE:
                continue
            if best is None or saving > best.saving:
                best = Saving(
                    from_provider=u["code"], from_name=u["name"], to_provider=code, to_name=platform["name"],
                    calls=int(u["calls"]), minutes=round(minutes, 2), actual_cost=round(actual, 2),
                    estimated_cost=round(estimated, 2), saving=round(saving, 2),
                    saving_share=round(saving / actual, 4), to_price_per_minute=float(per_minute),
                    borrowed_components=[], borrowed_basis=basis, sentence="",
                )
        if best:
            best.sentence = _sentence(best, days)
            found.append(best)
    return sorted(found, key=lambda s: -s.saving)


def _sentence(s: Saving, days: int) -> str:
    price = pricing.per_minute(s.to_price_per_minute)
    at = (f"at what your {s.to_name} calls cost, {price} over the last {days} days"
          if s.borrowed_basis == "measured" else f"at {s.to_name}'s list price of {price}")
    return (f"These {s.calls:,} calls on {s.from_name} in the last {days} days ({s.minutes:,.0f} minutes) would have "
            f"cost ${s.saving:,.2f} less on {s.to_name} (${s.estimated_cost:,.2f} instead of ${s.actual_cost:,.2f}, "
            f"{s.saving_share:.0%} less, {at}).")
