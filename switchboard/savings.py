"""Money-saving recommendations from an organisation's own calls (seed 000's "recommendations to
save money"): "these N calls on X would have cost $Y less on Z".

For each platform the organisation used in the window, its minutes are re-priced at every other
platform's per-minute prices in force today (`price_book`: the row with the latest
`effective_from` on or before the day, per component). A component another platform does not
sell per minute (LiveKit's STT, LLM and TTS come from vendors you choose) is priced at what the
organisation actually paid for it per minute on X, and the recommendation says so. Platforms
that cannot serve the organisation's agents (a custom voice on a platform without custom voices)
are not recommended. Reads `usage_daily`, so the cost does not grow with the number of calls.

Runs on a connection from `db.as_user(claims)`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from uuid import UUID

from psycopg import AsyncConnection
from pydantic import BaseModel

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
    borrowed_components: list[str]  # priced at what the organisation pays now
    sentence: str


_USAGE_SQL = """
select p.code, p.name, sum(d.calls) as calls, sum(d.duration_seconds) / 60.0 as minutes,
       sum(d.cost_amount) as cost, sum(d.platform_cost) as platform, sum(d.stt_cost) as stt,
       sum(d.llm_cost) as llm, sum(d.tts_cost) as tts, sum(d.telephony_cost) as telephony
from public.usage_daily d
join public.voice_ai_providers p on p.id = d.provider_id
where d.organization_id = %s and d.day >= %s
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
        "select code, name, supports_custom_voices, coalesce((capabilities->>'byo_pipeline')::boolean, false) as byo "
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
    today = today or datetime.now(timezone.utc).date()
    cur = await conn.execute(_USAGE_SQL, (organization_id, today - timedelta(days=days)))
    usage = await cur.fetchall()
    if not usage:
        return []
    prices = await per_minute_prices(conn, today)
    platforms = await _platforms(conn)
    custom = await _needs_custom_voice(conn, organization_id)
    found: list[Saving] = []
    for u in usage:
        minutes, actual = float(u["minutes"]), float(u["cost"])
        if minutes <= 0 or actual <= 0:
            continue
        paid_per_minute = {c: float(u[c]) / minutes for c in COMPONENTS}
        best: Saving | None = None
        for code, platform in platforms.items():
            if code == u["code"] or code not in prices:
                continue
            if custom and not platform["supports_custom_voices"]:
                continue
            own = prices[code]
            # A component a platform does not price is included in its other prices (SignalWire's
            # bundle, Retell's STT), unless the platform leaves STT/LLM/TTS to vendors you pick
            # (LiveKit): then it is priced at what you pay for it now.
            borrowed = [c for c in ("stt", "llm", "tts") if c not in own] if platform["byo"] else []
            per_minute = sum(own.values()) + sum(paid_per_minute[c] for c in borrowed)
            estimated = per_minute * minutes
            saving = actual - estimated
            if saving < MIN_SAVING_USD or saving / actual < MIN_SAVING_SHARE:
                continue
            if best is None or saving > best.saving:
                best = Saving(
                    from_provider=u["code"], from_name=u["name"], to_provider=code, to_name=platform["name"],
                    calls=int(u["calls"]), minutes=round(minutes, 2), actual_cost=round(actual, 2),
                    estimated_cost=round(estimated, 2), saving=round(saving, 2),
                    saving_share=round(saving / actual, 4), to_price_per_minute=round(per_minute, 4),
                    borrowed_components=borrowed, sentence="",
                )
        if best:
            best.sentence = _sentence(best, days)
            found.append(best)
    return sorted(found, key=lambda s: -s.saving)


def _sentence(s: Saving, days: int) -> str:
    text = (f"These {s.calls:,} calls on {s.from_name} in the last {days} days ({s.minutes:,.0f} minutes) would have "
            f"cost ${s.saving:,.2f} less on {s.to_name} (${s.estimated_cost:,.2f} instead of ${s.actual_cost:,.2f}, "
            f"{s.saving_share:.0%} less, at ${s.to_price_per_minute:.4f} per minute).")
    if s.borrowed_components:
        parts = ", ".join(c.upper() for c in s.borrowed_components)
        text += f" {s.to_name}'s {parts} priced at what you pay for them now."
    return text
