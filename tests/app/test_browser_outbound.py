"""Issue #14 point 4 in Debian's Chromium: "Call a number" on the agent page places a call on
the organisation's LiveKit (a local Twirp endpoint decoding the real protobuf messages, with the
organisation's own keys), refuses a bad number and a do-not-call number in words storing
nothing, and "End call" on the live call's page hangs it up (DeleteRoom)."""

from __future__ import annotations

import random

import pytest

from switchboard import secrets
from tests.app.conftest import shot
from tests.app.test_browser_pages import account, sign_in
from tests.support.livekit_twirp import LiveKitTwirpServer

pytestmark = pytest.mark.browser

KEY, SECRET = "APIbrowseroutbound", "browser-outbound-secret-of-32-chars-at-least"


async def outbound_count(db, org) -> int:
    async with db.as_service() as conn:
        row = await (await conn.execute("select count(*) as n from call_records where organization_id = %s "
                                        "and direction = 'outbound'", (org,))).fetchone()
    return row["n"]


async def test_call_a_number_then_end_the_call(browser, app_server, app_db):
    email, org_id, agent_id = await account(app_db)  # on LiveKit
    number = f"+1415{random.randrange(10**6, 10**7)}"
    to = "+14155550111"
    twirp = LiveKitTwirpServer(KEY, SECRET)
    url = await twirp.start()
    try:
        async with app_db.as_service() as conn:
            await conn.execute("insert into phone_numbers (organization_id, agent_config_id, e164) values (%s, %s, %s)",
                               (org_id, agent_id, number))
            await secrets.put_secret(conn, org_id, "livekit", {"url": url, "api_key": KEY, "api_secret": SECRET,
                                                                "outbound_trunk_id": "ST_outbound"})
        context, page = await sign_in(browser, app_server, email, "/agent")

        # A number that is not E.164: refused in words, nothing stored, nothing dialled.
        await page.click("#call-a-number")
        await page.fill("#call-to", "555 0111")
        await page.click("#call-place")
        await page.locator("#call-error", has_text="international form").wait_for()
        assert await outbound_count(app_db, org_id) == 0 and twirp.calls == []

        # The call, from the agent's own number (the default), on LiveKit.
        await page.fill("#call-to", to)
        await page.select_option("#call-platform", "livekit")
        await page.click("#call-place")
        await page.locator("#call-result", has_text=f"Calling {to} from {number} on LiveKit").wait_for()
        participant = twirp.find("SIP", "CreateSIPParticipant")
        assert participant.sip_call_to == to and participant.sip_number == number and participant.sip_trunk_id == "ST_outbound"
        assert await outbound_count(app_db, org_id) == 1
        await shot(page, "40-call-a-number")
        href = await page.locator("#call-link").get_attribute("href")

        await page.click("#call-close")

        # The do-not-call list on the calls page: a bad number refused in words, then the number added.
        await page.goto("/calls")
        await page.locator("#do-not-call").wait_for()
        await page.fill("#dnc-number", "0111")
        await page.click("#dnc-add")
        await page.locator("#dnc-error", has_text="international form").wait_for()
        await page.fill("#dnc-number", to)
        await page.click("#dnc-add")
        await page.locator(".dnc-number", has_text=to).wait_for()
        await shot(page, "42-do-not-call")

        # Calling a number on the list: refused in words, nothing more stored, nothing dialled.
        await page.goto("/agent")
        await page.click("#call-a-number")
        await page.fill("#call-to", to)
        await page.click("#call-place")
        await page.locator("#call-error", has_text="is on your organisation's do-not-call list").wait_for()
        assert await outbound_count(app_db, org_id) == 1
        assert [c.method for c in twirp.calls] == ["CreateDispatch", "CreateSIPParticipant"]
        await page.click("#call-close")

        # The live call's page offers "End call"; the platform is asked to hang up.
        await page.goto(href)
        await page.locator("#end-call").wait_for()
        await page.click("#end-call")
        await page.locator("#end-call-note", has_text="LiveKit is ending the call").wait_for()
        assert twirp.find("RoomService", "DeleteRoom").room == participant.room_name
        await shot(page, "41-end-call")
        await context.close()
    finally:
        await twirp.stop()

