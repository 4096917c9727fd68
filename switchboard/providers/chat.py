"""Text conversations with an agent, as every platform offers them: the types its adapter's
`start_chat` / `chat` / `end_chat` take and answer (`switchboard.conversations` conducts them).

A platform adapter that offers text conversations implements `TextChat`. The state a platform
needs between turns (Vapi's previous chat id, Retell's chat id, the worker's session) travels in
`ChatSession.state`, stored with the conversation: ids only, never a key, so any process can
take the next turn.
"""

from __future__ import annotations

from decimal import Decimal
from types import ModuleType
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from switchboard.spec import AgentRef, AgentSpec


class ChatContext(BaseModel):
    """What we know about the conversation when it starts, beyond the agent: our ids (put in the
    platform's metadata) and, for SignalWire, the SWML document's URL the platform fetches."""

    organization_id: str
    agent_config_id: str
    conversation_id: str
    config_url: str | None = None
    agent_version_id: str | None = None  # a version other than the live one (test runs of drafts)


class ChatSession(BaseModel):
    """A conversation open on the platform."""

    platform_conversation_id: str | None = None
    state: dict[str, Any] = {}
    greeting: str | None = None  # the agent's first words, when it speaks first


class ChatToolCall(BaseModel):
    name: str
    arguments: dict[str, Any] | None = None
    result: str | None = None
    is_error: bool = False


class ChatReply(BaseModel):
    text: str
    tool_calls: list[ChatToolCall] = []
    # Milliseconds the platform reported for the turn (its own time, vendors included), if it did.
    platform_latency_ms: float | None = None
    # Of which in the vendors (model, tools) where the platform says so: our worker does.
    vendor_latency_ms: float | None = None
    cost: Decimal | None = None  # USD the platform reported for this turn; None = not reported
    state: dict[str, Any] | None = None  # the state for the next turn, when it changed
    ended: bool = False  # the agent ended the conversation (its end_call tool)


@runtime_checkable
class TextChat(Protocol):
    def chat_missing(self, ref: AgentRef) -> str | None: ...

    async def start_chat(self, ref: AgentRef, spec: AgentSpec, context: ChatContext) -> ChatSession: ...

    async def chat(self, ref: AgentRef, spec: AgentSpec, session: ChatSession, text: str) -> ChatReply: ...

    async def end_chat(self, ref: AgentRef, session: ChatSession) -> None: ...


class ChatModule:
    """An adapter whose chat operations are its platform folder's `chat` module: functions
    `missing(adapter, ref)`, `start(adapter, ref, spec, context)`, `say(adapter, ref, spec,
    session, text)` and `end(adapter, ref, session)`."""

    chat_module: ClassVar[ModuleType]

    def chat_missing(self, ref: AgentRef) -> str | None:
        """What the organisation must add before a conversation can start here, in words (None: nothing)."""
        return self.chat_module.missing(self, ref)

    async def start_chat(self, ref: AgentRef, spec: AgentSpec, context: ChatContext) -> ChatSession:
        return await self.chat_module.start(self, ref, spec, context)

    async def chat(self, ref: AgentRef, spec: AgentSpec, session: ChatSession, text: str) -> ChatReply:
        return await self.chat_module.say(self, ref, spec, session, text)

    async def end_chat(self, ref: AgentRef, session: ChatSession) -> None:
        await self.chat_module.end(self, ref, session)


def tool_arguments(raw: Any) -> dict[str, Any] | None:
    """A tool call's arguments as the platforms send them: an object, or JSON text of one."""
    import json

    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw.strip():
        try:
            value = json.loads(raw)
        except ValueError:
            return {"raw": raw}
        return value if isinstance(value, dict) else {"value": value}
    return None
