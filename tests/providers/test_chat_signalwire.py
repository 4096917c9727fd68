"""SignalWire AI text conversations against a Prism mock of SignalWire's REST document, each
JSON-RPC body checked against the full document: create_conversation with the signed config_url
of the SWML we serve, chat per turn, end_conversation; a JSON-RPC error in an HTTP 200 is a
refusal; the signed URL verifies only unchanged and unexpired."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest

from switchboard.providers.base import AgentRef, ProviderCredentials, ProviderRejected
from switchboard.providers.chat import ChatContext, ChatSession, TextChat
from switchboard.providers.resilience import RetryPolicy
from switchboard.providers.signalwire import SignalWireProvider
from switchboard.providers.signalwire.chat import NO_KEY, compile_chat_swml, conversation_swml_url, verify_swml_url
from switchboard.settings import Settings

ORG, AGENT, CONV = "9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41", "3f6a1d2c-8b9e-4f70-a1b2-c3d4e5f60718", "0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"
CONTEXT = ChatContext(organization_id=ORG, agent_config_id=AGENT, conversation_id=CONV)


@pytest.fixture
def signalwire(signalwire_prism, http_client) -> SignalWireProvider:
    creds = ProviderCredentials(values={"project_id": "b4a4c8b6-0c5e-4a7e-9f1f-3a2b1c0d9e8f", "api_token": "PT_token",
                                        "space_url": "demo.signalwire.com"}, base_url=signalwire_prism.url)
    return SignalWireProvider(creds, http_client=http_client, retry=RetryPolicy(attempts=1, attempt_timeout=10))


async def test_create_chat_end_are_json_rpc_calls_the_document_accepts(signalwire, recorder, docs, spec):
    assert isinstance(signalwire, TextChat) and signalwire.chat_missing(AgentRef()) is None
    session = await signalwire.start_chat(AgentRef(), spec, CONTEXT)
    assert session.platform_conversation_id == CONV
    reply = await signalwire.chat(AgentRef(), spec, session, "Are you open on Monday?")
    assert isinstance(reply.text, str) and reply.tool_calls == [] and reply.cost is None
    await signalwire.end_chat(AgentRef(), session)
    docs["signalwire"].assert_valid_requests(recorder.requests)
    bodies = [r.json() for r in recorder.requests]
    assert [b["method"] for b in bodies] == ["create_conversation", "chat", "end_conversation"]
    assert all(r.path == "/api/ai/chat" and r.headers["authorization"].startswith("Basic ") for r in recorder.requests)
    create = bodies[0]["params"]
    assert create["id"] == CONV and create["user_meta_data"] == {"organization_id": ORG, "agent_config_id": AGENT}
    url = urlsplit(create["config_url"])
    assert url.path == f"/functions/v1/signalwire-chat-swml/{ORG}/{AGENT}/{CONV}"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    from switchboard.settings import get_settings

    assert verify_swml_url(get_settings(), ORG, AGENT, CONV, query["expires"], query["sig"])
    assert bodies[1]["params"] == {"id": CONV, "message": "Are you open on Monday?"}
    assert bodies[2]["params"] == {"id": CONV}


async def test_a_json_rpc_error_is_a_refusal_in_our_words(aiohttp_server, http_client, spec):
    from aiohttp import web

    async def chat(request):
        body = await request.json()
        return web.json_response({"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32602, "message": "secret detail"}})

    url = await aiohttp_server([("POST", "/api/ai/chat", chat)])
    sw = SignalWireProvider(ProviderCredentials(values={"project_id": "p", "api_token": "t", "space_url": "x"}, base_url=url),
                            http_client=http_client, retry=RetryPolicy(attempts=1))
    with pytest.raises(ProviderRejected) as caught:
        await sw.chat(AgentRef(), spec, ChatSession(state={"id": CONV}), "hello")
    assert caught.value.message == "SignalWire refused chat" and "secret" not in caught.value.message


def test_the_signed_url_verifies_only_as_issued() -> None:
    s = Settings(JWT_SECRET="a-test-jwt-secret-of-enough-length-123456")
    query = {k: v[0] for k, v in parse_qs(urlsplit(conversation_swml_url(s, UUID(ORG), UUID(AGENT), UUID(CONV))).query).items()}
    assert verify_swml_url(s, ORG, AGENT, CONV, query["expires"], query["sig"])
    assert not verify_swml_url(s, ORG, CONV, AGENT, query["expires"], query["sig"])  # another agent's
    assert not verify_swml_url(s, ORG, AGENT, CONV, str(int(query["expires"]) + 1), query["sig"])
    assert not verify_swml_url(s, ORG, AGENT, CONV, query["expires"], None)
    assert not verify_swml_url(s, ORG, AGENT, CONV, query["expires"], query["sig"], now=time.time() + 2 * 86400)
    other = Settings(JWT_SECRET="another-jwt-secret-of-enough-length-654321")
    assert not verify_swml_url(other, ORG, AGENT, CONV, query["expires"], query["sig"])


def test_the_swml_is_the_agents_ai_verb_alone(spec) -> None:
    doc = compile_chat_swml(spec)
    [verb] = doc["sections"]["main"]
    assert verb["ai"]["prompt"]["text"] == spec.prompt and "post_prompt_url" not in verb["ai"]
    assert {f["function"] for f in verb["ai"]["SWAIG"]["functions"]} >= {"book_appointment"}


def test_without_credentials_it_says_what_is_missing() -> None:
    assert SignalWireProvider(ProviderCredentials()).chat_missing(AgentRef()) == NO_KEY
