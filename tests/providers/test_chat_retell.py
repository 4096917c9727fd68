"""Retell text conversations through retell-sdk against a Prism mock of Retell's document: a chat
agent on the agent's Retell LLM, a chat, a completion per turn, end-chat; every body checked
against the full document. The reply's parsing is checked on Retell's documented message kinds."""

from __future__ import annotations

import pytest

from switchboard.providers.base import AgentRef, ProviderCredentials, ProviderRejected
from switchboard.providers.chat import ChatContext, ChatSession, TextChat
from switchboard.providers.resilience import RetryPolicy
from switchboard.providers.retell import RetellProvider
from switchboard.providers.retell.chat import NO_KEY, NOT_SYNCED, _reply

CONTEXT = ChatContext(organization_id="9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41",
                      agent_config_id="3f6a1d2c-8b9e-4f70-a1b2-c3d4e5f60718",
                      conversation_id="0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a")
REF = AgentRef(agent_id="oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD", llm_id="llm_234sdertfsdsfsdf")


@pytest.fixture
def retell(retell_prism, http_client) -> RetellProvider:
    creds = ProviderCredentials(values={"api_key": "key_test_retell"}, base_url=retell_prism.url)
    return RetellProvider(creds, http_client=http_client, retry=RetryPolicy(attempts=1, attempt_timeout=10))


async def test_a_conversation_is_a_chat_agent_a_chat_completions_and_end_chat(retell, recorder, docs, spec):
    assert isinstance(retell, TextChat) and retell.chat_missing(REF) is None
    session = await retell.start_chat(REF, spec, CONTEXT)
    assert session.platform_conversation_id and session.state["chat_agent_id"]
    assert session.greeting == spec.begin_message
    reply = await retell.chat(REF, spec, session, "Can I book an appointment on Monday?")
    assert isinstance(reply.text, str)
    await retell.end_chat(REF, session)
    docs["retell"].assert_valid_requests(recorder.requests)
    agent = recorder.find("POST", "/create-chat-agent").json()
    assert agent["response_engine"] == {"type": "retell-llm", "llm_id": REF.llm_id} and agent["language"] == "en-US"
    chat = recorder.find("POST", "/create-chat").json()
    assert chat["agent_id"] == session.state["chat_agent_id"] and chat["metadata"]["conversation_id"] == CONTEXT.conversation_id
    completion = recorder.find("POST", "/create-chat-completion").json()
    assert completion == {"chat_id": session.platform_conversation_id, "content": "Can I book an appointment on Monday?"}
    assert recorder.find("PATCH", f"/end-chat/{session.platform_conversation_id}")
    assert recorder.find("DELETE", f"/delete-chat-agent/{session.state['chat_agent_id']}")
    assert all(r.headers["authorization"] == "Bearer key_test_retell" for r in recorder.requests)


def test_reply_reads_the_agents_words_and_its_tool_calls() -> None:
    reply = _reply([
        {"message_id": "1", "role": "tool_call_invocation", "tool_call_id": "t1", "name": "book_appointment",
         "arguments": '{"day": "2026-12-07", "name": "Ann"}', "created_timestamp": 1},
        {"message_id": "2", "role": "tool_call_result", "tool_call_id": "t1", "content": "booked", "successful": True,
         "created_timestamp": 2},
        {"message_id": "3", "role": "agent", "content": "You are booked for Monday.", "created_timestamp": 3},
    ])
    assert reply.text == "You are booked for Monday."
    [call] = reply.tool_calls
    assert (call.name, call.arguments, call.result, call.is_error) == ("book_appointment", {"day": "2026-12-07", "name": "Ann"}, "booked", False)
    assert reply.platform_latency_ms is None and reply.cost is None  # Retell reports neither per turn


def test_what_is_missing_is_said_in_words(retell_prism) -> None:
    keyless = RetellProvider(ProviderCredentials(values={}, base_url=retell_prism.url))
    assert keyless.chat_missing(REF) == NO_KEY == "add your Retell API key in Settings"
    keyed = RetellProvider(ProviderCredentials(values={"api_key": "k"}, base_url=retell_prism.url))
    assert keyed.chat_missing(AgentRef()) == NOT_SYNCED


async def test_an_unsynced_agent_is_refused_before_any_request(retell, recorder, spec):
    with pytest.raises(ProviderRejected):
        await retell.start_chat(AgentRef(), spec, CONTEXT)
    assert recorder.requests == []
    assert ChatSession().state == {}
