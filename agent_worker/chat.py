"""Text conversations with the worker's agent (`python -m agent_worker chat`): the LiveKit
platform's chats. The same agent, tools and organisation's LLM chain (offline tier included) as
a call, in livekit-agents' text mode (`AgentSession` with an LLM only, `session.run(user_input=…)`),
behind a small HTTP endpoint the LiveKit adapter calls (`switchboard.providers.livekit.chat`).

Invariants:
- every request carries `Authorization: Bearer <LIVEKIT_CHAT_TOKEN>` (compared in constant time);
  the endpoint is the operator's, reached only by our own server;
- a conversation's session lives in this process (its chat history is livekit's); one idle for
  `IDLE_SECONDS` is closed. A turn for a session this process does not hold answers 404, which
  the adapter words as "start a new conversation";
- the turn's answer says how long the session took and how much of it was the vendors' (model
  requests and tool calls), so the caller can tell its own overhead from theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from livekit.agents import AgentSession, function_tool, llm
from livekit.agents.metrics import LLMMetrics

from agent_worker.call import SwitchboardAgent
from agent_worker.chains import build_llm_chain
from agent_worker.tools import CallOutcome, build_tools, tool_client
from switchboard.pipeline.config import PipelineConfigError, PipelineUnavailable
from switchboard.providers.livekit.dispatch import DispatchMetadata
from switchboard.spec import AgentSpecInvalid, EndCallTool, TransferTool, agent_spec_from_row
from switchboard.providers.chat import tool_arguments

log = logging.getLogger("agent_worker.chat")
IDLE_SECONDS = 30 * 60
MAX_SESSIONS = 500
MAX_TEXT = 4000


def text_end_call(spec: EndCallTool, ended: asyncio.Event) -> llm.Tool:
    async def end_call(raw_arguments: dict[str, object]) -> str:
        ended.set()
        return "The conversation is over."

    return function_tool(end_call, raw_schema={"name": spec.name, "description": spec.description,
                                               "parameters": {"type": "object", "properties": {}}})


def text_transfer(spec: TransferTool) -> llm.Tool:
    async def transfer(raw_arguments: dict[str, object]) -> str:
        # Nobody to transfer in a text conversation: the model is told what a call would do.
        return f"On a call the caller would now be transferred to {spec.number}."

    return function_tool(transfer, raw_schema={"name": spec.name, "description": spec.description,
                                               "parameters": {"type": "object", "properties": {}}})


@dataclass
class ChatSessionState:
    id: str
    session: AgentSession
    members: list
    chain: llm.LLM
    http: Any
    ended: asyncio.Event
    last_used: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    llm_seconds: dict[str, float] = field(default_factory=dict)  # request id → duration

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.session.aclose()
        with contextlib.suppress(Exception):
            await self.http.aclose()
        for adapter in (self.chain, *self.members):
            with contextlib.suppress(Exception):
                await adapter.aclose()


def _events(result) -> tuple[str, list[dict[str, Any]], float]:
    """(reply text, tool calls, seconds spent in tools) from a RunResult's events."""
    texts: list[str] = []
    calls: dict[str, dict[str, Any]] = {}
    started: dict[str, float] = {}
    tool_seconds = 0.0
    for ev in result.events:
        item = getattr(ev, "item", None)
        if ev.type == "message" and item.role == "assistant" and item.text_content:
            texts.append(item.text_content)
        elif ev.type == "function_call":
            calls[item.call_id] = {"name": item.name, "arguments": tool_arguments(item.arguments),
                                   "result": None, "is_error": False}
            started[item.call_id] = item.created_at
        elif ev.type == "function_call_output":
            call = calls.setdefault(item.call_id, {"name": item.name, "arguments": None})
            call.update(result=item.output, is_error=bool(item.is_error))
            if item.call_id in started:
                tool_seconds += max(0.0, item.created_at - started[item.call_id])
    return " ".join(texts), list(calls.values()), tool_seconds


class ChatService:
    """The sessions of this process, over the worker's runtime (database pool, pipeline cache)."""

    def __init__(self, runtime, *, token: str) -> None:  # runtime: agent_worker.server.WorkerRuntime
        self.runtime = runtime
        self._token = token.encode()
        self.sessions: dict[str, ChatSessionState] = {}

    def authorised(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), self._token)

    async def _sweep(self) -> None:
        now = time.monotonic()
        for sid, s in list(self.sessions.items()):
            if now - s.last_used > IDLE_SECONDS:
                self.sessions.pop(sid, None)
                await s.aclose()

    async def open(self, meta: DispatchMetadata, agent_version_id: str | None = None) -> tuple[str, str | None]:
        await self._sweep()
        if len(self.sessions) >= MAX_SESSIONS:
            raise web.HTTPServiceUnavailable(text="too many open conversations on this worker")
        await self.runtime.ensure_started()
        pipeline = await self.runtime.pipeline(meta)
        if agent_version_id:  # a test run of one version (a draft, or an earlier one): its spec, the same chain
            pipeline = pipeline.model_copy(update={"agent": await self._version_spec(meta, agent_version_id)})
        chain, members = build_llm_chain(pipeline, observer=self.runtime.health.observe if self.runtime.health else None)
        ended = asyncio.Event()
        allow_private = self.runtime.settings.env != "production"
        http = tool_client(allow_private=allow_private)
        tools = build_tools(pipeline.agent, client=http, outcome=CallOutcome(), allow_private_urls=allow_private,
                            overrides={EndCallTool: lambda t: text_end_call(t, ended), TransferTool: text_transfer})
        session = AgentSession(llm=chain)
        state = ChatSessionState(uuid.uuid4().hex, session, members, chain, http, ended)

        def _metrics(ev) -> None:
            if isinstance(ev.metrics, LLMMetrics):
                state.llm_seconds[ev.metrics.request_id] = ev.metrics.duration

        session.on("metrics_collected", _metrics)
        greeting = await session.start(SwitchboardAgent(pipeline.agent, tools), capture_run=True)
        text, _, _ = _events(greeting)
        self.sessions[state.id] = state
        return state.id, text or None

    async def _version_spec(self, meta: DispatchMetadata, agent_version_id: str):
        from switchboard.errors import NotFound
        from switchboard.versions import version_spec_row

        if self.runtime.db is None:
            raise PipelineConfigError("versions need the database")
        try:
            async with self.runtime.db.as_service() as conn:
                row = await version_spec_row(conn, meta.organization_id, meta.agent_config_id, uuid.UUID(agent_version_id))
        except (NotFound, ValueError):
            raise PipelineConfigError("no such version of this agent") from None
        try:
            return agent_spec_from_row(row)
        except AgentSpecInvalid as exc:  # a version that cannot run: this conversation is not configured
            raise PipelineConfigError(str(exc)) from exc

    async def turn(self, sid: str, text: str) -> dict[str, Any]:
        state = self.sessions.get(sid)
        if state is None:
            raise web.HTTPNotFound(text="no such conversation on this worker")
        async with state.lock:  # one turn at a time: the chat history is ordered
            if state.ended.is_set():
                raise web.HTTPConflict(text="the agent ended this conversation")
            state.llm_seconds.clear()
            started = time.perf_counter()
            result = await state.session.run(user_input=text)
            session_ms = (time.perf_counter() - started) * 1000
            state.last_used = time.monotonic()
        reply, tool_calls, tool_seconds = _events(result)
        vendor_ms = (sum(state.llm_seconds.values()) + tool_seconds) * 1000
        return {"text": reply, "tool_calls": tool_calls, "session_ms": round(session_ms, 2),
                "vendor_ms": round(min(vendor_ms, session_ms), 2), "ended": state.ended.is_set()}

    async def close(self, sid: str) -> bool:
        state = self.sessions.pop(sid, None)
        if state is not None:
            await state.aclose()
        return state is not None

    async def aclose(self) -> None:
        for sid in list(self.sessions):
            await self.close(sid)


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def create_app(service: ChatService) -> web.Application:
    @web.middleware
    async def guard(request: web.Request, handler):
        if request.path != "/health" and not service.authorised(request):
            return _json_error(401, "send Authorization: Bearer <the worker's chat token>")
        try:
            return await handler(request)
        except web.HTTPException as exc:
            return _json_error(exc.status, exc.text or exc.reason)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True, "sessions": len(service.sessions)})

    async def open_session(request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            meta = DispatchMetadata.model_validate({k: body.get(k) for k in ("organization_id", "agent_config_id")})
        except Exception:
            return _json_error(400, "organization_id and agent_config_id (UUIDs) are required")
        try:
            version = body.get("agent_version_id")
            sid, greeting = await service.open(meta, version if isinstance(version, str) else None)
        except (PipelineConfigError, PipelineUnavailable) as exc:
            log.warning("chat for agent %s not opened: %s", meta.agent_config_id, exc)
            return _json_error(404, "the agent cannot be loaded")
        return web.json_response({"session_id": sid, "greeting": greeting}, status=201)

    async def take_turn(request: web.Request) -> web.Response:
        body = await _body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            return _json_error(400, f"text must be 1 to {MAX_TEXT} characters")
        return web.json_response(await service.turn(request.match_info["sid"], text))

    async def close_session(request: web.Request) -> web.Response:
        await service.close(request.match_info["sid"])
        return web.Response(status=204)

    app = web.Application(middlewares=[guard], client_max_size=64 * 1024)
    app.router.add_get("/health", health)
    app.router.add_post("/sessions", open_session)
    app.router.add_post("/sessions/{sid}/turns", take_turn)
    app.router.add_delete("/sessions/{sid}", close_session)

    async def _cleanup(_: web.Application) -> None:
        await service.aclose()

    app.on_cleanup.append(_cleanup)
    return app


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="the body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body


def serve(host: str, port: int) -> None:
    """Serve until interrupted (what `python -m agent_worker chat` runs)."""
    from agent_worker.server import WorkerRuntime

    runtime = WorkerRuntime()
    service = ChatService(runtime, token=runtime.settings.resolved_chat_token())
    app = create_app(service)

    async def _close_runtime(_: web.Application) -> None:
        await runtime.aclose()

    app.on_cleanup.append(_close_runtime)
    # No access log: one line per turn of every conversation is noise (the API logs the request).
    web.run_app(app, host=host, port=port, print=lambda *_: None, access_log=None)


__all__ = ["ChatService", "create_app", "serve"]
