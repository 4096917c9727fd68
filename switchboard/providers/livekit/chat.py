"""Text conversations on the LiveKit platform: our worker's agent in text mode, reached at the
operator's LIVEKIT_CHAT_URL (`python -m agent_worker chat`, see `agent_worker/chat.py`) with the
shared bearer token. The URL is the operator's setting, never an organisation's, so it is not
an egress of a tenant's; it is typically on the same host or private network.

The worker holds the session; what the next turn needs is its session id, kept in the state."""

from __future__ import annotations

from typing import Any

import httpx

from switchboard.providers.base import ProviderRejected
from switchboard.providers.chat import ChatContext, ChatReply, ChatSession, ChatToolCall
from switchboard.providers.http import classify_transport_error
from switchboard.providers.resilience import error_for_status, parse_retry_after

CODE = "livekit"
TURN_TIMEOUT_SECONDS = 30.0  # the organisation's LLM chain fails over inside; this bounds the whole turn
GONE = ("this conversation is no longer open on the LiveKit worker (it restarted or the conversation "
        "was idle too long); start a new conversation")


class WorkerChat:
    def __init__(self, url: str, token: str, *, client: httpx.AsyncClient | None = None) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._client = client
        self._own: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is not None:
            return self._client
        if self._own is None:
            self._own = httpx.AsyncClient(timeout=TURN_TIMEOUT_SECONDS, follow_redirects=False)
        return self._own

    async def aclose(self) -> None:
        if self._own is not None:
            await self._own.aclose()
            self._own = None

    async def _request(self, operation: str, method: str, path: str, body: Any = None) -> Any:
        # No retries: a turn is not idempotent (the worker's history would take the text twice).
        try:
            response = await self.client.request(method, self.url + path, json=body,
                                                 headers={"Authorization": f"Bearer {self._token}"})
        except httpx.HTTPError as exc:
            raise classify_transport_error(CODE, operation, exc) from None
        if response.status_code == 404 and operation == "chat":
            raise ProviderRejected(CODE, GONE, status_code=404)
        if response.status_code == 409:
            raise ProviderRejected(CODE, "the agent ended this conversation; start a new one", status_code=409)
        if response.status_code >= 400:
            raise error_for_status(CODE, operation, response.status_code, response.text[:300],
                                   retry_after=parse_retry_after(response.headers.get("retry-after")))
        return response.json() if response.content else None

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
