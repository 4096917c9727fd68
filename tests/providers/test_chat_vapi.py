"""Vapi text conversations against a Prism mock of Vapi's (flattened) document, each body checked
against the full document: POST /chat with the synced assistant's id or the compiled assistant
inline, `previousChatId` from the second turn; the reply's tool calls and reported cost."""

from __future__ import annotations

from decimal import Decimal

import pytest

from switchboard.providers.base import AgentRef, ProviderCredentials
from switchboard.providers.chat import ChatContext, TextChat
from switchboard.providers.resilience import RetryPolicy
from switchboard.providers.vapi import VapiProvider
from switchboard.providers.vapi.chat import NO_KEY, reply_from

CONTEXT = ChatContext(organization_id="9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41",
                      agent_config_id="3f6a1d2c-8b9e-4f70-a1b2-c3d4e5f60718",
                      conversation_id="0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a")
ASSISTANT = "5b0a6f2e-7c3d-4e1f-9a8b-0c1d2e3f4a5b"


@pytest.fixture
def vapi(vapi_prism, http_client) -> VapiProvider:
    creds = ProviderCredentials(values={"api_key": "vapi_private_key"}, base_url=vapi_prism.url)
    return VapiProvider(creds, http_client=http_client, webhook_base_url="https://switchboard.example.com",
                        retry=RetryPolicy(attempts=1, attempt_timeout=10))


async def test_turns_are_chats_chained_by_previous_chat_id(vapi, recorder, docs, spec):
    ref = AgentRef(agent_id=ASSISTANT)
    assert isinstance(vapi, TextChat) and vapi.chat_missing(ref) is None
    session = await vapi.start_chat(ref, spec, CONTEXT)
    assert recorder.requests == []  # nothing opens on Vapi before the first message
    first = await vapi.chat(ref, spec, session, "Are you open on Saturday?")
    session.state = first.state
    await vapi.chat(ref, spec, session, "And on Sunday?")
    await vapi.end_chat(ref, session)
    docs["vapi"].assert_valid_requests(recorder.requests)
    bodies = [r.json() for r in recorder.requests]
    assert [r.path for r in recorder.requests] == ["/chat", "/chat"]
    assert bodies[0] == {"input": "Are you open on Saturday?", "assistantId": ASSISTANT}
    assert bodies[1]["previousChatId"] == first.state["previous_chat_id"] and bodies[1]["input"] == "And on Sunday?"
    assert all(r.headers["authorization"] == "Bearer vapi_private_key" for r in recorder.requests)


async def test_an_agent_not_on_vapi_is_sent_inline_as_the_compiled_assistant(vapi, recorder, docs, spec):
    session = await vapi.start_chat(AgentRef(), spec, CONTEXT)
    await vapi.chat(AgentRef(), spec, session, "Hello")
    docs["vapi"].assert_valid_requests(recorder.requests)
    body = recorder.find("POST", "/chat").json()
    assert "assistantId" not in body and body["assistant"] == vapi.native_form(spec)["assistant"]


def test_reply_reads_tool_calls_results_and_the_reported_cost() -> None:
    reply = reply_from({
        "id": "chat_2", "cost": 0.0123,
        "output": [
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                                  "function": {"name": "book_appointment", "arguments": '{"day": "2026-12-07"}'}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "booked"},
            {"role": "assistant", "content": "Booked for Monday."},
        ],
    })
    assert reply.text == "Booked for Monday." and reply.cost == Decimal("0.0123")
    assert [(c.name, c.arguments, c.result) for c in reply.tool_calls] == [("book_appointment", {"day": "2026-12-07"}, "booked")]
    assert reply.state == {"previous_chat_id": "chat_2"}
    assert reply_from({"id": "x", "output": []}).cost is None  # not reported: unpriced, never $0


def test_without_a_key_it_says_what_is_missing(vapi_prism) -> None:
    assert VapiProvider(ProviderCredentials(base_url=vapi_prism.url)).chat_missing(AgentRef()) == NO_KEY
