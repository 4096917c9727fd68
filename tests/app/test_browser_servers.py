"""The LiveKit settings take the organisation's own speech servers: a Piper server's URL typed in
the chain row is saved as that vendor's config, and one the egress policy refuses is refused in
words at save time (the test app runs outside production, so a scheme it cannot use is refused)."""

from __future__ import annotations

from tests.app.test_browser_pages import account, save_chains, sign_in


async def test_a_servers_url_is_saved_with_its_chain_row_and_a_bad_one_refused_in_words(browser, app_server, app_db):
    email, org_id, _ = await account(app_db)
    context, page = await sign_in(browser, app_server, email, "/agent")
    await page.click("#settings-livekit")
    rows = page.locator("#livekit-chains tbody tr")
    await rows.first.wait_for()
    piper = rows.filter(has_text="Piper server (your own)")
    assert await rows.filter(has_text="ElevenLabs").locator(".server-url").count() == 0  # a cloud vendor takes none

    await piper.locator(".server-url input").fill("ftp://piper.example.com/")
    await page.click("#save-chains")
    await page.get_by_text("url must be an https URL on a public host").first.wait_for()

    await piper.locator(".server-url input").fill("https://piper.example.com:5000")
    await piper.get_by_role("switch").click()
    row = await save_chains(page, app_db, org_id, "piper-tts")
    assert row["is_enabled"] and row["config"]["url"] == "https://piper.example.com:5000"
    await context.close()
