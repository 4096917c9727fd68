"""Prices and what a call cost.

Prices are data: rows of `price_book` (subject = a platform code such as 'livekit' or a catalog
key such as 'openai-llm'; component; unit; USD per unit; effective_from). The price in force on
a day is the row with the latest `effective_from` on or before that day. `load_price_book`
reads them once; everything else here is a pure function of a `PriceBook` and usage, so no price
ever lives in code.

Usage that must be priced by us (LiveKit from the worker's session usage, SignalWire AI from its
accounting minutes) is described by `CallUsage`, the canonical shape stored in
`CallEvent.usage` and `provider_usage.details`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from switchboard.spec import CostBreakdown
from switchboard.errors import NotFound

Component = Literal["platform", "stt", "llm", "tts", "telephony"]
Unit = Literal["minute", "1m_input_tokens", "1m_output_tokens", "1k_characters"]
MINUTE_COMPONENTS: tuple[Component, ...] = ("platform", "stt", "llm", "tts", "telephony")
USD_PLACES = Decimal("0.000001")
log = logging.getLogger(__name__)  # provider_usage keeps numeric(12, 6)


class MissingPrice(NotFound, LookupError):
    """No price in the book for what must be priced; the message names it."""


class Price(BaseModel):
    subject: str
    component: Component
    unit: Unit
    usd_per_unit: Decimal
    effective_from: date
    source: str | None = None


class PriceBook(BaseModel):
    """Every price in force up to `on` (the history, so calls of earlier days price correctly)."""

    on: date
    prices: list[Price] = []

    def price(self, subject: str, component: Component, unit: Unit, on: date | None = None) -> Decimal | None:
        day = on or self.on
        best: Price | None = None
        for p in self.prices:
            if p.subject == subject and p.component == component and p.unit == unit and p.effective_from <= day:
                if best is None or p.effective_from > best.effective_from:
                    best = p
        return None if best is None else best.usd_per_unit

    def require(self, subject: str, component: Component, unit: Unit, on: date | None = None) -> Decimal:
        value = self.price(subject, component, unit, on)
        if value is None:
            raise MissingPrice(f"no price for {subject} {component} per {unit} on {(on or self.on).isoformat()}")
        return value

    def per_minute(self, subject: str, on: date | None = None) -> dict[Component, Decimal]:
        """The per-minute prices of `subject`, by component (components without one left out)."""
        out: dict[Component, Decimal] = {}
        for component in MINUTE_COMPONENTS:
            value = self.price(subject, component, "minute", on)
            if value is not None:
                out[component] = value
        return out

    def cost_for_call(
        self, provider: str, *, duration_seconds: int, usage: dict[str, Any] | None = None, on: date | None = None
    ) -> CostBreakdown | None:
        """A call's cost when the platform reported none: priced from its usage when we have it
        (source 'computed'), otherwise its duration at the platform's per-minute prices
        (source 'estimated'). None when the book has no price for the platform at all."""
        if usage:
            return price_usage(self, CallUsage.model_validate(usage), on=on)
        if not self.per_minute(provider, on):
            return None
        return estimate_from_duration(self, provider, duration_seconds, on=on)


async def load_price_book(conn: Any, on: date | None = None) -> PriceBook:
    """Every `price_book` row in force on or before `on` (today, UTC, by default)."""
    day = on or datetime.now(UTC).date()
    cur = await conn.execute(
        """
        select subject, component, unit, usd_per_unit, effective_from, source
        from public.price_book where effective_from <= %s
        order by subject, component, unit, effective_from
        """,
        (day,),
    )
    rows = await cur.fetchall()
    return PriceBook(on=day, prices=[Price.model_validate(dict(r)) for r in rows])


# ---------------------------------------------------------------------------------------------
# Usage and its price
# ---------------------------------------------------------------------------------------------


class ComponentUsage(BaseModel):
    """What one STT/LLM/TTS vendor did during a call. `subject` is its price_book subject
    (a catalog key such as 'openai-llm', or the platform code when the platform bills it)."""

    component: Literal["stt", "llm", "tts"]
    subject: str
    minutes: Decimal | None = None  # STT audio, or per-minute billed TTS/LLM
    input_tokens: int | None = None
    output_tokens: int | None = None
    characters: int | None = None


class CallUsage(BaseModel):
    """A call's billable quantities. `platform_minutes` at the platform's per-minute platform
    price, `telephony_minutes` at its telephony price, each component at its vendor's prices."""

    platform: str
    platform_minutes: Decimal = Decimal(0)
    telephony_minutes: Decimal = Decimal(0)
    components: list[ComponentUsage] = Field(default_factory=list)


def price_usage(book: PriceBook, usage: CallUsage, *, on: date | None = None) -> CostBreakdown:
    """Usage × prices. A quantity with no price is an error (MissingPrice), never a silent zero."""
    cost = {c: Decimal(0) for c in MINUTE_COMPONENTS}
    if usage.platform_minutes:
        cost["platform"] += usage.platform_minutes * book.require(usage.platform, "platform", "minute", on)
    if usage.telephony_minutes:
        cost["telephony"] += usage.telephony_minutes * book.require(usage.platform, "telephony", "minute", on)
    for item in usage.components:
        cost[item.component] += component_cost(book, item, on=on)
    return CostBreakdown(**{k: usd(v) for k, v in cost.items()}, source="computed")


def price_usage_if_known(book: PriceBook | None, usage: CallUsage, *, on: date | None = None) -> CostBreakdown | None:
    """`price_usage`, or None when there is no book or a price is missing that day: the usage is
    then kept as it is (CallEvent.usage) and priced when the price is known, never as zero."""
    if book is None:
        return None
    try:
        return price_usage(book, usage, on=on)
    except MissingPrice as exc:
        log.warning("cannot price %s usage yet: %s", usage.platform, exc)
        return None


def component_cost(book: PriceBook, item: ComponentUsage, *, on: date | None = None) -> Decimal:
    total = Decimal(0)
    if item.minutes:
        total += item.minutes * book.require(item.subject, item.component, "minute", on)
    if item.input_tokens:
        total += Decimal(item.input_tokens) / 1_000_000 * book.require(item.subject, item.component, "1m_input_tokens", on)
    if item.output_tokens:
        total += Decimal(item.output_tokens) / 1_000_000 * book.require(item.subject, item.component, "1m_output_tokens", on)
    if item.characters:
        total += Decimal(item.characters) / 1000 * book.require(item.subject, item.component, "1k_characters", on)
    return total


def estimate_from_duration(book: PriceBook, subject: str, duration_seconds: int, *, on: date | None = None) -> CostBreakdown:
    """Duration × every per-minute price of the platform (its typical all-in rate), per second."""
    minutes = Decimal(max(0, duration_seconds)) / 60
    parts = {c: usd(minutes * p) for c, p in book.per_minute(subject, on).items()}
    return CostBreakdown(**parts, source="estimated")


def typical_minute_price(book: PriceBook, subject: str, on: date | None = None) -> Decimal:
    """Sum of the platform's per-minute prices (what a minute costs before per-token vendors)."""
    return sum(book.per_minute(subject, on).values(), Decimal(0))


def usd(value: Decimal | float | int | str) -> Decimal:
    """Round to the precision provider_usage keeps (1e-6 USD)."""
    return Decimal(str(value)).quantize(USD_PLACES, rounding=ROUND_HALF_UP)


def cents_to_usd(cents: Decimal | float | int | str) -> Decimal:
    return usd(Decimal(str(cents)) / 100)


def sum_breakdowns(parts: Iterable[CostBreakdown]) -> CostBreakdown:
    parts = list(parts)
    fields = {c: usd(sum((getattr(p, c) for p in parts), Decimal(0))) for c in MINUTE_COMPONENTS}
    return CostBreakdown(**fields, source=parts[0].source if parts else "reported")
