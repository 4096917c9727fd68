"""Versions and the publish gate in the browser: the agent page lists the versions with the live
one marked and a readable diff; with the organisation's gate on, publishing a version whose
suite failed is refused on the page listing the failed check, and the live version stays."""

from __future__ import annotations

from psycopg.types.json import Jsonb
import pytest

from switchboard import versions
from switchboard.scenarios import gate
from tests.app.conftest import shot
from tests.app.test_browser_pages import account, sign_in

pytestmark = pytest.mark.browser

FAILED = ("turn 1, contains 'open on Monday': the reply does not contain 'open on Monday'; "
          "it was 'Sorry, I am having trouble right now.'")


async def test_publish_gate_blocks_a_failing_version_in_the_browser(browser, app_server, app_db):
    email, org, agent = await account(app_db, platform="livekit")
    async with app_db.as_service() as conn:
        await gate.write_settings(conn, org, gate.ScenarioSettings(require_scenarios_to_publish=True, scenario_concurrency=2))
        await conn.execute("update agent_configs set fallback_order = '{}', traffic_split = '{}' where id = %s", (agent,))
        live = await versions.get_version(conn, org, agent, 1)
        draft = await versions.save_draft(conn, org, agent, {**live.spec, "name": "Front desk, shorter"})
        run = (await (await conn.execute(
            "insert into scenario_runs (organization_id, agent_config_id, agent_version_id, platforms, status, total, done) "
            "values (%s, %s, %s, '{livekit}', 'failed', 1, 1) returning id", (org, agent, draft.id))).fetchone())["id"]
        await conn.execute(
            "insert into scenario_results (organization_id, run_id, scenario_name, platform, outcome, checks) "
            "values (%s, %s, 'Knows the opening hours', 'livekit', 'failed', %s)",
            (org, run, Jsonb([{"check": "contains 'open on Monday'", "kind": "contains", "turn": 1, "outcome": "failed",
                               "message": FAILED}])))
    context, page = await sign_in(browser, app_server, email, "/agent")
    try:
        await page.locator("#versions-table .version-row").nth(1).wait_for()
        rows = [t.strip() for t in await page.locator("#versions-table .version-row").all_inner_texts()]
        assert rows[0].startswith("v2") and "draft" in rows[0] and rows[1].startswith("v1") and "live" in rows[1]
        await page.locator("#versions-diff", has_text="Front desk, shorter").wait_for()
        await page.click("#publish-v2")
        refusal = page.locator(".error-state", has_text="version 2 failed its scenarios")
        await refusal.wait_for()
        text = await refusal.inner_text()
        assert "livekit · Knows the opening hours: turn 1, contains 'open on Monday'" in text
        await shot(page, "versions-publish-gate")
        async with app_db.as_service() as conn:
            row = await (await conn.execute("select v.number from agent_configs a join agent_versions v "
                                            "on v.id = a.live_version_id where a.id = %s", (agent,))).fetchone()
        assert row["number"] == 1
    finally:
        await context.close()
