"""The price book from the database: the price in force on a call's day, usage × prices, and
estimates from duration when a platform reports nothing — never a price from code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from switchboard.billing import CallUsage, ComponentUsage, MissingPrice, load_price_book, price_usage


async def book_on(db, day: date):
    async with db.as_service() as conn:
        return await load_price_book(conn, day)


async def test_latest_price_on_or_before_the_day(db):
    async with db.as_service() as conn:
        await conn.execute(
            "insert into price_book (subject, component, unit, usd_per_unit, effective_from, source) "
            "values ('livekit', 'platform', 'minute', 0.02, '2026-12-01', 'test: a price rise')"
        )
    november = await book_on(db, date(2026, 11, 20))
    assert november.price("livekit", "platform", "minute") == Decimal("0.01")  # the rise is not known yet
    december = await book_on(db, date(2026, 12, 5))
    assert december.price("livekit", "platform", "minute") == Decimal("0.02")
    assert december.price("livekit", "platform", "minute", on=date(2026, 11, 20)) == Decimal("0.01")  # history kept
    assert december.price("livekit", "platform", "minute", on=date(2026, 10, 1)) is None  # before any price


async def test_usage_times_prices_and_missing_prices(db):
    book = await book_on(db, date(2026, 11, 22))
    usage = CallUsage(platform="livekit", platform_minutes=Decimal(2), telephony_minutes=Decimal(2), components=[
        ComponentUsage(component="llm", subject="openai-llm", input_tokens=1_000_000, output_tokens=100_000),
        ComponentUsage(component="tts", subject="openai-tts", characters=2000),
        ComponentUsage(component="stt", subject="pocketsphinx-stt", minutes=Decimal(2)),
    ])
    cost = price_usage(book, usage)
    assert (cost.platform, cost.telephony, cost.llm, cost.tts, cost.stt) == (
        Decimal("0.020000"), Decimal("0.006000"), Decimal("0.210000"), Decimal("0.030000"), Decimal("0.000000"))
    assert cost.source == "computed"
    with pytest.raises(MissingPrice, match="no price for elevenlabs-tts tts per 1k_characters"):
        price_usage(book, CallUsage(platform="livekit", components=[ComponentUsage(component="tts", subject="elevenlabs-tts", characters=10)]))


async def test_cost_for_call_estimates_from_duration_or_prices_usage(db):
    book = await book_on(db, date(2026, 11, 22))
    estimate = book.cost_for_call("retell", duration_seconds=90)  # 1.5 min × each of Retell's minute prices
    assert estimate.source == "estimated"
    assert (estimate.platform, estimate.tts, estimate.llm, estimate.telephony) == (
        Decimal("0.082500"), Decimal("0.022500"), Decimal("0.009000"), Decimal("0.022500"))
    computed = book.cost_for_call("signalwire", duration_seconds=95, usage={"platform": "signalwire", "platform_minutes": "2", "telephony_minutes": "2"})
    assert computed.total == Decimal("0.326") and computed.source == "computed"
    assert book.cost_for_call("nowhere", duration_seconds=60) is None
