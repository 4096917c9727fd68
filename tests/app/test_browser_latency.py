"""Latency in Debian's Chromium: the call page shows a call's p50/p90 by part (and says so when a
call has none); the dashboard shows each platform's answer latency beside what its calls cost,
the figures the core computes (analytics.latency_by_provider, pricing.platform_prices)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from switchboard import analytics, pricing
from switchboard.billing import load_price_book
from switchboard.ingest import record_call_event
from switchboard.spec import CallEvent, CallLatency, CostBreakdown, LatencyStat
from tests.app.conftest import shot
from tests.app.test_browser_pages import account, sign_in

pytestmark = pytest.mark.browser


def _call(org, provider: str, n: int, latency: CallLatency | None) -> CallEvent:
    started = datetime.now(UTC) - timedelta(hours=2, minutes=n)
    return CallEvent(
        kind="ended", provider=provider, event_id=f"lat-{org}-{provider}-{n}", event_type="call_ended",
        provider_call_id=f"lat-{org.hex[:8]}-{provider}-{n}", organization_id=org, status="ended",
        started_at=started, ended_at=started + timedelta(minutes=3), latency=latency,
        cost=CostBreakdown(platform=Decimal("0.21"), llm=Decimal("0.06")) if provider == "retell" else None,
    )


def ms(value: float) -> str:  # as the page words a figure (app.components.latency)
    return f"{round(value):,} ms"


def _stat(p50: float) -> LatencyStat:
    return LatencyStat(p50_ms=p50, p90_ms=round(p50 * 1.4, 1))


async def test_the_call_page_and_the_dashboard_show_latency_beside_cost(browser, app_server, app_db) -> None:
    email, org, _agent = await account(app_db, org="Quick Answers", platform="livekit")
    async with app_db.as_service() as conn:
        book = await load_price_book(conn)
        measured = await record_call_event(conn, _call(org, "livekit", 0, CallLatency(
            turns=6, e2e=_stat(960), stt=_stat(150), eou=_stat(410), llm=_stat(330), tts=_stat(200),
            overhead=_stat(21))), book)
        for n, p50 in enumerate((760, 800, 840), start=1):
            await record_call_event(conn, _call(org, "retell", n, CallLatency(
                turns=4, e2e=_stat(p50), stt=_stat(120), llm=_stat(400), tts=_stat(180))), book)
        silent = await record_call_event(conn, _call(org, "signalwire", 9, None), book)
    async with app_db.as_service() as conn:
        expected = {r.provider_code: r for r in await analytics.latency_by_provider(conn, org, days=30)}
        prices = await pricing.platform_prices(conn, org, days=30)

    context, page = await sign_in(browser, app_server, email, f"/calls/{measured}")
    await page.locator("#call-latency").wait_for()
    assert await page.locator("#latency-p50-e2e").inner_text() == "960 ms"
    assert await page.locator("#latency-p90-e2e").inner_text() == "1,344 ms"
    assert await page.locator("#latency-p50-overhead").inner_text() == "21 ms"
    assert await page.locator("#latency-p50-eou").inner_text() == "410 ms"
    assert "Over 6 turns" in await page.locator("#call-latency").locator("xpath=..").inner_text()
    await shot(page, "40-call-latency")

    await page.goto(f"/calls/{silent}")
    await page.locator("#no-latency").wait_for()

    await page.goto("/dashboard")
    await page.locator("#platform-latency").wait_for()
    await page.locator("#latency-row-retell").wait_for()
    for code in ("retell", "livekit"):
        assert await page.locator(f"#latency-e2e-p50-{code}").inner_text() == ms(expected[code].e2e_p50_ms)
        assert await page.locator(f"#latency-e2e-p90-{code}").inner_text() == ms(expected[code].e2e_p90_ms)
    assert await page.locator("#latency-cost-retell").inner_text() == pricing.per_minute(prices["retell"].measured)
    assert "Orchestration" in await page.locator("#latency-parts-livekit").inner_text()
    assert "End of turn" not in await page.locator("#latency-parts-retell").inner_text()  # Retell reports none
    # fastest first: Retell's median call answers before LiveKit's
    codes = await page.locator("#platform-latency tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    assert codes[:2] == ["latency-row-retell", "latency-row-livekit"]
    await shot(page, "41-dashboard-latency")
    await context.close()
