"""Issue #13 (points 4 and 8) in Debian's Chromium: the calls list in the reader's time zone,
with its count, free-text search, CSV export and errors that clear stale results; the call
page's analysis fields, recording player and long ids; one <h1> and labelled inputs on every
page; every page usable 390 px wide."""

from __future__ import annotations

import csv
import io
import json
import re
from zoneinfo import ZoneInfo

import pytest

from tests.app.conftest import shot
from tests.app.factories import add_calls
from tests.app.test_browser_pages import account, sign_in

pytestmark = pytest.mark.browser


async def open_as(browser, app_server, email: str, path: str, **context_options):
    context, page = await sign_in(browser, app_server, email, path, **context_options)
    await settled(page)
    return context, page


async def settled(page) -> None:
    await page.locator("#page-title").wait_for()
    await page.wait_for_function("() => !document.querySelector('.loading-state')")


async def rows(page) -> list[str]:
    await page.wait_for_function("() => !document.querySelector('.loading-state')")
    hrefs = await page.locator(".call-row a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    return [h.rsplit("/", 1)[-1] for h in hrefs]


async def search(page, words: str, expected: list[str]) -> list[str]:
    """Search, and wait until the list shows exactly `expected` (ids, in order)."""
    await page.fill("#filter-q", words)
    await page.click("#apply-filters")
    hrefs = json.dumps(["/calls/" + i for i in expected])
    await page.wait_for_function(
        f"() => !document.querySelector('.loading-state') && JSON.stringify([...document.querySelectorAll("
        f"'.call-row a')].map(a => a.getAttribute('href'))) === JSON.stringify({hrefs})")
    return await rows(page)


async def export(page, platform: str, total: str) -> list[dict[str, str]]:
    """The rows of the CSV download with the platform filter set to `platform` (the list then
    counts `total`)."""
    await page.click("#filter-provider")
    await page.get_by_role("option", name=platform, exact=True).click()
    await page.click("#apply-filters")
    await page.locator("#calls-total", has_text=total).wait_for()
    async with page.expect_download() as download_info:
        await page.click("#export-csv")
    download = await download_info.value
    return list(csv.DictReader(io.StringIO(open(await download.path(), encoding="utf-8").read())))


async def test_calls_list_local_time_count_search_export_and_errors(browser, app_server, app_db):
    email, org_id, agent_id = await account(app_db)
    await add_calls(app_db, org_id, agent_id, "retell", 20, seed=61)
    await add_calls(app_db, org_id, agent_id, "vapi", 12, seed=62)
    async with app_db.as_service() as conn:
        cur = await conn.execute("select id::text, started_at, provider_call_id from call_records "
                                 "where organization_id = %s order by started_at desc, id", (org_id,))
        calls = await cur.fetchall()
        molar, evil = calls[5], calls[7]
        await conn.execute("update call_records set transcript = 'User: my molar hurts since Tuesday.' where id = %s",
                           (molar["id"],))
        await conn.execute("update call_records set provider_call_id = %s where id = %s",
                           ('=HYPERLINK("http://evil.example","x")', evil["id"]))
    context, page = await open_as(browser, app_server, email, "/calls", timezone_id="Europe/Paris")

    # Times in the browser's zone, to the second, the zone named; the count of the whole list.
    await page.locator(".call-row").first.wait_for()
    first = (await page.locator(".call-row").first.locator("td").first.inner_text()).strip()
    local = calls[0]["started_at"].astimezone(ZoneInfo("Europe/Paris"))
    assert first == local.strftime("%Y-%m-%d %H:%M:%S ") + local.tzname(), first
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T", first)
    assert (await page.locator("#calls-total").inner_text()).strip() == "32 calls"
    assert "Europe/Paris" in await page.locator("#calls-zone").inner_text()

    # Search: a word said, the platform's call id, our call id.
    assert await search(page, "molar", [molar["id"]]) == [molar["id"]]
    assert (await page.locator("#calls-total").inner_text()).strip() == "1 call"
    assert await search(page, calls[3]["provider_call_id"], [calls[3]["id"]]) == [calls[3]["id"]]
    assert await search(page, calls[9]["id"], [calls[9]["id"]]) == [calls[9]["id"]]
    await shot(page, "30-calls-search")

    # The CSV export downloads the filtered rows: Vapi's 12, newest first, formulas defused.
    await page.fill("#filter-q", "")
    exported = await export(page, "vapi", "12 calls")
    async with app_db.as_service() as conn:
        cur = await conn.execute(
            "select c.id::text from call_records c join voice_ai_providers vp on vp.id = c.provider_id "
            "where c.organization_id = %s and vp.code = 'vapi' order by c.started_at desc, c.id", (org_id,))
        assert [r["id"] for r in exported] == [r["id"] for r in await cur.fetchall()]
    assert {r["platform"] for r in exported} == {"vapi"}
    assert all(r["from_number"].startswith("'+1555") for r in exported)
    # The whole list (no filter): the hostile platform id is defused.
    everything = await export(page, "any", "32 calls")
    assert len(everything) == 32
    assert next(r for r in everything if r["id"] == evil["id"])["platform_call_id"].startswith("'=HYPERLINK")

    # A bad filter shows only its error: no rows of the previous answer, no count.
    await page.fill("#filter-number", "12")
    await page.click("#apply-filters")
    await page.locator(".error-state").wait_for()
    assert "number" in (await page.locator(".error-state").inner_text()).lower()
    assert await page.locator(".call-row").count() == 0
    assert await page.locator("#calls-total").count() == 0
    await shot(page, "31-calls-bad-filter")
    await context.close()


async def test_call_page_analysis_fields_recording_player_and_long_ids(browser, app_server, app_db):
    email, org_id, agent_id = await account(app_db)
    await add_calls(app_db, org_id, agent_id, "retell", 2, seed=71)
    long_id = "call_" + "9f8e7d6c5b4a" * 8
    async with app_db.as_service() as conn:
        cur = await conn.execute("select id::text from call_records where organization_id = %s order by started_at desc",
                                 (org_id,))
        good, bad = [r["id"] for r in await cur.fetchall()]
        analysis = {"summary": "Caller booked a cleaning for Thursday.", "sentiment": "Positive", "successful": True,
                    "in_voicemail": False, "data": {"intent": "book", "preferred_day": "Thursday"}}
        await conn.execute("update call_records set analysis = %s, provider_call_id = %s, recording_url = %s, "
                           "experiment_arm = 'retell' where id = %s",
                           (json.dumps(analysis), long_id, "https://recordings.example.test/rec-1.wav", good))
        await conn.execute("update call_records set recording_url = 'javascript:alert(1)' where id = %s", (bad,))
    context, page = await open_as(browser, app_server, email, f"/calls/{good}")
    await page.locator("#call-analysis").wait_for()
    fields = dict(zip(
        [t.strip() for t in await page.locator("#call-analysis dt").all_inner_texts()],
        [t.strip() for t in await page.locator("#call-analysis dd").all_inner_texts()]))
    assert fields["Summary"] == "Caller booked a cleaning for Thursday."
    assert fields["Sentiment"] == "Positive" and fields["Success"] == "successful"
    assert fields["Intent"] == "book" and fields["Preferred day"] == "Thursday" and fields["In voicemail"] == "no"
    assert "{" not in await page.locator("#call-analysis").inner_text()  # no raw JSON
    player = page.locator("audio#recording-player")
    assert await player.get_attribute("src") == "https://recordings.example.test/rec-1.wav"
    assert await player.get_attribute("controls") is not None
    # The long platform id stays inside the page and overlaps no other field.
    box = await page.locator("#provider-call-id").bounding_box()
    main = await page.locator("main").bounding_box()
    assert box["x"] + box["width"] <= main["x"] + main["width"] + 1
    info = await page.locator("#call-info").bounding_box()
    assert box["y"] + box["height"] <= info["y"]
    assert long_id == (await page.locator("#provider-call-id").inner_text()).strip()
    await shot(page, "32-call-page")
    # A recording reference that is not http(s) is never played nor linked.
    await page.goto(f"/calls/{bad}")
    await settled(page)
    await page.locator("#recording-unplayable").wait_for()
    assert await page.locator("audio").count() == 0 and await page.locator("#recording-link").count() == 0
    await context.close()


# Every visible form control with no linked <label> (nor aria-labelledby / aria-label; a radio
# button may be named by its own text), and the page's <h1> elements.
AUDIT = """() => {
  const shown = el => {
    if (el.closest('[aria-hidden="true"]')) return false;
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && !(s.opacity === '0' && s.pointerEvents === 'none');
  };
  const named = el => (el.labels && el.labels.length > 0) || el.getAttribute('aria-labelledby')
                      || (el.getAttribute('aria-label') || '').trim() !== ''
                      || (el.getAttribute('role') === 'radio' && el.innerText.trim() !== '');  // "7 days"
  const controls = [...document.querySelectorAll(
    'input:not([type=hidden]), textarea, select, button[role=combobox], button[role=radio], button[role=switch]')];
  return {
    h1: [...document.querySelectorAll('h1')].map(h => h.innerText.trim()),
    unlabelled: controls.filter(shown).filter(el => !named(el)).map(el => el.outerHTML.slice(0, 160)),
  };
}"""


async def _pages(app_db):
    email, org_id, agent_id = await account(app_db)
    await add_calls(app_db, org_id, agent_id, "retell", 5, seed=81)
    async with app_db.as_service() as conn:
        cur = await conn.execute("select id::text from call_records where organization_id = %s limit 1", (org_id,))
        call_id = (await cur.fetchone())["id"]
    return email, ["/dashboard", "/agent", "/calls", f"/calls/{call_id}", "/health", "/members", "/onboarding?new=1"]


async def test_every_page_has_one_h1_and_labelled_controls(browser, app_server, app_db):
    email, pages = await _pages(app_db)
    context = await browser.new_context(base_url=app_server.url, viewport={"width": 1360, "height": 900})
    page = await context.new_page()
    problems = {}
    for path in ("/sign-in", "/sign-up"):
        await page.goto(path)
        await settled(page)
        audit = await page.evaluate(AUDIT)
        if len(audit["h1"]) != 1 or audit["unlabelled"]:
            problems[path] = audit
    await context.close()
    context, page = await open_as(browser, app_server, email, "/dashboard")
    for path in pages:
        await page.goto(path)
        await settled(page)
        audit = await page.evaluate(AUDIT)
        if len(audit["h1"]) != 1 or audit["unlabelled"]:
            problems[path] = audit
    assert problems == {}, json.dumps(problems, indent=1)
    # Keyboard: Tab reaches the calls filters and the search box takes typing.
    await page.goto("/calls")
    await settled(page)
    for _ in range(40):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement && document.activeElement.id") == "filter-q":
            break
    else:
        raise AssertionError("Tab never reached the search box")
    await context.close()


async def test_every_page_fits_a_phone_and_the_navigation_is_reachable(browser, app_server, app_db):
    email, pages = await _pages(app_db)
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    overflow = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth"
    wide = {}
    context = await browser.new_context(base_url=app_server.url, **phone)
    page = await context.new_page()
    for path in ("/sign-in", "/sign-up"):
        await page.goto(path)
        await settled(page)
        if (extra := await page.evaluate(overflow)) > 0:
            wide[path] = extra
    await context.close()
    context, page = await open_as(browser, app_server, email, "/dashboard", **phone)
    for path in pages:
        await page.goto(path)
        await settled(page)
        await page.wait_for_timeout(300)  # charts size themselves to their card
        if (extra := await page.evaluate(overflow)) > 0:
            wide[path] = extra
        if path.startswith("/calls/"):
            await shot(page, "33-phone-call-page")
        elif path == "/calls":
            await page.locator(".call-card").first.wait_for()
            await shot(page, "34-phone-calls")
        elif path == "/dashboard":
            await shot(page, "35-phone-dashboard")
    assert wide == {}, f"pages wider than the 390 px screen (px too wide): {wide}"
    # The sidebar is folded away; the Menu button opens the navigation, which works.
    await page.goto("/health")
    await settled(page)
    assert not await page.locator("#sidebar").is_visible()
    await page.click("#nav-menu")
    await page.locator("#menu-nav-calls").wait_for()
    await shot(page, "36-phone-menu", full_page=False)
    await page.click("#menu-nav-calls")
    await page.wait_for_url(re.compile(r"/calls$"))
    await page.locator("#page-title", has_text="Calls").wait_for()
    await page.locator(".call-card").first.wait_for()
    assert await page.locator("#menu-sign-out").count() == 0  # the drawer closed with the navigation
    await context.close()
