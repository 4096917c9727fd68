"""Invitations in Debian's Chromium: an owner invites an address that has no account, the link is
shown (and copied); a fresh browser opens it, signs up with that address and lands in the
organisation with the role given; a second use of the link is refused in words; a revoked one
too, and the pending list shows what is left."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.app.conftest import shot
from tests.app.test_browser_pages import PASSWORD, account, sign_in

pytestmark = pytest.mark.browser

NEW_PASSWORD = "correct horse battery staple 42"


async def fresh_page(browser, app_server):
    context = await browser.new_context(base_url=app_server.url, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(20_000)
    return context, await context.new_page()


async def test_an_invited_newcomer_signs_up_through_the_link_and_joins_with_the_role(browser, app_server, app_db):
    owner_email, org_id, _ = await account(app_db, org="Invite Dental")
    newcomer = f"new-{uuid.uuid4().hex[:8]}@example.test"
    context, page = await sign_in(browser, app_server, owner_email, "/members")
    # What the Copy button hands the clipboard (reading the real clipboard back needs focus, which
    # a headless browser on a busy machine does not reliably have).
    await page.evaluate("() => { window.__copied = []; navigator.clipboard.writeText = (t) => "
                        "{ window.__copied.push(t); return Promise.resolve(); }; }")

    await page.fill("#invite-email", newcomer.replace("new-", "New-"))  # the address is matched case-insensitively
    await page.click("#invite-role")
    await page.get_by_role("option", name="admin", exact=True).click()
    await page.click("#invite-submit")
    link_box = page.locator("#invite-link")
    await link_box.wait_for()
    link = await link_box.input_value()
    assert re.fullmatch(re.escape(app_server.url.rstrip("/")) + r"/invite/[0-9a-f]{32}\.[A-Za-z0-9_-]{43}", link), link
    await page.locator(".invite-row", has_text=newcomer).wait_for()
    assert "admin" in await page.locator(".invite-row", has_text=newcomer).inner_text()
    await page.click("#copy-invite-link")
    await page.wait_for_function("() => window.__copied.length > 0")
    assert await page.evaluate("window.__copied") == [link]
    await shot(page, "20-invitation-link")
    # A second invitation, revoked: its link stops working.
    other = f"other-{uuid.uuid4().hex[:8]}@example.test"
    await page.fill("#invite-email", other)
    await page.click("#invite-submit")
    await page.wait_for_function("(old) => { const e = document.querySelector('#invite-link'); "
                                 "return e && e.value && e.value !== old; }", arg=link)
    revoked_link = await page.locator("#invite-link").input_value()
    assert revoked_link != link
    await page.locator(".invite-row", has_text=other).get_by_role("button", name=re.compile("Revoke")).click()
    await page.wait_for_function(f"() => ![...document.querySelectorAll('.invite-row')].some(r => r.innerText.includes('{other}'))")
    await context.close()

    # A fresh browser (no session) opens the link, signs up with the invited address, and is in.
    context, page = await fresh_page(browser, app_server)
    await page.goto(link)
    summary = page.locator("#invite-summary")
    await summary.wait_for()
    text = await summary.inner_text()
    assert "Invite Dental" in text and newcomer in text and "admin" in text
    assert await page.locator("#invite-address").input_value() == newcomer
    await shot(page, "21-invitation-sign-up")
    await page.fill("#password", NEW_PASSWORD)
    await page.fill("#password_again", NEW_PASSWORD)
    await page.click("#submit")
    await page.wait_for_url(re.compile(r"/dashboard"))
    await page.locator("#user-role").wait_for()
    assert (await page.locator("#user-role").inner_text()).strip() == "admin"
    assert "Invite Dental" in await page.locator("#org-switcher").inner_text()
    assert (await page.locator("#user-email").inner_text()).strip() == newcomer
    async with app_db.pool.connection() as conn:  # auth.users belongs to the auth service
        cur = await conn.execute(
            "select m.role::text as role from memberships m join auth.users u on u.id = m.user_id "
            "where m.organization_id = %s and u.email = %s", (org_id, newcomer))
        assert [r["role"] for r in await cur.fetchall()] == ["admin"]
    await shot(page, "22-invitation-joined")
    # The same browser, signed in, opening the link again: used.
    await page.goto(link)
    await page.locator("#invite-problem", has_text="already been used").wait_for()
    await context.close()

    # Anyone else opening it later: refused in words, no form to sign up with.
    context, page = await fresh_page(browser, app_server)
    await page.goto(link)
    problem = page.locator("#invite-problem")
    await problem.wait_for()
    assert "This invitation has already been used" in await problem.inner_text()
    assert await page.locator("#password").count() == 0
    await shot(page, "23-invitation-used")
    await page.goto(revoked_link)
    await page.locator("#invite-problem", has_text="revoked").wait_for()
    await page.goto(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"))
    await page.locator("#invite-problem", has_text="not valid").wait_for()
    await context.close()


async def test_an_existing_account_signs_in_through_the_link_and_a_wrong_one_is_told(browser, app_server, app_db):
    owner_email, org_id, _ = await account(app_db, org="Second Practice")
    invitee_email, _, _ = await account(app_db, org=None)  # has an account, no organisation
    context, page = await sign_in(browser, app_server, owner_email, "/members")
    await page.fill("#invite-email", invitee_email)
    await page.click("#invite-submit")
    link = await page.locator("#invite-link").input_value()
    # The owner, signed in as themselves, opening it: the wrong account, in words.
    await page.goto(link)
    await page.locator(".error-state", has_text=f"This invitation is for {invitee_email} — sign in with that address").wait_for()
    await shot(page, "24-invitation-wrong-account")
    await context.close()

    context, page = await fresh_page(browser, app_server)
    await page.goto(link)
    await page.locator("#invite-summary").wait_for()
    await page.click("#to-sign-in")
    await page.locator("#password_again").wait_for(state="detached")
    await page.fill("#password", PASSWORD)
    await page.click("#submit")
    await page.wait_for_url(re.compile(r"/dashboard"))
    await page.locator("#user-role").wait_for()
    assert (await page.locator("#user-role").inner_text()).strip() == "member"
    assert "Second Practice" in await page.locator("#org-switcher").inner_text()
    await context.close()
