"""Text conversations on the LiveKit platform: our worker's agent in text mode, reached at the
operator's LIVEKIT_CHAT_URL (`python -m agent_worker chat`, see `agent_worker/chat.py`) with the
shared bearer token. The URL is the operator's setting, never an organisation's, so it is not
an egress of a tenant's; it is typically on the same host or private network.

The worker holds the session; what the next turn needs is its session id, kept in the state."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from switchboard.providers.base import ProviderError, ProviderRejected, ProviderTimeout, ProviderUnavailable
from switchboard.providers.chat import ChatContext, ChatReply, ChatSession, ChatToolCall
from switchboard.providers.resilience import error_for_status, parse_retry_after, unreachable

CODE = "livekit"
TURN_TIMEOUT_SECONDS = 30.0  # the organisation's LLM chain fails over inside; this bounds the whole turn
GONE = ("this conversation is no longer open on the LiveKit worker (it restarted or the conversation "
        "was idle too long); start a new conversation")


class WorkerChat:
    """The worker's endpoint over one aiohttp session (kept alive: a turn is one request on an
    open connection; aiohttp costs a fraction of httpx's CPU per request, which a turn's
    overhead budget of a few milliseconds notices)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT_SECONDS))
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, operation: str, method: str, path: str, body: Any = None) -> Any:
        # No retries: a turn is not idempotent (the worker's history would take the text twice).
        try:
            async with self._client().request(method, self.url + path, headers=self._headers, allow_redirects=False,
                                              data=None if body is None else json.dumps(body)) as response:
                status, text = response.status, await response.text()
                retry_after = response.headers.get("retry-after")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            words = unreachable(CODE, operation)
            error: ProviderError
            if isinstance(exc, asyncio.TimeoutError):
                error = ProviderTimeout(CODE, words)
            else:
                error = ProviderUnavailable(CODE, words, request_sent=not isinstance(exc, aiohttp.ClientConnectorError))
            error.detail = f"{type(exc).__name__}: {exc}"
            raise error from None
        if status == 404 and operation == "chat":
            raise ProviderRejected(CODE, GONE, status_code=404)
        if status == 409:
            raise ProviderRejected(CODE, "the agent ended this conversation; start a new one", status_code=409)
        if status >= 400:
            raise error_for_status(CODE, operation, status, text[:300], retry_after=parse_retry_after(retry_after))
        return json.loads(text) if text else None

    async def start(self, context: ChatContext) -> ChatSession:
        answer = await self._request("start-chat", "POST", "/sessions", {
            "organization_id": context.organization_id, "agent_config_id": context.agent_config_id,
            "conversation_id": context.conversation_id,
            **({"agent_version_id": context.agent_version_id} if context.agent_version_id else {}),
        })
        sid = answer["session_id"]
        return ChatSession(platform_conversation_id=sid, state={"session_id": sid}, greeting=answer.get("greeting"))

    async def say(self, session: ChatSession, text: str) -> ChatReply:
        sid = session.state.get("session_id") or session.platform_conversation_id
        answer = await self._request("chat", "POST", f"/sessions/{sid}/turns", {"text": text})
        return ChatReply(
            text=answer.get("text") or "",
            tool_calls=[ChatToolCall.model_validate(c) for c in answer.get("tool_calls") or []],
            platform_latency_ms=answer.get("session_ms"),
            vendor_latency_ms=answer.get("vendor_ms"),
            cost=None,  # the worker reports no price per turn: unpriced, not $0
            ended=bool(answer.get("ended")),
        )

    async def end(self, session: ChatSession) -> None:
        sid = session.state.get("session_id") or session.platform_conversation_id
        if sid:
            await self._request("end-chat", "DELETE", f"/sessions/{sid}")


# The adapter's chat operations (switchboard.providers.chat.ChatModule).
def missing(adapter, ref) -> str | None:
    return None  # the worker's agent needs no key: the offline tier answers when nothing else can


async def start(adapter, ref, spec, context: ChatContext) -> ChatSession:
    return await adapter.worker_chat.start(context)


async def say(adapter, ref, spec, session: ChatSession, text: str) -> ChatReply:
    return await adapter.worker_chat.say(session, text)


async def end(adapter, ref, session: ChatSession) -> None:
    await adapter.worker_chat.end(session)
