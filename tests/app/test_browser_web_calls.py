""""Call in browser" in Debian's Chromium: the agent page asks our server for the platform's web-call
credentials (the exchange runs against the local LiveKit Twirp endpoint, Retell's Prism mock and a
SignalWire space answering per its document) and the platform's own SDK, bundled with the app,
starts the call. What the machine allows is the SDK's own first request, observed here by
Playwright: livekit-client's `/rtc` WebSocket with our room token, Retell's LiveKit WebSocket with
the token of `/v2/create-web-call`, Vapi's `POST /call/web` with the public key, and SignalWire's
`signalwire.connect` with the guest token. No secret key ever reaches the page."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from livekit.api import TokenVerifier

from switchboard import secrets
from tests.app.test_browser_pages import account, sign_in
from tests.providers import conftest as provider_fixtures
from tests.providers.test_webcalls import SW_AGENT, SW_ADDRESS, SW_TOKEN, signalwire_space
from tests.support.livekit_twirp import twirp_fixture

pytestmark = pytest.mark.browser

LK_KEY, LK_SECRET = "APIbrowser", "browser-secret-of-at-least-32-characters"
RETELL_KEY, RETELL_AGENT = "key_browser_retell_01", "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD"
VAPI_PRIVATE, VAPI_PUBLIC, VAPI_ASSISTANT = "vapi_browser_private_01", "pk-browser-public-7f3a", "asst_browser_1"
SW_API_TOKEN = "PT_browser_token_01"
aiohttp_server, docs = provider_fixtures.aiohttp_server, provider_fixtures.docs  # the provider tests' fixtures


twirp = twirp_fixture(LK_KEY, LK_SECRET)


async def _deploy(app_db, org, agent, code: str, agent_id: str, values: dict[str, str]) -> None:
    async with app_db.as_service() as conn:
        await conn.execute(
            """insert into provider_configs (organization_id, agent_config_id, provider_id, agent_id, sync_status)
               select %s, %s, id, %s, 'synced' from voice_ai_providers where code = %s
               on conflict (agent_config_id, provider_id) do update set agent_id = excluded.agent_id""",
            (org, agent, agent_id, code))
        await secrets.put_secret(conn, org, code, values)


async def _choose(page, name: str) -> None:
    await page.click("#web-call-platform")
    await page.get_by_role("option", name=name, exact=True).click()


async def _call(page, name: str, captured: asyncio.Future):
    if await page.locator("#web-call-hang-up").count():  # a call the previous SDK still holds
        await page.click("#web-call-hang-up")
    await page.locator("#web-call-start").wait_for()
    await _choose(page, name)
    await page.click("#web-call-start")
    return await asyncio.wait_for(captured, 60)


async def test_each_platforms_sdk_starts_the_call_with_our_credentials(
        browser, app_server, app_db, twirp, retell_prism, aiohttp_server, docs):
    email, org, agent = await account(app_db, org="Web Call Dental")
    sw_url = await signalwire_space(aiohttp_server, docs)
    await _deploy(app_db, org, agent, "livekit", "", {"url": twirp.url, "api_key": LK_KEY, "api_secret": LK_SECRET})
    await _deploy(app_db, org, agent, "retell", RETELL_AGENT, {"api_key": RETELL_KEY, "base_url": retell_prism.url})
    await _deploy(app_db, org, agent, "vapi", VAPI_ASSISTANT, {"api_key": VAPI_PRIVATE, "public_key": VAPI_PUBLIC})
    await _deploy(app_db, org, agent, "signalwire", SW_AGENT, {
        "project_id": "b3877c40-da60-4998-90ad-b792e98472af", "api_token": SW_API_TOKEN,
        "space_url": "demo.signalwire.com", "base_url": sw_url})
    context, page = await sign_in(browser, app_server, email, "/agent", permissions=["microphone"])
    try:
        loop = asyncio.get_running_loop()
        sockets: dict[str, asyncio.Future] = {k: loop.create_future() for k in ("livekit", "retell", "signalwire")}

        async def on_livekit(ws):  # our LiveKit server's address: livekit-client's signalling socket
            if not sockets["livekit"].done():
                sockets["livekit"].set_result(ws.url)
            await ws.close()

        async def on_retell(ws):  # Retell's own LiveKit project, as retell-client-js-sdk has it
            if not sockets["retell"].done():
                sockets["retell"].set_result(ws.url)
            await ws.close()

        def on_signalwire(ws):  # the region named in the guest token's header (puc.signalwire.com)
            def message(text):
                if not sockets["signalwire"].done():
                    sockets["signalwire"].set_result((ws.url, json.loads(text)))
            ws.on_message(message)

        await page.route_web_socket(twirp.url.replace("http://", "ws://") + "/**", on_livekit)
        await page.route_web_socket("wss://retell-ai-4ihahnq7.livekit.cloud/**", on_retell)
        await page.route_web_socket("wss://puc.signalwire.com/**", on_signalwire)
        vapi_request: asyncio.Future = loop.create_future()

        async def on_vapi(route):
            if not vapi_request.done():
                vapi_request.set_result((route.request.headers, route.request.post_data_json))
            await route.fulfill(status=401, json={"message": "Invalid Key", "statusCode": 401})

        await page.route("https://api.vapi.ai/**", on_vapi)
        await page.locator("#web-call-section").scroll_into_view_if_needed()

        # LiveKit: the room token for the room our worker was dispatched to.
        url = urlsplit(await _call(page, "LiveKit", sockets["livekit"]))
        assert url.path.startswith("/rtc")
        token = parse_qs(url.query)["access_token"][0]
        claims = TokenVerifier(LK_KEY, LK_SECRET).verify(token)
        assert claims.video.room_join and claims.video.room == twirp.find("AgentDispatchService", "CreateDispatch").room
        await page.locator("#web-call-error").wait_for()  # the socket was closed: told in words
        assert "could not be connected" in await page.locator("#web-call-error").inner_text()

        # Retell: the access token /v2/create-web-call answers (Prism answers the document's example).
        async with httpx.AsyncClient() as http:
            expected = (await http.post(retell_prism.url + "/v2/create-web-call", json={"agent_id": RETELL_AGENT},
                                        headers={"Authorization": "Bearer k"})).json()["access_token"]
        url = urlsplit(await _call(page, "Retell", sockets["retell"]))
        assert url.path.startswith("/rtc") and parse_qs(url.query)["access_token"] == [expected]

        # Vapi: the browser posts the call itself, with the public key and the agent's assistant.
        headers, body = await _call(page, "Vapi", vapi_request)
        assert headers["authorization"] == f"Bearer {VAPI_PUBLIC}"
        assert body["assistantId"] == VAPI_ASSISTANT

        # SignalWire: the SDK connects with the guest token allowed to dial the agent's address only.
        ws_url, connect = await _call(page, "SignalWire", sockets["signalwire"])
        assert urlsplit(ws_url).hostname == "puc.signalwire.com"
        assert connect["method"] == "signalwire.connect"
        assert connect["params"]["authentication"]["jwt_token"] == SW_TOKEN
        assert SW_ADDRESS["channels"]["audio"].startswith("/public/")

        html = await page.content()
        for secret in (LK_SECRET, RETELL_KEY, VAPI_PRIVATE, SW_API_TOKEN):
            assert secret not in html
    finally:
        await context.close()


async def test_a_platform_that_cannot_be_called_yet_says_what_is_missing(browser, app_server, app_db):
    email, org, agent = await account(app_db, org="No Keys Dental")
    context, page = await sign_in(browser, app_server, email, "/agent")
    try:
        await page.locator("#web-call-section").scroll_into_view_if_needed()
        await _choose(page, "Retell")
        await page.click("#web-call-start")
        error = page.locator("#web-call-error")
        await error.wait_for()
        assert "not on Retell yet" in await error.inner_text()
    finally:
        await context.close()
