"""Browser-call credentials on each platform: Retell's `/v2/create-web-call` against a Prism mock,
SignalWire's Fabric guest token against a local space answering per its full document (every body
checked against the FULL documents), Vapi's
public key and assistant (no request), LiveKit's dispatch against the local Twirp endpoint with
the room token verified by livekit-api itself."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from livekit.api import TokenVerifier

from switchboard.providers.livekit.dispatch import DispatchMetadata
from switchboard.providers.base import NotConfigured, ProviderCredentials, ProviderRejected
from switchboard.spec import AgentRef
from switchboard.providers.livekit.adapter import LiveKitProvider
from switchboard.providers.livekit.compile import AGENT_NAME
from switchboard.providers.resilience import RetryPolicy
from switchboard.providers.retell.adapter import RetellProvider
from switchboard.providers.signalwire.adapter import SignalWireProvider
from switchboard.providers.vapi.adapter import VapiProvider
from tests.support.livekit_twirp import twirp_fixture

ORG = "9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41"
AGENT_CONFIG = "3f6a1d2c-8b9e-4f70-a1b2-c3d4e5f60718"
META = {"organization_id": ORG, "agent_config_id": AGENT_CONFIG, "source": "web_call"}
RETRY = RetryPolicy(attempts=2, attempt_timeout=10, base_delay=0.01)
LK_KEY, LK_SECRET = "APIkey123", "secret-of-at-least-32-characters-long"


async def test_retell_web_call_is_an_access_token_for_the_agent(retell_prism, http_client, recorder, docs):
    retell = RetellProvider(ProviderCredentials(values={"api_key": "key_test_retell"}, base_url=retell_prism.url),
                            http_client=http_client, retry=RETRY)
    call = await retell.create_web_call(AgentRef(agent_id="oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD"), metadata=META)
    assert call.sdk == "retell-client-js-sdk" and call.access_token and call.call_id
    assert call.expires_at and call.expires_at > datetime.now(timezone.utc)
    body = recorder.find("POST", "/v2/create-web-call").json()
    assert body == {"agent_id": "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD", "metadata": META}
    docs["retell"].assert_valid_requests(recorder.requests)
    assert "key_test_retell" not in call.model_dump_json()  # the API key never goes to the browser


async def test_retell_needs_the_agent_deployed(retell_prism, http_client):
    retell = RetellProvider(ProviderCredentials(values={"api_key": "key_test_retell"}, base_url=retell_prism.url),
                            http_client=http_client, retry=RETRY)
    with pytest.raises(NotConfigured, match="Retell agent id"):
        await retell.create_web_call(AgentRef(), metadata=META)


async def test_vapi_web_call_is_the_public_key_and_assistant_without_a_request(http_client, recorder):
    creds = ProviderCredentials(values={"api_key": "vapi_private_key", "public_key": "pk-3f2a-public"},
                                base_url="http://127.0.0.1:9")
    vapi = VapiProvider(creds, http_client=http_client, retry=RETRY)
    call = await vapi.create_web_call(AgentRef(agent_id="asst_123"), metadata=META)
    assert (call.sdk, call.public_key, call.assistant_id) == ("@vapi-ai/web", "pk-3f2a-public", "asst_123")
    assert "vapi_private_key" not in call.model_dump_json()
    assert recorder.requests == []
    without = VapiProvider(ProviderCredentials(values={"api_key": "vapi_private_key"}), http_client=http_client)
    with pytest.raises(NotConfigured, match="Vapi public key"):
        await without.create_web_call(AgentRef(agent_id="asst_123"), metadata=META)


SW_AGENT = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
SW_ADDRESS = {
    "id": "691af061-cd86-4893-a605-173f47afc4c2", "name": "front-desk", "display_name": "Front desk",
    "cover_url": "https://coverurl.com", "preview_url": "https://previewurl.com", "locked": False, "type": "app",
    "channels": {"audio": "/public/front-desk?channel=audio"}, "created_at": "2026-12-03T12:20:00Z",
}
# The example token of SignalWire's document (a SAT JWE whose header names the region host).
SW_TOKEN = ("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiY2giOiJwdWMuc2lnbmFsd2lyZS5jb20iLCJ0eXAiOiJTQVQifQ"
            "..8O4EJs349q97jAcd.H4GNrC6gsWdz91ArWF9ce00Cm62iHfsrFRRUUGW3e96j9C3IphiJXvHYHTmD4qMt8czZ8cniF8c53vVAIZF.DcLVYpma")


async def signalwire_space(aiohttp_server, docs) -> str:
    """The two Fabric operations, answering what SignalWire's full document says they answer
    (the flat Prism reduction drops the address list's item fields, which the exchange needs)."""
    from aiohttp import web

    doc = docs["signalwire"]
    addresses = {"data": [SW_ADDRESS], "links": {"self": "https://demo.signalwire.com/api/fabric/resources/ai_agents/x/addresses",
                                                  "first": "https://demo.signalwire.com/api/fabric/resources/ai_agents/x/addresses"}}
    doc.validate_component("AIAgentAddressListResponse", addresses)
    token = {"token": SW_TOKEN, "refresh_token": SW_TOKEN}
    doc.validate_component("SubscriberGuestTokenCreateResponse", token)

    async def list_addresses(request):
        return web.json_response(addresses if request.match_info["id"] == SW_AGENT else {"errors": []},
                                 status=200 if request.match_info["id"] == SW_AGENT else 404)

    async def guest_token(request):
        doc.validate_component("SubscriberGuestTokenCreateRequest", await request.json())
        return web.json_response(token, status=201)

    return await aiohttp_server([("GET", "/api/fabric/resources/ai_agents/{id}/addresses", list_addresses),
                                 ("POST", "/api/fabric/guests/tokens", guest_token)])


async def test_signalwire_web_call_is_a_guest_token_for_the_agents_address(aiohttp_server, http_client, recorder, docs):
    url = await signalwire_space(aiohttp_server, docs)
    creds = ProviderCredentials(values={"project_id": "b3877c40-da60-4998-90ad-b792e98472af", "api_token": "PT_token",
                                        "space_url": "demo.signalwire.com"}, base_url=url)
    sw = SignalWireProvider(creds, http_client=http_client, retry=RETRY)
    call = await sw.create_web_call(AgentRef(agent_id=SW_AGENT), metadata=META)
    assert (call.sdk, call.access_token, call.address) == ("@signalwire/js", SW_TOKEN, "/public/front-desk?channel=audio")
    recorder.find("GET", f"/api/fabric/resources/ai_agents/{SW_AGENT}/addresses")
    body = recorder.find("POST", "/api/fabric/guests/tokens").json()
    assert body["allowed_addresses"] == [SW_ADDRESS["id"]]  # this agent's address, nothing else
    assert time.time() < body["expire_at"] <= time.time() + 600 + 5
    docs["signalwire"].assert_valid_requests(recorder.requests)
    assert "PT_token" not in call.model_dump_json()
    with pytest.raises(ProviderRejected, match="404"):
        await sw.create_web_call(AgentRef(agent_id="00000000-0000-4000-8000-000000000000"), metadata=META)


twirp = twirp_fixture(LK_KEY, LK_SECRET)


async def test_livekit_web_call_dispatches_the_worker_and_gives_a_token_for_that_room_only(twirp):
    creds = ProviderCredentials(values={"url": "https://demo-project.livekit.cloud", "api_key": LK_KEY,
                                        "api_secret": LK_SECRET}, base_url=twirp.url)
    livekit = LiveKitProvider(creds, retry=RETRY)
    try:
        call = await livekit.create_web_call(AgentRef(), metadata=META)
    finally:
        await livekit.aclose()
    assert call.sdk == "livekit-client" and call.url == "wss://demo-project.livekit.cloud"
    dispatch = twirp.find("AgentDispatchService", "CreateDispatch")
    assert dispatch.agent_name == AGENT_NAME and dispatch.room == call.call_id and call.call_id.startswith("web-")
    assert DispatchMetadata.parse(dispatch.metadata).agent_config_id.hex == AGENT_CONFIG.replace("-", "")
    assert json.loads(dispatch.metadata)["organization_id"] == ORG
    claims = TokenVerifier(LK_KEY, LK_SECRET).verify(call.access_token)
    assert claims.video.room_join and claims.video.room == call.call_id
    assert not claims.video.room_admin and not claims.video.room_create and not claims.video.room_list
    assert claims.identity.startswith("browser-")
    with pytest.raises(Exception):
        TokenVerifier(LK_KEY, "another-secret-of-at-least-32-chars").verify(call.access_token)
    assert LK_SECRET not in call.model_dump_json()
