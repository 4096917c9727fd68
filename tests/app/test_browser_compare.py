"""Comparisons in the browser: the dashboard's A/B comparison switched from platforms to the agent
versions that served the calls; the Tests tab's two runs side by side with what changed, and a
running run's progress."""

from __future__ import annotations

import pytest

from switchboard import versions
from tests.app.conftest import shot
from tests.app.factories import add_calls
from tests.app.test_browser_pages import account, sign_in

pytestmark = pytest.mark.browser


async def test_the_ab_comparison_switches_to_versions(browser, app_server, app_db):
    email, org, agent = await account(app_db, platform="retell")
    async with app_db.as_service() as conn:
        live = await versions.get_version(conn, org, agent, 1)
        v2 = await versions.save_draft(conn, org, agent, {**live.spec, "prompt": "A shorter prompt."})
    await add_calls(app_db, org, agent, "retell", 60, arm="retell", cost_per_minute=0.12, seed=31)  # v1, the live one
    await add_calls(app_db, org, agent, "vapi", 60, arm="vapi", cost_per_minute=0.12, seed=32)
    await add_calls(app_db, org, agent, "retell", 80, arm="retell", cost_per_minute=0.07, seed=33, version=v2.id)
    context, page = await sign_in(browser, app_server, email)
    try:
        table = page.locator("#ab-table")
        await table.wait_for()
        assert (await table.locator("thead").inner_text()).strip().startswith("Arm")
        arms = [r.split("\t")[0].strip() for r in await table.locator("tbody tr").all_inner_texts()]
        assert arms == ["Retell AI", "Vapi"]

        await page.click("#compare-by-version")
        await page.locator("#ab-table thead", has_text="Version").wait_for()
        rows = [r.split("\t") for r in await table.locator("tbody tr").all_inner_texts()]
        assert [(r[0].strip(), r[1].strip()) for r in rows] == [("v1", "120"), ("v2", "80")]
        verdict = page.locator("#ab-verdict", has_text="v2 is cheaper")
        await verdict.wait_for()
        assert "Recommendation: keep v2 live." in await verdict.inner_text()
        await shot(page, "dashboard-compare-versions")

        await page.click("#compare-by-platform")
        await page.locator("#ab-table thead", has_text="Arm").wait_for()
        arms = [r.split("\t")[0].strip() for r in await table.locator("tbody tr").all_inner_texts()]
        assert arms == ["Retell AI", "Vapi"]
    finally:
        await context.close()
