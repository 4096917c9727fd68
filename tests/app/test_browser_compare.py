"""Comparisons in the browser: the dashboard's A/B comparison switched from platforms to the agent
versions that served the calls; the Tests tab's two runs side by side with what changed, a
running run's progress, and the organisation's test LLM chosen."""

from __future__ import annotations

import pytest

from switchboard import versions
from switchboard.scenarios import gate, suite_from_yaml
from switchboard.scenarios.store import save_suite
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


SUITE = """
- name: Answers a hello
  turns:
    - say: Hello
      expect:
        - not_contains: you are booked
- name: Knows the opening hours
  turns:
    - say: Are you open on Monday?
      expect:
        - contains: "open on Monday"
"""
# Records every text the progress line shows, as the page polls the run.
WATCH_PROGRESS = """() => {
    window.__progress = [];
    new MutationObserver(() => {
        const el = document.querySelector('#tests-progress');
        const text = el && el.innerText.trim();
        if (text && window.__progress[window.__progress.length - 1] !== text) window.__progress.push(text);
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


async def test_two_runs_side_by_side_and_a_runs_progress(browser, app_server, app_db, worker_chat):
    email, org, agent = await account(app_db, platform="livekit")
    async with app_db.as_service() as conn:
        await gate.write_settings(conn, org, gate.ScenarioSettings(require_scenarios_to_publish=False, scenario_concurrency=1))
        await save_suite(conn, org, agent, suite_from_yaml(SUITE))
        live = await versions.get_version(conn, org, agent, 1)
        await versions.save_draft(conn, org, agent, {**live.spec, "prompt": live.spec["prompt"] + "\nWe are open on Monday from 9 to 5."})
    context, page = await sign_in(browser, app_server, email, "/agent")
    try:
        await page.locator("#scenario-list .scenario-name").nth(1).wait_for()
        assert await page.locator("#compare-runs-empty").count() == 1
        # The organisation's test LLM (admins): Groq with a model, saved to the organisation's settings.
        await page.click("#test-llm")
        await page.get_by_role("option", name="Groq LLM").click()
        await page.fill("#test-llm-model", "llama-3.1-8b-instant")
        await page.click("#test-llm-save")
        await page.locator("#test-llm-saved", has_text="Saved: Groq LLM, model llama-3.1-8b-instant.").wait_for()
        async with app_db.as_service() as conn:
            chosen = await gate.read_settings(conn, org)
        assert (chosen.llm, chosen.llm_model, chosen.scenario_concurrency) == ("groq-llm", "llama-3.1-8b-instant", 1)
        await page.evaluate(WATCH_PROGRESS)
        await page.click("#run-livekit")  # the live version, v1
        await page.locator("#tests-status", has_text="Version 1: 1 of 2 passed (failed)").wait_for()
        seen = await page.evaluate("window.__progress")
        assert seen[-1] == "2 of 2 conversations done" and len(seen) >= 2, seen  # polled while it ran
        done = [int(t.split(" ")[0]) for t in seen]
        assert done == sorted(done) and done[0] < 2

        await page.fill("#tests-version", "2")
        await page.click("#run-livekit")
        await page.locator("#tests-status", has_text="Version 2: 2 of 2 passed (passed)").wait_for()
        await page.locator("#compare-first").wait_for()
        await page.click("#compare-runs")
        table = page.locator("#compare-table")
        await table.wait_for()
        rows = {r.split("\t")[0].strip(): [c.strip() for c in r.split("\t")[1:]]
                for r in await table.locator("tbody tr").all_inner_texts()}
        assert rows["Version · platforms"][:2] == ["v1 · livekit", "v2 · livekit"]
        assert rows["Pass rate"] == ["50% (1/2)", "100% (2/2)", "+50.0 pts"]
        assert rows["Turn p50"][0].endswith(" ms") and rows["Cost / conversation"][:2] == ["not reported", "not reported"]
        fixed = await page.locator(".fixed").all_inner_texts()
        assert fixed == ["livekit · Knows the opening hours: contains 'open on Monday'"]
        assert await page.locator(".newly-failed").count() == 0
        assert await page.locator(".outcome-change").all_inner_texts() == ["Knows the opening hours (livekit): failed → passed"]
        await shot(page, "tests-compare-runs")
    finally:
        await context.close()
