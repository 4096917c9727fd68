"""Text conversations on Retell: a chat agent compiled from the spec answering with the agent's
synced Retell LLM (the same prompt, begin message and tools as its calls), one per conversation
(`create-chat-agent`, removed again at the end), a chat on it (`create-chat`), a completion per
turn (`create-chat-completion`), and `end-chat` at the end.

Retell answers a completion with the new messages only: the agent's words and its tool calls
(`tool_call_invocation`, then `tool_call_result`). It reports no per-turn latency nor cost."""

from __future__ import annotations

from typing import Any

from switchboard.providers.base import AgentRef, AgentSpec, ProviderRejected
from switchboard.providers.chat import ChatContext, ChatReply, ChatSession, ChatToolCall, tool_arguments

NOT_SYNCED = ("the agent is not deployed on Retell yet: add Retell to the agent's platforms so it is synced, "
              "then try again")
NO_KEY = "add your Retell API key in Settings"


def compile_chat_agent(spec: AgentSpec, *, llm_id: str) -> dict[str, Any]:
    """The chat agent (`ChatAgentRequest`) answering with the Retell LLM `llm_id`."""
    return {
        "response_engine": {"type": "retell-llm", "llm_id": llm_id},
        "agent_name": f"{spec.name} (chat)"[:200],
        "language": spec.language,
    }


def missing(adapter, ref: AgentRef) -> str | None:
    if not adapter.api_key:
        return NO_KEY
    if not ref.llm_id:
        return NOT_SYNCED
    return None


def _reply(messages: list[Any]) -> ChatReply:
    texts: list[str] = []
    calls: dict[str, ChatToolCall] = {}
    for m in messages:
        m = m if isinstance(m, dict) else m.model_dump()
        role = m.get("role")
        if role == "agent" and m.get("content"):
            texts.append(m["content"])
        elif role == "tool_call_invocation":
            calls[m["tool_call_id"]] = ChatToolCall(name=m.get("name") or "", arguments=tool_arguments(m.get("arguments")))
        elif role == "tool_call_result":
            call = calls.setdefault(m["tool_call_id"], ChatToolCall(name=""))
            call.result = m.get("content")
            call.is_error = m.get("successful") is False
    return ChatReply(text=" ".join(texts), tool_calls=list(calls.values()))


async def start(adapter, ref: AgentRef, spec: AgentSpec, context: ChatContext) -> ChatSession:
    if not ref.llm_id:
        raise ProviderRejected("retell", NOT_SYNCED)
    body = compile_chat_agent(spec, llm_id=ref.llm_id)
    agent = await adapter._call("create-chat-agent", lambda t: adapter.client.chat_agent.create(**body, timeout=t),
                                idempotent=False)
    metadata = {"organization_id": context.organization_id, "agent_config_id": context.agent_config_id,
                "conversation_id": context.conversation_id}
    try:
        chat = await adapter._call("create-chat", lambda t: adapter.client.chat.create(
            agent_id=agent.agent_id, metadata=metadata, timeout=t), idempotent=False)
    except Exception:
        await _delete_agent(adapter, agent.agent_id)  # leave no chat agent without its chat
        raise
    # A begin message is the agent's first words; Retell puts it in the chat's transcript.
    return ChatSession(platform_conversation_id=chat.chat_id, greeting=spec.begin_message,
                       state={"chat_id": chat.chat_id, "chat_agent_id": agent.agent_id})


async def say(adapter, ref: AgentRef, spec: AgentSpec, session: ChatSession, text: str) -> ChatReply:
    chat_id = session.state.get("chat_id") or session.platform_conversation_id
    answer = await adapter._call("create-chat-completion", lambda t: adapter.client.chat.create_chat_completion(
        chat_id=chat_id, content=text, timeout=t), idempotent=False)
    return _reply(list(answer.messages or []))


async def end(adapter, ref: AgentRef, session: ChatSession) -> None:
    chat_id = session.state.get("chat_id") or session.platform_conversation_id
    try:
        if chat_id:
            await adapter._call("end-chat", lambda t: adapter.client.chat.end(chat_id, timeout=t))
    finally:
        if session.state.get("chat_agent_id"):
            await _delete_agent(adapter, session.state["chat_agent_id"])


async def _delete_agent(adapter, agent_id: str) -> None:
    try:
        await adapter._call("delete-chat-agent", lambda t: adapter.client.chat_agent.delete(agent_id, timeout=t))
    except ProviderRejected as exc:
        if exc.status_code != 404:
            raise
