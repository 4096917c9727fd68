"""Text conversations on Vapi: `POST /chat` with the agent's assistant — its id when the agent
is synced to Vapi, else the assistant compiled from the spec, inline — and, from the second turn,
`previousChatId` naming the last chat so Vapi carries the history. Vapi keeps nothing open: there
is nothing to start or end on its side, the state is the last chat's id.

Vapi answers with `output` messages (the assistant's words, its `tool_calls`, the tools' results
as `tool` messages) and the chat's `cost` in USD, which becomes the turn's cost."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from switchboard.providers.base import AgentRef, AgentSpec
from switchboard.providers.chat import ChatContext, ChatReply, ChatSession, ChatToolCall, tool_arguments
from switchboard.providers.http import request_json

NO_KEY = "add your Vapi API key in Settings"


def missing(adapter, ref: AgentRef) -> str | None:
    return None if adapter.credentials.get("api_key") else NO_KEY


def chat_body(adapter, ref: AgentRef, spec: AgentSpec, session: ChatSession, text: str) -> dict[str, Any]:
    """The `CreateChatDTO` for one turn."""
    body: dict[str, Any] = {"input": text}
    if ref.agent_id:
        body["assistantId"] = ref.agent_id
    else:
        body["assistant"] = adapter._assistant(spec)
    previous = session.state.get("previous_chat_id")
    if previous:
        body["previousChatId"] = previous
    return body


def reply_from(answer: dict[str, Any]) -> ChatReply:
    texts: list[str] = []
    calls: dict[str, ChatToolCall] = {}
    for m in answer.get("output") or []:
        if not isinstance(m, dict):
            continue
        if m.get("role") == "assistant":
            if isinstance(m.get("content"), str) and m["content"]:
                texts.append(m["content"])
            for call in m.get("tool_calls") or []:
                fn = call.get("function") or {}
                calls[call.get("id") or str(len(calls))] = ChatToolCall(
                    name=fn.get("name") or "", arguments=tool_arguments(fn.get("arguments")))
        elif m.get("role") == "tool":
            call = calls.setdefault(m.get("tool_call_id") or str(len(calls)), ChatToolCall(name=m.get("name") or ""))
            call.result = m.get("content")
    cost = None
    if isinstance(answer.get("cost"), (int, float)) and not isinstance(answer.get("cost"), bool):
        try:
            cost = Decimal(str(answer["cost"]))
        except InvalidOperation:
            cost = None
    return ChatReply(text=" ".join(texts), tool_calls=list(calls.values()), cost=cost,
                     state={"previous_chat_id": answer["id"]} if answer.get("id") else None)


async def start(adapter, ref: AgentRef, spec: AgentSpec, context: ChatContext) -> ChatSession:
    # Nothing opens on Vapi before the first message; the agent answers that first message.
    return ChatSession(state={})


async def say(adapter, ref: AgentRef, spec: AgentSpec, session: ChatSession, text: str) -> ChatReply:
    base = (adapter.credentials.base_url or "https://api.vapi.ai").rstrip("/")
    answer = await request_json(
        adapter.http, adapter.code, "create-chat", "POST", f"{base}/chat",
        json_body=chat_body(adapter, ref, spec, session, text),
        headers={"Authorization": f"Bearer {adapter.credentials.get('api_key')}"},
        policy=adapter.retry, idempotent=False,
    )
    reply = reply_from(answer if isinstance(answer, dict) else {})
    if reply.state is None:
        reply.state = session.state
    return reply


async def end(adapter, ref: AgentRef, session: ChatSession) -> None:
    return None  # Vapi holds no open chat: each is complete when answered
