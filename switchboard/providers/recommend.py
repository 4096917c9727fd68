"""`recommend_provider(needs)`: the product's recommendation logic and decision matrix, over the
platforms, capabilities and prices in the database (`voice_ai_providers`, `price_book`).

The matrix: custom voice → livekit (or vapi, or signalwire); lowest cost → livekit ($/min);
easy setup → retell (or vapi); maximum customisation → livekit; default → retell. Its decision
matrix adds: enterprise features → vapi; already on SignalWire → signalwire.

Here each wish narrows the active platforms to those best at it, in this order: custom voice
(capability `custom_voices`), already on SignalWire, enterprise (capability `enterprise`),
lowest cost (typical all-in price per minute), easy setup (`setup_complexity`), maximum
customisation (`customization`). A wish no remaining platform can meet is reported, not
silently dropped. Without wishes the easiest platform wins (the default); with only a
custom voice, the cheapest platform that has them. Ties go to the cheaper platform. Which
platform that is follows from the rows, not from names in code: change a price or a capability
in the database and the answer changes with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from switchboard.billing import load_price_book
from switchboard.pricing import per_minute

_SETUP_RANK = {"low": 0, "medium": 1, "high": 2}
_CUSTOMIZATION_RANK = {"medium": 0, "high": 1, "very_high": 2}


class Needs(BaseModel):
    has_custom_voice: bool = False
    wants_lowest_cost: bool = False
    wants_easy_setup: bool = False
    wants_max_customization: bool = False
    needs_enterprise: bool = False
    uses_signalwire: bool = False


class PlatformFacts(BaseModel):
    code: str
    name: str
    capabilities: dict[str, Any] = {}
    setup_complexity: str | None = None
    customization: str | None = None
    price_per_minute: Decimal | None = None  # typical all-in (voice_ai_providers.cost_per_minute)
    minute_prices: dict[str, Decimal] = {}  # per component, from price_book
    prices_effective_from: date | None = None


class Recommendation(BaseModel):
    code: str
    name: str
    reasons: list[str]
    price_per_minute: Decimal | None
    minute_prices: dict[str, Decimal] = {}
    prices_effective_from: date | None = None
    alternatives: list[str] = []  # the other platforms still suitable, best first


async def recommend_provider(conn: Any, needs: Needs, *, on: date | None = None) -> Recommendation:
    """Read the active platforms and their prices in force `on` (today), then choose."""
    day = on or datetime.now(UTC).date()
    cur = await conn.execute(
        """
        select code, name, capabilities, setup_complexity, customization, cost_per_minute, prices_effective_from
        from public.voice_ai_providers where is_active order by code
        """
    )
    rows = await cur.fetchall()
    book = await load_price_book(conn, day)
    platforms = [
        PlatformFacts(
            code=r["code"], name=r["name"], capabilities=r["capabilities"] or {}, setup_complexity=r["setup_complexity"],
            customization=r["customization"], price_per_minute=r["cost_per_minute"],
            minute_prices=book.per_minute(r["code"]), prices_effective_from=r["prices_effective_from"],
        )
        for r in rows
    ]
    return choose(needs, platforms)


def _price(p: PlatformFacts) -> Decimal:
    if p.price_per_minute is not None:
        return Decimal(p.price_per_minute)
    return sum(p.minute_prices.values(), Decimal(0)) if p.minute_prices else Decimal("Infinity")


def _money(value: Decimal | None) -> str:
    # The one per-minute format (switchboard.pricing), so a reason reads as the price badges do.
    return "no list price" if value is None or value == Decimal("Infinity") else per_minute(value)


def choose(needs: Needs, platforms: list[PlatformFacts]) -> Recommendation:
    if not platforms:
        raise LookupError("no active voice-AI platform to recommend")
    candidates = sorted(platforms, key=lambda p: (_price(p), p.code))
    reasons: list[str] = []

    def narrow(label: str, keep: Callable[[PlatformFacts], bool], why: str) -> None:
        nonlocal candidates
        kept = [p for p in candidates if keep(p)]
        if kept:
            candidates = kept
            reasons.append(why)
        else:
            reasons.append(f"no remaining platform offers {label}; that wish was set aside")

    def best(label: str, score: Callable[[PlatformFacts], Any], why: Callable[[PlatformFacts], str]) -> None:
        nonlocal candidates
        scored = [p for p in candidates if score(p) is not None]
        if not scored:
            reasons.append(f"no platform states its {label}; that wish was set aside")
            return
        top = min(score(p) for p in scored)
        candidates = [p for p in scored if score(p) == top]
        reasons.append(why(candidates[0]))

    if needs.has_custom_voice:
        narrow("custom or cloned voices", lambda p: bool(p.capabilities.get("custom_voices")),
               "supports custom and cloned voices programmatically")
    if needs.uses_signalwire:
        narrow("a native SignalWire integration", lambda p: p.code == "signalwire",
               "you already use SignalWire: its AI agent runs natively on your numbers")
    if needs.needs_enterprise:
        narrow("enterprise features", lambda p: bool(p.capabilities.get("enterprise")),
               "offers enterprise features (analytics, compliance)")
    suitable = list(candidates)  # what the hard needs leave; the rest are preferences
    if needs.wants_lowest_cost:
        best("price", lambda p: _price(p) if _price(p) != Decimal("Infinity") else None,
             lambda p: f"lowest list price per minute: {_money(_price(p))}")
    if needs.wants_easy_setup:
        best("setup complexity", lambda p: _SETUP_RANK.get(p.setup_complexity or ""),
             lambda p: f"easiest to set up ({p.setup_complexity} complexity)")
    if needs.wants_max_customization:
        best("customisation", lambda p: -_CUSTOMIZATION_RANK[p.customization] if p.customization in _CUSTOMIZATION_RANK else None,
             lambda p: f"most customisable ({(p.customization or '').replace('_', ' ')})")
    if not any(needs.model_dump().values()):
        best("setup complexity", lambda p: _SETUP_RANK.get(p.setup_complexity or ""),
             lambda p: f"the simplest start: {p.setup_complexity} setup complexity")
    elif needs.has_custom_voice and len(reasons) == 1 and len(candidates) > 1:
        best("price", lambda p: _price(p) if _price(p) != Decimal("Infinity") else None,
             lambda p: f"the cheapest of those: {_money(_price(p))}")

    chosen = candidates[0]
    reasons.append(f"list price (typical all-in) {_money(_price(chosen))}"
                   + (f" (prices effective {chosen.prices_effective_from.isoformat()})" if chosen.prices_effective_from else ""))
    others = [p.code for p in suitable if p.code != chosen.code]
    return Recommendation(
        code=chosen.code, name=chosen.name, reasons=reasons, price_per_minute=chosen.price_per_minute,
        minute_prices=chosen.minute_prices, prices_effective_from=chosen.prices_effective_from, alternatives=others,
    )
