"""What usage costs: quantities priced with `price_book` (prices are data with an effective date,
never constants). Used where a platform reports usage rather than cost — the LiveKit worker's
per-vendor usage, SignalWire's accounting minutes — through `switchboard.ingest`."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from psycopg import AsyncConnection
from pydantic import BaseModel, Field

from switchboard.providers.base import CostBreakdown

Component = Literal["platform", "stt", "llm", "tts", "telephony"]
Unit = Literal["minute", "1m_input_tokens", "1m_output_tokens", "1k_characters"]

# How many natural units (minutes, tokens, characters) one priced unit holds.
UNIT_SIZE: dict[str, Decimal] = {
    "minute": Decimal(1),
    "1m_input_tokens": Decimal(1_000_000),
    "1m_output_tokens": Decimal(1_000_000),
    "1k_characters": Decimal(1_000),
}
_CENT_MICROS = Decimal("0.000001")  # provider_usage stores numeric(12, 6)


class UsageItem(BaseModel):
    """A quantity of one priced unit: `quantity` is in natural units — minutes for "minute",
    tokens for the token units, characters for "1k_characters"."""

    component: Component
    subject: str = Field(min_length=1)  # a platform code ('livekit') or a catalog key ('openai-llm')
    unit: Unit
    quantity: float = Field(ge=0)


class PricedLine(BaseModel):
    component: Component
    subject: str
    unit: Unit
    quantity: float
    usd_per_unit: Decimal | None  # None: no price in force on that day
    cost: Decimal


class PricedUsage(BaseModel):
    cost: CostBreakdown
    lines: list[PricedLine]

    @property
    def missing(self) -> list[PricedLine]:
        return [line for line in self.lines if line.usd_per_unit is None]


async def prices_in_force(
    conn: AsyncConnection, keys: set[tuple[str, str, str]], on: date
) -> dict[tuple[str, str, str], Decimal]:
    """(subject, component, unit) → USD per unit in force on `on` (latest effective_from <= on)."""
    if not keys:
        return {}
    subjects = sorted({k[0] for k in keys})
    cur = await conn.execute(
        """
        select distinct on (subject, component, unit) subject, component, unit, usd_per_unit
        from public.price_book
        where subject = any(%s) and effective_from <= %s
        order by subject, component, unit, effective_from desc
        """,
        (subjects, on),
    )
    found = {}
    for row in await cur.fetchall():  # dict rows (switchboard.db.Database)
        key = (row["subject"], row["component"], row["unit"])
        if key in keys:
            found[key] = Decimal(row["usd_per_unit"])
    return found


async def price_usage(conn: AsyncConnection, items: list[UsageItem], on: date) -> PricedUsage:
    """Price every item with the price in force on `on`. An item without a price costs nothing
    and makes the breakdown 'estimated' (its line shows usd_per_unit=None); otherwise 'computed'."""
    prices = await prices_in_force(conn, {(i.subject, i.component, i.unit) for i in items}, on)
    totals: dict[str, Decimal] = {c: Decimal(0) for c in ("stt", "llm", "tts", "platform", "telephony")}
    lines: list[PricedLine] = []
    for item in items:
        price = prices.get((item.subject, item.component, item.unit))
        cost = Decimal(0)
        if price is not None:
            cost = Decimal(str(item.quantity)) / UNIT_SIZE[item.unit] * price
        totals[item.component] += cost
        lines.append(
            PricedLine(
                component=item.component, subject=item.subject, unit=item.unit, quantity=item.quantity,
                usd_per_unit=price, cost=cost.quantize(_CENT_MICROS, ROUND_HALF_UP),
            )
        )
    breakdown = CostBreakdown(
        **{k: v.quantize(_CENT_MICROS, ROUND_HALF_UP) for k, v in totals.items()},
        source="estimated" if any(line.usd_per_unit is None for line in lines) else "computed",
    )
    return PricedUsage(cost=breakdown, lines=lines)
