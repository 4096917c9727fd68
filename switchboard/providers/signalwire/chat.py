"""Text conversations on SignalWire AI: `POST /api/ai/chat`, JSON-RPC 2.0 — `create_conversation`
with `config_url` naming the SWML document we serve for the agent (the same `ai` verb as its
calls, compiled from the spec), then `chat` per turn and `end_conversation` at the end. The
conversation is addressed by an id we choose: ours.

The SWML URL is signed (HMAC-SHA256 under a key derived from the server's JWT secret, over the
organisation, agent, conversation and expiry), so SignalWire can fetch it without credentials and
nobody else can read an agent's prompt by guessing ids. `edge_functions/signalwire_chat_swml.py`
serves it after `verify_swml_url`.

SignalWire answers a turn with the agent's `response` text only (no tool calls, no latency,
no cost per turn); a JSON-RPC `error` inside an HTTP 200 is a refusal."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from switchboard.providers.base import AgentRef, AgentSpec, ProviderRejected
from switchboard.providers.chat import ChatContext, ChatReply, ChatSession
from switchboard.providers.signalwire import compile as sw_compile

CHAT = "/api/ai/chat"
SWML_FUNCTION = "signalwire-chat-swml"
CONVERSATION_TIMEOUT_SECONDS = 1800
URL_LIFETIME_SECONDS = 24 * 3600
NO_KEY = "add your SignalWire project id, API token and space URL in Settings"


def compile_chat_swml(spec: AgentSpec) -> dict[str, Any]:
    """The agent as a SWML document for a text conversation: the `ai` verb alone (nothing to
    answer or record), with no post-prompt report (a conversation is no call)."""
    return {"version": "1.0.0", "sections": {"main": [{"ai": sw_compile.compile_ai(spec, post_prompt_url=None)}]}}


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"signalwire-chat-swml", hashlib.sha256).digest()


def _signature(secret: str, org: str, agent: str, conversation: str, expires: int) -> str:
    return hmac.new(_key(secret), f"{org}:{agent}:{conversation}:{expires}".encode(), hashlib.sha256).hexdigest()


def conversation_swml_url(settings, org: UUID, agent: UUID, conversation: UUID, *, now: float | None = None) -> str:
    """The signed URL SignalWire fetches the conversation's SWML from (`settings`: switchboard.settings.Settings)."""
    expires = int((now or time.time()) + URL_LIFETIME_SECONDS)
    sig = _signature(settings.resolved_jwt_secret(), str(org), str(agent), str(conversation), expires)
    base = settings.public_base_url.rstrip("/")
    return f"{base}/functions/v1/{SWML_FUNCTION}/{org}/{agent}/{conversation}?" + urlencode({"expires": expires, "sig": sig})


def verify_swml_url(settings, org: str, agent: str, conversation: str, expires: str | None, sig: str | None,
                    *, now: float | None = None) -> bool:
    try:
        when = int(expires or "")
        for value in (org, agent, conversation):
            UUID(value)
    except ValueError:
        return False
    if when < (now or time.time()) or not sig:
        return False
    return hmac.compare_digest(_signature(settings.resolved_jwt_secret(), org, agent, conversation, when), sig)


def missing(adapter, ref: AgentRef) -> str | None:
    creds = adapter.credentials
    if not (creds.get("project_id") and creds.get("api_token") and (creds.get("space_url") or creds.base_url)):
        return NO_KEY
    return None


async def _rpc(adapter, operation: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": uuid.uuid4().hex, "method": method, "params": params}
    # A turn is not idempotent (sent twice, the agent hears it twice); creating and ending are.
    answer = await adapter._rest(operation, "POST", CHAT, body=body, idempotent=method != "chat")
    if not isinstance(answer, dict):
        return {}
    if answer.get("error"):
        error = ProviderRejected(adapter.code, f"SignalWire refused {method}")
        error.detail = str(answer["error"])[:300]
        raise error
    return answer.get("result") or {}


async def start(adapter, ref: AgentRef, spec: AgentSpec, context: ChatContext) -> ChatSession:
    config_url = context.config_url
    if config_url is None:
        from switchboard.settings import get_settings

        config_url = conversation_swml_url(get_settings(), UUID(context.organization_id), UUID(context.agent_config_id),
                                           UUID(context.conversation_id))
    result = await _rpc(adapter, "create-conversation", "create_conversation", {
        "id": context.conversation_id, "config_url": config_url,
        "conversation_timeout": CONVERSATION_TIMEOUT_SECONDS,
        "user_meta_data": {"organization_id": context.organization_id, "agent_config_id": context.agent_config_id},
    })
    conversation = result.get("id") or context.conversation_id
    greeting = result.get("initial_message") if isinstance(result.get("initial_message"), str) else None
    return ChatSession(platform_conversation_id=conversation, state={"id": conversation}, greeting=greeting or None)


async def say(adapter, ref: AgentRef, spec: AgentSpec, session: ChatSession, text: str) -> ChatReply:
    conversation = session.state.get("id") or session.platform_conversation_id
    result = await _rpc(adapter, "chat", "chat", {"id": conversation, "message": text})
    response = result.get("response")
    return ChatReply(text=response if isinstance(response, str) else "")


async def end(adapter, ref: AgentRef, session: ChatSession) -> None:
    conversation = session.state.get("id") or session.platform_conversation_id
    if conversation:
        await _rpc(adapter, "end-conversation", "end_conversation", {"id": conversation})
