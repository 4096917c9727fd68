"""A new user's journey through the admin app in Debian's Chromium, against the prod build on
the real Postgres: sign up, onboard asking for a custom voice, switch the agent to Retell (voice
options become Retell's presets), set an API key that then appears nowhere in the page or in
what the server sends, a dashboard whose totals equal SQL sums, and a second organisation that
sees none of it. Screenshots of each page go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
import uuid

import pytest

from switchboard.providers import registry
from tests.app.conftest import shot
from tests.app.factories import add_calls

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
API_KEY = "key_live_" + uuid.uuid4().hex[:16] + "Zq9f"


async def sign_up(page, email: str) -> None:
    await page.goto("/sign-up")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.fill("#password_again", PASSWORD)
    await page.click("#submit")
    await page.wait_for_url(re.compile(r"/onboarding"))


async def onboard(page, org_name: str, *, custom_voice: bool, priority: str = "lowest_cost") -> str:
    await page.fill("#org-name", org_name)
    await page.click("#next")
    await page.click("#choice-yes" if custom_voice else "#choice-no")
    await page.click("#next")
    await page.click(f"#choice-{priority}")
    await page.click("#next")
    await page.locator("#recommended-platform").wait_for()
    name = (await page.locator("#recommended-platform").inner_text()).strip()
    return name


async def org_of(db, email: str):
    async with db.pool.connection() as conn:  # auth.users belongs to the auth service
        cur = await conn.execute(
            "select m.organization_id from memberships m join auth.users u on u.id = m.user_id where u.email = %s",
            (email,))
        return (await cur.fetchone())["organization_id"]


async def test_new_user_journey(page, app_db):
    email = f"owner-{uuid.uuid4().hex[:6]}@example.test"

    # --- sign up and onboard, asking for a custom voice ----------------------------------
    await page.goto("/sign-in")
    await page.locator("#page-title").wait_for()
    await shot(page, "01-sign-in")
    await sign_up(page, email)
    await shot(page, "02-onboarding")
    recommended = await onboard(page, "Acme Dental", custom_voice=True)
    async with app_db.as_service() as conn:
        cur = await conn.execute("select name, code from voice_ai_providers where supports_custom_voices")
        custom_capable = {r["name"]: r["code"] for r in await cur.fetchall()}
    assert recommended in custom_capable, f"{recommended} cannot take a custom voice"
    price = await page.locator("#recommended-price").inner_text()
    assert re.search(r"\$\d+\.\d{3}", price)
    await shot(page, "03-recommendation")
    await page.click("#next")
    await page.fill("#phone-number", "+15557654321")
    await page.click("#finish")
    await page.wait_for_url(re.compile(r"/agent"))
    code = custom_capable[recommended]
    await page.locator(f"#platform-{code}[data-selected='true']").wait_for()
    await page.locator("#voice-mode-custom").wait_for()  # the custom-voice choice is offered
    await shot(page, "04-agent-custom-platform")

    # --- switch to Retell: voice options become Retell's presets ------------------------
    await page.click("#platform-retell")
    await page.locator("#no-custom-voice").wait_for()
    assert "preset voices only" in await page.locator("#no-custom-voice").inner_text()
    assert await page.locator("#custom-voice-id").count() == 0
    retell_presets = registry.preset_voices("retell")
    await page.locator("#preset-count").filter(has_text=f"{len(retell_presets)} preset voices").wait_for()
    await page.click("#preset-voice")
    options = page.locator(".preset-voice-option")
    await options.first.wait_for()
    shown = [t.strip() for t in await options.all_inner_texts()]
    assert len(shown) == len(retell_presets)
    assert all(any(v.name in s for s in shown) for v in retell_presets)
    await options.nth(1).click()
    await shot(page, "05-agent-retell-presets")
    await page.click("#save-agent")
    await page.locator("#saved-note").wait_for()
    await page.locator("#sync-retell").wait_for()
    org_id = await org_of(app_db, email)
    async with app_db.as_service() as conn:
        cur = await conn.execute(
            "select vp.code, a.voice from agent_configs a join voice_ai_providers vp on vp.id = a.active_provider_id "
            "where a.organization_id = %s", (org_id,))
        agent = await cur.fetchone()
    assert agent["code"] == "retell"
    assert agent["voice"]["custom"] is False and agent["voice"]["voice_id"] == registry.preset_voice_spec(retell_presets[1]).voice_id
    await shot(page, "06-agent-saved")

    # --- an API key, write-only ------------------------------------------------------------
    received: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(str(payload))))
    await page.reload()
    await page.locator("#settings-retell").wait_for()
    await page.click("#settings-retell")
    await page.locator("#keys-retell").wait_for()
    await page.fill("#keys-retell input[name='secret:api_key']", API_KEY)
    await page.click("#keys-retell .save-key")
    await page.locator("#settings-note").wait_for()
    hint = page.locator("#keys-retell .secret-hint")
    await hint.wait_for()
    assert API_KEY[-4:] in await hint.inner_text()
    await shot(page, "07-provider-settings", full_page=False)
    assert API_KEY not in await page.content()
    assert await page.locator("#keys-retell input[name='secret:api_key']").input_value() == ""
    assert received, "no websocket frames were captured"
    assert not any(API_KEY in frame for frame in received)
    async with app_db.as_service() as conn:
        cur = await conn.execute("select ciphertext from organization_secrets where organization_id = %s", (org_id,))
        assert API_KEY.encode() not in bytes((await cur.fetchone())["ciphertext"])
    await page.click("#close-settings")

    # --- the dashboard's totals equal SQL sums over the same data ---------------------------
    async with app_db.as_service() as conn:
        cur = await conn.execute("select id from agent_configs where organization_id = %s", (org_id,))
        agent_id = (await cur.fetchone())["id"]
    await add_calls(app_db, org_id, agent_id, "retell", 120, arm="retell", cost_per_minute=0.14, seed=21)
    await add_calls(app_db, org_id, agent_id, "vapi", 120, arm="vapi", cost_per_minute=0.09, seed=22)
    async with app_db.as_service() as conn:
        cur = await conn.execute(
            "select sum(cost_amount) as cost, count(*) as calls from provider_usage where organization_id = %s "
            "and usage_date >= date_trunc('month', (now() at time zone 'utc'))::date", (org_id,))
        month = await cur.fetchone()
    await page.goto("/dashboard")
    await page.locator("#spend-month").wait_for()
    assert await page.locator("#spend-month").inner_text() == f"${float(month['cost']):,.2f}"
    assert await page.locator("#calls-month").inner_text() == f"{month['calls']:,}"
    await page.locator("#ab-verdict").wait_for()
    assert "Vapi is cheaper" in await page.locator("#ab-verdict").inner_text()
    await page.locator("#chart-per-day .main-svg").first.wait_for()
    await shot(page, "08-dashboard")

    # --- calls, a call, health, members ---------------------------------------------------------
    await page.goto("/calls")
    await page.locator(".call-row").first.wait_for()
    assert await page.locator(".call-row").count() == 25
    await shot(page, "09-calls")
    await page.click("#next-page")
    await page.locator("#prev-page:not([disabled])").wait_for()
    await page.locator(".call-row").first.click()
    await page.wait_for_url(re.compile(r"/calls/[0-9a-f-]{36}"))
    await page.locator("#call-costs").wait_for()
    await shot(page, "10-call")
    await page.goto("/health")
    await page.locator("#circuit-retell").wait_for()
    await shot(page, "11-health")
    await page.goto("/members")
    await page.locator(".member-row").first.wait_for()
    assert email in await page.locator("#members-table").inner_text()
    await shot(page, "12-members")


async def test_another_organisation_sees_none_of_it(browser, app_server, app_db):
    # The victim: an organisation with calls and a key.
    victim_email = f"victim-{uuid.uuid4().hex[:6]}@example.test"
    context = await browser.new_context(base_url=app_server.url, viewport={"width": 1360, "height": 900})
    page = await context.new_page()
    await sign_up(page, victim_email)
    await onboard(page, "Victim Clinic", custom_voice=False)
    await page.click("#next")
    await page.click("#finish")
    await page.wait_for_url(re.compile(r"/agent"))
    await context.close()
    victim_org = await org_of(app_db, victim_email)
    await add_calls(app_db, victim_org, None, "retell", 40, cost_per_minute=0.2, seed=31)
    async with app_db.as_service() as conn:
        cur = await conn.execute("select id from call_records where organization_id = %s limit 1", (victim_org,))
        victim_call = (await cur.fetchone())["id"]

    # The stranger: a new user of another organisation.
    context = await browser.new_context(base_url=app_server.url, viewport={"width": 1360, "height": 900})
    page = await context.new_page()
    await sign_up(page, f"stranger-{uuid.uuid4().hex[:6]}@example.test")
    await onboard(page, "Stranger Co", custom_voice=False)
    await page.click("#next")
    await page.click("#finish")
    await page.wait_for_url(re.compile(r"/agent"))
    # Even pointing the browser's stored organisation at the victim's id shows nothing of it.
    await page.evaluate(f"localStorage.setItem('sb_org', '{victim_org}')")
    for path in ("/dashboard", "/calls", f"/calls/{victim_call}", "/members"):
        await page.goto(path)
        await page.locator("#page-title").wait_for()
        await page.wait_for_function("() => !document.querySelector('.loading-state')")
        html = await page.content()
        assert "Victim Clinic" not in html and victim_email not in html and str(victim_call) not in html.replace(
            f"/calls/{victim_call}", ""), path
    await page.goto("/dashboard")
    await page.locator(".empty-state").wait_for()
    await page.goto(f"/calls/{victim_call}")
    await page.get_by_text("No such call in this organisation.").wait_for()
    await shot(page, "13-other-organisation")
    await context.close()
