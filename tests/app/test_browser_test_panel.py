"""The agent page's test panel in Debian's Chromium, as the demo organisation: "All configured
platforms" side by side — LiveKit on the offline tier with no key (the worker's own text endpoint,
as `make run` starts it), Retell and Vapi through Prism mocks of their documents — three turns
typed as the caller, each reply with its tools and latency; the platform that cannot be tried yet
says what is missing; Reset ends the conversations, which stay on the calls page; one platform
alone has one column."""

from __future__ import annotations

import pytest

from switchboard import secrets
from switchboard.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from tests.app.conftest import shot
from tests.app import test_browser_pages

pytestmark = pytest.mark.browser

# Every column has answered caller line n (or says why it could not).
ANSWERED = """(n) => ['livekit', 'retell', 'vapi'].every(code => {
    const col = document.querySelector('#test-column-' + code);
    if (col.querySelector('.column-error')) return true;
    const rows = [...col.querySelectorAll('.turn-caller, .turn-agent')];
    const callers = rows.flatMap((r, i) => r.classList.contains('turn-caller') ? [i] : []);
    return callers.length >= n && rows.slice(callers[n - 1] + 1).some(r => r.classList.contains('turn-agent'));
})"""
TURNS = ("Where can I park?", "Is there a free appointment slot on 2026-12-10?", "Can I talk to a person please?")


async def _configure(app_db, org, agent, retell_url: str, vapi_url: str) -> None:
    """Retell and Vapi keys pointing at the mocks, and the agent's Retell LLM as a sync leaves it."""
    async with app_db.as_service() as conn:
        await secrets.put_secret(conn, org, "retell", {"api_key": "key_panel_retell_01", "base_url": retell_url})
        await secrets.put_secret(conn, org, "vapi", {"api_key": "vapi_panel_private_01", "base_url": vapi_url})
        await conn.execute(
            """insert into provider_configs (organization_id, agent_config_id, provider_id, agent_id, llm_id, sync_status)
               select %s, %s, id, 'oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD', 'oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD', 'synced'
               from voice_ai_providers where code = 'retell'
               on conflict (agent_config_id, provider_id) do update set llm_id = excluded.llm_id, sync_status = 'synced'""",
            (org, agent))


async def test_three_turns_side_by_side_on_every_configured_platform(
        browser, app_server, app_db, worker_chat, retell_prism, vapi_prism, monkeypatch):
    demo = (await seed_demo(app_db, 0, other_calls=0, seed=3)).demo
    await _configure(app_db, demo.organization_id, demo.agent_config_id, retell_prism.url, vapi_prism.url)
    monkeypatch.setattr(test_browser_pages, "PASSWORD", DEMO_PASSWORD)
    context, page = await test_browser_pages.sign_in(browser, app_server, DEMO_EMAIL, "/agent")
    try:
        panel = page.locator("#test-panel")
        await panel.scroll_into_view_if_needed()
        await page.click("#test-start")  # "All configured platforms" is the default
        for code in ("livekit", "retell", "vapi"):
            await page.locator(f"#test-column-{code}").wait_for()
        # SignalWire has no key here: named, with what is missing, instead of a column.
        missing = page.locator(".test-unavailable")
        await missing.first.wait_for()
        words = await missing.all_inner_texts()
        assert any(w.startswith("SignalWire") and "SignalWire" in w.split(":", 1)[1] for w in words), words
        assert await page.locator("#test-column-signalwire").count() == 0
        livekit = page.locator("#test-column-livekit")
        greeting = livekit.locator(".turn-reply").first
        await greeting.wait_for()
        assert "Thanks for calling Demo Dental" in await greeting.inner_text()

        for n, text in enumerate(TURNS, start=1):
            await page.fill("#test-message", text)
            await page.click("#test-send")
            for code in ("livekit", "retell", "vapi"):
                column = page.locator(f"#test-column-{code}")
                await column.locator(".turn-caller").nth(n - 1).wait_for()
            # Each platform answers the turn: its reply and the turn's latency.
            await page.wait_for_function(ANSWERED, arg=n)
        for code in ("livekit", "retell", "vapi"):
            column = page.locator(f"#test-column-{code}")
            assert await column.locator(".column-error").count() == 0, await column.inner_text()
            assert await column.locator(".turn-caller").all_inner_texts() == [f"You: {t}" for t in TURNS]
            latencies = await column.locator(".turn-latency").all_inner_texts()
            assert len(latencies) >= 3 and all(t.endswith(")") or t.endswith("ms") for t in latencies), latencies
            assert all(t.split(" ms")[0].replace(",", "").isdigit() for t in latencies)
        # LiveKit's offline agent called its tools on turns 2 and 3, shown with the reply.
        tools = await livekit.locator(".turn-agent").nth(2).locator(".turn-tool").all_inner_texts()
        assert tools and tools[0].startswith('check_availability({"date": "2026-12-10"})')
        transfer = await livekit.locator(".turn-agent").nth(3).locator(".turn-tool").all_inner_texts()
        assert transfer and transfer[0].startswith("transfer_to_front_desk")
        # Side by side: the three columns share a row.
        boxes = [await page.locator(f"#test-column-{c}").bounding_box() for c in ("livekit", "retell", "vapi")]
        assert len({round(b["y"]) for b in boxes}) == 1 and len({round(b["x"]) for b in boxes}) == 3
        await shot(page, "agent-test-panel")

        # Start over: the conversations end (kept on the calls page as chats) and new ones begin.
        async with app_db.as_service() as conn:
            before = (await (await conn.execute(
                "select count(*) as n from call_records where organization_id = %s and direction = 'chat' and status = 'ended'",
                (demo.organization_id,))).fetchone())["n"]
        await page.click("#test-reset")
        await page.wait_for_function("() => document.querySelectorAll('#test-panel .turn-caller').length === 0")
        await livekit.locator(".turn-reply").first.wait_for()
        async with app_db.as_service() as conn:
            after = (await (await conn.execute(
                "select count(*) as n from call_records where organization_id = %s and direction = 'chat' and status = 'ended'",
                (demo.organization_id,))).fetchone())["n"]
        assert after == before + 3

        # One platform alone: only its column.
        await page.click("#test-platform")
        await page.get_by_role("option", name="LiveKit", exact=True).click()
        await page.click("#test-reset")
        await page.wait_for_function("() => document.querySelectorAll('#test-panel .test-column').length === 1")
        await livekit.locator(".turn-reply").first.wait_for()
        assert await page.locator(".test-unavailable").count() == 0
    finally:
        await context.close()
