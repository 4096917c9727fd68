"""One price per platform per minute on every page (issue #13 point 6): the onboarding, the agent
page's platform cards, the dashboard and the savings text show the same list price string for a
platform and the same "your calls" string, each labelled."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.app.conftest import shot
from tests.app.factories import add_calls
from tests.app.test_browser_pages import account, sign_in

pytestmark = pytest.mark.browser


async def _measured(db, org_id, code: str) -> str:
    async with db.as_service() as conn:
        cur = await conn.execute(
            "select sum(u.cost_amount) as cost, sum(u.duration_seconds - u.unpriced_seconds) as s "
            "from usage_daily u join voice_ai_providers p on p.id = u.provider_id "
            "where p.code = %s and u.organization_id = %s and u.day > current_date - 30", (code, org_id))
        r = await cur.fetchone()
    return f"${Decimal(r['cost']) / (Decimal(r['s']) / 60):.4f}/min"


async def _list_price(db, code: str) -> str:
    async with db.as_service() as conn:
        cur = await conn.execute("select cost_per_minute from voice_ai_providers where code = %s", (code,))
        return f"${(await cur.fetchone())['cost_per_minute']:.4f}/min"


async def _pages(browser, app_server, email: str, tag: str) -> dict[str, tuple[str, str]]:
    """(list price text, your-calls text) for LiveKit on each page, and the savings sentence."""
    context, page = await sign_in(browser, app_server, email, "/dashboard")
    seen: dict[str, tuple[str, str]] = {}
    await page.locator("#price-row-livekit").wait_for()
    seen["dashboard"] = (await page.locator("#prices #list-price-livekit").inner_text(),
                         await page.locator("#prices #measured-price-livekit").inner_text())
    await page.locator(".saving").first.wait_for()
    seen["savings"] = (await page.locator(".saving").first.inner_text(), "")
    # plotly draws after the page has its data: wait for the chart's own text.
    await page.wait_for_function("() => (document.querySelector('#chart-per-minute')?.innerText || '').includes('$')")
    seen["chart"] = (await page.locator("#chart-per-minute").inner_text(), "")
    await shot(page, f"30-prices-dashboard-{tag}")

    await page.goto("/agent")
    await page.locator("#list-price-livekit").wait_for()
    seen["agent"] = (await page.locator("#list-price-livekit").inner_text(),
                     await page.locator("#measured-price-livekit").inner_text())
    await shot(page, f"31-prices-agent-{tag}")

    await page.goto("/onboarding")
    await page.fill("#org-name", "Second Practice")
    await page.click("#next")
    await page.click("#choice-no")
    await page.click("#next")
    await page.click("#choice-lowest_cost")
    await page.click("#next")
    await page.locator("#recommended-platform", has_text="LiveKit").wait_for()
    seen["onboarding"] = (await page.locator("#recommended-price").inner_text(),
                          await page.locator("#recommended-measured").inner_text())
    await shot(page, f"32-prices-onboarding-{tag}")
    await context.close()
    return seen


async def test_every_page_shows_the_same_labelled_list_price_and_your_calls_price(browser, app_server, app_db):
    listed = await _list_price(app_db, "livekit")
    assert listed == "$0.0450/min"

    # No LiveKit calls: the list price everywhere, "no calls yet", savings at the list price.
    email, org_id, agent_id = await account(app_db, platform="retell")
    await add_calls(app_db, org_id, agent_id, "retell", 60, cost_per_minute=0.20, seed=61)
    seen = await _pages(browser, app_server, email, "list")
    for where in ("dashboard", "agent", "onboarding"):
        assert seen[where] == (f"list price {listed}", "your calls: no calls yet"), where
    assert f"at LiveKit's list price of {listed}" in seen["savings"][0]

    # LiveKit calls measured: the same "your calls" figure everywhere, and the savings use it.
    email, org_id, agent_id = await account(app_db, platform="retell")
    await add_calls(app_db, org_id, agent_id, "retell", 60, cost_per_minute=0.20, seed=62)
    await add_calls(app_db, org_id, None, "livekit", 40, cost_per_minute=0.041, seed=63)
    measured = await _measured(app_db, org_id, "livekit")
    assert measured != listed
    seen = await _pages(browser, app_server, email, "measured")
    for where in ("dashboard", "agent", "onboarding"):
        assert seen[where] == (f"list price {listed}", f"your calls {measured} (last 30 days)"), where
    assert f"at what your LiveKit calls cost, {measured} over the last 30 days" in seen["savings"][0]
    assert measured in seen["chart"][0]
