"""Fixtures of the conversation tests: the worker's real text-conversation endpoint
(`agent_worker.chat`, on loopback, over the test's database) and the API on a bare app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from aiohttp import web

from edge_functions.api.testapp import create_app
from switchboard.db import Database
from switchboard.settings import reset_settings_cache


@dataclass
class WorkerChatServer:
    url: str
    service: object  # agent_worker.chat.ChatService


@pytest.fixture
async def worker_chat(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[WorkerChatServer]:
    from agent_worker.chat import ChatService, create_app as chat_app
    from agent_worker.server import WorkerRuntime
    from switchboard.settings import get_settings

    runtime = WorkerRuntime(database_url=db_url)
    service = ChatService(runtime, token=get_settings().resolved_chat_token())
    runner = web.AppRunner(chat_app(service))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("LIVEKIT_CHAT_URL", url)
    reset_settings_cache()
    try:
        yield WorkerChatServer(url, service)
    finally:
        await runner.cleanup()
        await runtime.aclose()
        monkeypatch.delenv("LIVEKIT_CHAT_URL")
        reset_settings_cache()


@pytest.fixture
async def api(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as c:
        yield c
    platforms = getattr(app.state, "platforms", None)
    if platforms is not None:
        await platforms.aclose()
