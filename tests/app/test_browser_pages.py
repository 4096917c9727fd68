"""The other pages in Debian's Chromium, each from a fresh account made through the core (as the
sign-up page would): members and roles (an admin adds a member; a plain member manages neither
members nor keys), the calls list (filters, keyset pages, a call's costs), provider health and
the LiveKit settings modal's STT / LLM / TTS chains from the catalog."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from switchboard import auth, onboarding
from tests.app.conftest import shot
from tests.app.factories import add_calls

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


async def account(db, *, org: str | None = "Bright Smiles", platform: str = "livekit"):
    """A signed-up user and, unless org is None, the organisation they onboarded."""
    email = f"user-{uuid.uuid4().hex[:8]}@example.test"
    session = await auth.sign_up(db, email, PASSWORD)
    if org is None:
        return email, None, None
    async with db.as_user(session.claims) as conn:
        done = await onboarding.set_up_organization(conn, org, platform=platform, custom_voice=False)
    return email, done.organization.id, done.agent_id


async def sign_in(browser, app_server, email: str, path: str = "/dashboard", **context_options):
    """A new browser context (options: viewport, timezone_id, color_scheme…) signed in as `email`,
    on `path` once it has loaded."""
    options = {"viewport": {"width": 1360, "height": 900}, **context_options}
    context = await browser.new_context(base_url=app_server.url, **options)
    context.set_default_timeout(20_000)
    page = await context.new_page()
    await page.goto("/sign-in")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("#submit")
    await page.wait_for_url(re.compile(r"/dashboard"))
    if path != "/dashboard":
        await page.goto(path)
    await page.locator("#page-title").wait_for()
    await page.wait_for_function("() => !document.querySelector('.loading-state')")
    return context, page


async def save_chains(page, db, org_id, key: str) -> dict:
    """Save the LiveKit chains, then the organisation's stored row for vendor `key` (priority,
    is_enabled, config)."""
    await page.click("#save-chains")
    await page.locator("#settings-note").wait_for()
    async with db.as_service() as conn:
        cur = await conn.execute(
            "select c.priority, c.is_enabled, c.config from organization_provider_configs c "
            "join providers p on p.id = c.provider_id where c.organization_id = %s and p.key = %s", (org_id, key))
        return dict(await cur.fetchone())


async def test_admin_adds_a_member_who_then_manages_nothing(browser, app_server, app_db):
    owner_email, org_id, _ = await account(app_db)
    colleague_email, _, _ = await account(app_db, org=None)

    context, page = await sign_in(browser, app_server, owner_email, "/members")
    # An address without an account is refused in words, and nothing is added.
    await page.fill("#member-email", "nobody-" + uuid.uuid4().hex[:6] + "@example.test")
    await page.click("#add-member")
    await page.locator(".error-state").wait_for()
    assert await page.locator(".member-row").count() == 1
    await page.fill("#member-email", colleague_email)
    await page.click("#add-member")
    await page.locator(".member-row", has_text=colleague_email).wait_for()
    async with app_db.pool.connection() as conn:  # auth.users belongs to the auth service
        cur = await conn.execute(
            "select m.role::text as role from memberships m join auth.users u on u.id = m.user_id "
            "where m.organization_id = %s and u.email = %s", (org_id, colleague_email))
        assert (await cur.fetchone())["role"] == "member"
    await shot(page, "14-members-added")
    await context.close()

    # The new member sees the organisation's members, but no way to manage them or any key.
    context, page = await sign_in(browser, app_server, colleague_email, "/members")
    await page.locator(".member-row", has_text=owner_email).wait_for()
    await page.locator("#admins-only").wait_for()
    assert await page.locator("#add-member").count() == 0
    assert await page.locator("#members-table button").count() == 0  # no role pickers, no Remove
    assert "member" in await page.locator("#user-role").inner_text()
    await page.goto("/agent")
    await page.locator("#settings-livekit").click()
    await page.locator("#admins-only").wait_for()
    assert await page.locator(".secret-input").count() == 0
    assert await page.locator("#livekit-chains").count() == 0
    await shot(page, "15-member-settings", full_page=False)
    await context.close()


async def test_calls_filter_pages_and_a_call(browser, app_server, app_db):
    email, org_id, agent_id = await account(app_db)
    await add_calls(app_db, org_id, agent_id, "retell", 30, cost_per_minute=0.12, seed=41)
    await add_calls(app_db, org_id, agent_id, "vapi", 40, cost_per_minute=0.09, seed=42)
    context, page = await sign_in(browser, app_server, email, "/calls")

    async def shown_ids() -> list[str]:
        await page.wait_for_function("() => !document.querySelector('.loading-state')")
        hrefs = await page.locator(".call-row a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
        return [h.rsplit("/", 1)[-1] for h in hrefs]

    # Keyset pages of 25: 70 calls → 25, 25, 20, every call once, newest first.
    await page.locator(".call-row").first.wait_for()
    pages = [await shown_ids()]
    for _ in range(2):
        await page.click("#next-page")
        await page.wait_for_function(f"() => !document.querySelector('.call-row a[href=\"/calls/{pages[-1][0]}\"]')")
        pages.append(await shown_ids())
    assert [len(p) for p in pages] == [25, 25, 20]
    async with app_db.as_service() as conn:
        cur = await conn.execute(
            "select id::text from call_records where organization_id = %s order by started_at desc, id", (org_id,))
        assert [i for p in pages for i in p] == [r["id"] for r in await cur.fetchall()]
    assert await page.locator("#next-page").is_disabled()
    await page.click("#prev-page")
    await page.wait_for_function(f"() => document.querySelector('.call-row a[href=\"/calls/{pages[1][0]}\"]')")
    assert await shown_ids() == pages[1]

    # Filters: Vapi only, then one caller's number.
    await page.click("#filter-provider")
    await page.get_by_role("option", name="vapi", exact=True).click()
    await page.click("#apply-filters")
    await page.wait_for_function("() => [...document.querySelectorAll('.call-row')].length > 0 && "
                                 "[...document.querySelectorAll('.call-row')].every(r => r.innerText.includes('vapi'))")
    assert len(await shown_ids()) == 25
    await page.click("#next-page")
    await page.wait_for_function("() => document.querySelectorAll('.call-row').length === 15")
    await page.fill("#filter-number", "+1555010007")
    await page.click("#apply-filters")
    await page.wait_for_function("() => document.querySelectorAll('.call-row').length === 1")
    row = page.locator(".call-row").first
    assert "+1555010007" in await row.inner_text() and "vapi" in await row.inner_text()
    await shot(page, "16-calls-filtered")

    # The call's page: its cost components add up to what the database holds for it.
    call_id = (await shown_ids())[0]
    await row.click()
    await page.wait_for_url(re.compile(rf"/calls/{call_id}"))
    await page.locator("#call-costs").wait_for()
    async with app_db.as_service() as conn:
        cur = await conn.execute("select cost_amount from provider_usage where call_id = %s", (call_id,))
        cost = (await cur.fetchone())["cost_amount"]
    costs = await page.locator("#call-costs").inner_text()
    assert f"Total\t${float(cost):,.4f}" in costs
    assert "I would like an appointment" in await page.locator("#transcript").inner_text()
    assert "vapi" in await page.locator("#call-info").inner_text()
    await context.close()


async def test_provider_health_shows_24_hours_by_default_then_1_hour_and_circuits(browser, app_server, app_db):
    email, _, _ = await account(app_db)
    minute = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    async with app_db.as_service() as conn:
        await conn.execute("delete from provider_health_minutely where provider_code in ('retell', 'vapi')")
        await conn.execute(
            "insert into provider_health_minutely (provider_code, kind, minute, successes, failures, latency_ms_sum, "
            "latency_ms_max) values ('retell', 'handoff', %s, 45, 5, 6000, 410), ('retell', 'webhook', %s, 45, 5, 4000, 300), "
            "('retell', 'handoff', %s, 100, 100, 1, 1), ('retell', 'handoff', %s, 1000, 0, 1, 1), "
            "('vapi', 'handoff', %s, 3, 7, 20000, 9000)",
            (minute - timedelta(minutes=5), minute - timedelta(minutes=20), minute - timedelta(minutes=90),
             minute - timedelta(days=3), minute))
        await conn.execute(
            "insert into provider_circuits (provider_code, state, consecutive_failures, opened_at, retry_at) "
            "values ('vapi', 'open', 7, now(), now() + interval '30 seconds') on conflict (provider_code) do update "
            "set state = excluded.state, consecutive_failures = excluded.consecutive_failures")
    try:
        context, page = await sign_in(browser, app_server, email, "/health")
        retell = page.locator("#health-retell")
        await retell.wait_for()
        # By default the last 24 hours: the 90-minute-old bucket counts, the 3-day-old one not.
        await page.wait_for_function("() => document.querySelector('#health-retell')?.innerText.includes('300 attempts')")
        text = await retell.inner_text()
        assert "63.3%" in text and "in the last 24 hours" in text, text
        # The last hour: 90 of 100 succeeded, 100 ms on average.
        await page.click("#window-1h")
        await page.wait_for_function("() => document.querySelector('#health-retell')?.innerText.includes('100 attempts')")
        text = await retell.inner_text()
        assert "90.0%" in text and "100 ms" in text and "410 ms" in text and "in the last hour" in text, text
        await page.click("#window-7d")
        await page.wait_for_function("() => document.querySelector('#health-retell')?.innerText.includes('1,300 attempts')")
        assert "closed" in await page.locator("#circuit-retell").inner_text()
        assert "open" in await page.locator("#circuit-vapi").inner_text()
        assert "30.0%" in await page.locator("#health-vapi").inner_text()
        await shot(page, "17-health")
        await context.close()
    finally:
        async with app_db.as_service() as conn:
            await conn.execute("delete from provider_health_minutely where provider_code in ('retell', 'vapi')")
            await conn.execute("delete from provider_circuits where provider_code = 'vapi'")


async def test_livekit_settings_show_and_save_the_catalog_chains(browser, app_server, app_db):
    email, org_id, _ = await account(app_db)
    async with app_db.as_service() as conn:
        cur = await conn.execute("select key, name, type from providers where type in ('stt', 'llm', 'tts')")
        catalog = {r["key"]: r for r in await cur.fetchall()}
    context, page = await sign_in(browser, app_server, email, "/agent")
    await page.click("#settings-livekit")
    chains = page.locator("#livekit-chains")
    await chains.wait_for()
    rows = chains.locator("tbody tr")
    await rows.first.wait_for()
    shown = [t.split("\t") for t in await rows.all_inner_texts()]
    assert sorted(r[1].strip() for r in shown) == sorted(r["name"] for r in catalog.values())
    assert [r[0].strip().lower() for r in shown] == sorted((r["type"] for r in catalog.values()),
                                                           key=["stt", "llm", "tts"].index)
    # A new organisation has nothing enabled: the page says the worker's offline tier answers.
    assert "Nothing is enabled for STT / LLM / TTS" in await page.locator("#offline-note").inner_text()
    # Enable eSpeak NG above the other TTS vendors and save: the organisation's config says so.
    espeak = rows.filter(has_text=catalog["espeak-tts"]["name"])
    await espeak.locator("input[type='number']").fill("50")
    await espeak.get_by_role("switch").click()
    row = await save_chains(page, app_db, org_id, "espeak-tts")
    assert (row["priority"], row["is_enabled"]) == (50, True)
    await page.locator("#offline-note", has_text="Nothing is enabled for STT / LLM:").wait_for()
    await chains.scroll_into_view_if_needed()
    await shot(page, "18-livekit-settings", full_page=False)
    await context.close()


async def test_agent_routing_is_saved_and_bad_splits_are_refused_in_words(browser, app_server, app_db):
    email, org_id, agent_id = await account(app_db)  # on LiveKit
    async with app_db.as_service() as conn:
        await conn.execute(
            "update provider_configs pc set sync_status = 'failed', sync_error = 'LiveKit answered 401: check the API key' "
            "from voice_ai_providers vp where vp.id = pc.provider_id and vp.code = 'livekit' and pc.agent_config_id = %s",
            (agent_id,))
    context, page = await sign_in(browser, app_server, email, "/agent")
    # The sync state says which platform failed and why.
    await page.locator("#sync-livekit", has_text="failed").wait_for()
    assert "LiveKit answered 401: check the API key" in await page.locator("#sync-section").inner_text()

    async def saved() -> dict:
        async with app_db.as_service() as conn:
            cur = await conn.execute("select fallback_order, traffic_split, prompt from agent_configs where id = %s",
                                     (agent_id,))
            return dict(await cur.fetchone())

    before = await saved()
    # Shares adding up to 90 %: refused in words, nothing saved.
    await page.fill("#prompt", "You answer for Bright Smiles. Be brief.")
    await page.fill("#split-livekit", "60")
    await page.fill("#split-vapi", "30")
    await page.click("#save-agent")
    await page.locator(".error-state", has_text="add up to 90 %, not 100 %").wait_for()
    assert await saved() == before
    # Fixed: Vapi then Retell as fallbacks, a 70/30 split between LiveKit and Vapi.
    await page.fill("#split-vapi", "40")
    await page.click("#fallback-vapi")
    await page.locator("#fallback-rank-vapi", has_text="#1").wait_for()
    await page.click("#fallback-retell")
    await page.locator("#fallback-chain", has_text="Vapi → Retell AI").wait_for()
    await page.click("#save-agent")
    await page.locator("#saved-note").wait_for()
    after = await saved()
    assert after["fallback_order"] == ["vapi", "retell"]
    assert after["traffic_split"] == {"livekit": 60, "vapi": 40}
    assert after["prompt"] == "You answer for Bright Smiles. Be brief."
    await shot(page, "19-agent-routing")
    await context.close()


async def test_switching_organisation_and_signing_out(browser, app_server, app_db):
    email, first_org, _ = await account(app_db, org="First Clinic")
    session = await auth.sign_in(app_db, email, PASSWORD)
    async with app_db.as_user(session.claims) as conn:
        second = await onboarding.set_up_organization(conn, "Second Clinic", platform="retell", custom_voice=False)
    await add_calls(app_db, second.organization.id, second.agent_id, "retell", 12, seed=51)
    context, page = await sign_in(browser, app_server, email, "/calls")
    current = (await page.locator("#org-switcher").inner_text()).strip()
    other = "Second Clinic" if current == "First Clinic" else "First Clinic"
    await page.click("#org-switcher")
    await page.get_by_role("option", name=other, exact=True).click()
    await page.locator("#org-switcher", has_text=other).wait_for()
    # The page is read again for the other organisation: its 12 calls, or none.
    if other == "Second Clinic":
        await page.wait_for_function("() => document.querySelectorAll('.call-row').length === 12")
    else:
        await page.locator(".empty-state").wait_for()
        assert await page.locator(".call-row").count() == 0
    # Signing out forgets the session: private pages send you to the sign-in page.
    await page.click("#sign-out")
    await page.wait_for_url(re.compile(r"/sign-in"))
    assert await page.evaluate("localStorage.getItem('sb_token')") in (None, "", '""')
    await page.goto("/dashboard")
    await page.wait_for_url(re.compile(r"/sign-in"))
    await context.close()


async def test_provider_health_shows_the_worker_vendors_and_their_quota(browser, app_server, app_db):
    email, org_id, _ = await account(app_db)
    minute = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    async with app_db.as_service() as conn:
        await conn.execute(
            "insert into organization_provider_configs (organization_id, provider_id, config, is_enabled, priority) "
            "select %s, id, '{}', true, 90 from providers where key = 'groq-llm' on conflict do nothing", (org_id,))
        await conn.execute(
            "insert into provider_health_minutely (provider_code, kind, minute, successes, failures, latency_ms_sum, "
            "latency_ms_max) values ('groq-llm', 'vendor', %s, 18, 2, 4000, 900) on conflict do nothing", (minute,))
        await conn.execute(
            "insert into vendor_quotas (organization_id, vendor, remaining, quota_limit, unit, resets_at) "
            "values (%s, 'groq', 120000, 500000, 'tokens', '2026-12-31 00:00:00+00')", (org_id,))
    try:
        context, page = await sign_in(browser, app_server, email, "/health")
        card = page.locator("#vendor-groq-llm")
        await card.wait_for()
        text = await card.inner_text()
        assert "Groq LLM" in text and "Language model" in text and "90.0%" in text and "200 ms" in text, text
        assert "20 attempts in the last 24 hours" in text, text
        quota = await page.locator("#quota-groq-llm").inner_text()
        assert quota == "120,000 tokens left of 500,000 · resets 31 Dec 2026 00:00 UTC", quota
        await context.close()
    finally:
        async with app_db.as_service() as conn:
            await conn.execute("delete from provider_health_minutely where provider_code = 'groq-llm'")
