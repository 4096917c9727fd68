"""Money-saving recommendations from an organisation's own calls (seed 000's "recommendations to
save money"): "these N calls on X would have cost $Y less on Z".

For each platform the organisation used in the window, its minutes are re-priced at every other
platform's per-minute prices in force today (`price_book`: the row with the latest
`effective_from` on or before the day, per component). A platform that leaves STT, LLM and TTS
to vendors you choose (LiveKit, `byo_pipeline`) has those priced at what they cost the
organisation per minute on that platform in the window, or, without calls there, at the
platform's typical all-in price less its own per-minute rows; the recommendation says which.
(Never at what they cost on X: a bundled platform such as SignalWire reports them as zero.) Platforms
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
    borrowed_components: list[str]  # the platform's STT/LLM/TTS, which it leaves to your vendors
    borrowed_basis: str  # "measured": your own calls on it; "typical": its typical all-in price
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
    today = today or datetime.now(timezone.utc).date()
    cur = await conn.execute(_USAGE_SQL, (organization_id, today - timedelta(days=days)))
    usage = await cur.fetchall()
    if not usage:
        return []
    prices = await per_minute_prices(conn, today)
    platforms = await _platforms(conn)
    custom = await _needs_custom_voice(conn, organization_id)
    by_code = {u["code"]: u for u in usage}
    found: list[Saving] = []
    for u in usage:
        minutes, actual = float(u["minutes"]), float(u["cost"])
        if minutes <= 0 or actual <= 0:
            continue
        best: Saving | None = None
        for code, platform in platforms.items():
            if code == u["code"] or code not in prices:
                continue
            if custom and not platform["supports_custom_voices"]:
                continue
            own = prices[code]
            # A component a platform does not price is included in its other prices (SignalWire's
            # bundle, Retell's STT), unless the platform leaves STT/LLM/TTS to vendors you pick.
            borrowed = [c for c in ("stt", "llm", "tts") if c not in own] if platform["byo"] else []
            pipeline, basis = (_pipeline_per_minute(by_code.get(code), platform, own, borrowed)
                               if borrowed else (0.0, ""))
            if pipeline is None:
                continue  # nothing to price the pipeline with: no estimate rather than a wrong one
            per_minute = sum(own.values()) + pipeline
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
                    borrowed_components=borrowed, borrowed_basis=basis, sentence="",
                )
        if best:
            best.sentence = _sentence(best, days)
            found.append(best)
    return sorted(found, key=lambda s: -s.saving)


def _pipeline_per_minute(used: dict | None, platform: dict, own: dict[str, float],
                         borrowed: list[str]) -> tuple[float | None, str]:
    """USD per minute of the components a bring-your-own platform leaves to your vendors."""
    if used is not None and float(used["minutes"]) > 0:
        return sum(float(used[c]) for c in borrowed) / float(used["minutes"]), "measured"
    if platform["cost_per_minute"] is not None:
        return max(0.0, float(platform["cost_per_minute"]) - sum(own.values())), "typical"
    return None, ""


def _sentence(s: Saving, days: int) -> str:
    text = (f"These {s.calls:,} calls on {s.from_name} in the last {days} days ({s.minutes:,.0f} minutes) would have "
            f"cost ${s.saving:,.2f} less on {s.to_name} (${s.estimated_cost:,.2f} instead of ${s.actual_cost:,.2f}, "
            f"{s.saving_share:.0%} less, at ${s.to_price_per_minute:.4f} per minute).")
    if s.borrowed_components:
        parts = ", ".join(c.upper() for c in s.borrowed_components)
        text += (f" {s.to_name}'s {parts} priced at what they cost you on {s.to_name} now."
                 if s.borrowed_basis == "measured" else
                 f" {s.to_name}'s {parts} priced at its typical all-in price.")
    return text
