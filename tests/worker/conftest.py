"""Fixtures of the worker's tests: an organisation with an agent and a configured pipeline in the
real database, and the worker's real models (Silero VAD, loaded once)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from aiohttp import web
from psycopg.types.json import Jsonb

from switchboard.db import Database
from tests.support.live_server import aiohttp_serving


@dataclass
class Org:
    id: UUID
    agent_id: UUID

    def metadata(self, **extra: Any) -> str:
        return json.dumps({"organization_id": str(self.id), "agent_config_id": str(self.agent_id), **extra})


async def create_org(
    db: Database,
    *,
    name: str = "Demo Dental",
    prompt: str = "You are the receptionist of Demo Dental. Our opening hours are 9am to 5pm, Monday to Friday. "
    "We are at 12 High Street.",
    begin_message: str | None = "Welcome to Demo Dental, how can I help?",
    tools: list[dict] | None = None,
    voice: dict | None = None,
    vendors: Iterable[tuple[str, int, bool, dict]] = (),
) -> Org:
    """vendors: (catalog key, priority, enabled, config overrides)."""
    async with db.as_service() as conn:
        cur = await conn.execute("insert into organizations (name) values (%s) returning id", (name,))
        org_id = (await cur.fetchone())["id"]
        cur = await conn.execute(
            """insert into agent_configs (organization_id, name, prompt, begin_message, tools, voice)
               values (%s, %s, %s, %s, %s, %s) returning id""",
            (org_id, f"{name} agent", prompt, begin_message, Jsonb(tools or []), Jsonb(voice or {})),
        )
        agent_id = (await cur.fetchone())["id"]
        for key, priority, enabled, config in vendors:
            await conn.execute(
                """insert into organization_provider_configs (organization_id, provider_id, config, is_enabled, priority)
                   select %s, id, %s, %s, %s from providers where key = %s""",
                (org_id, Jsonb(config), enabled, priority, key),
            )
    return Org(org_id, agent_id)


@asynccontextmanager
async def serving(server: Any) -> AsyncIterator[Any]:
    """A local vendor server (an object whose `routes()` are its aiohttp handlers), served on a
    loopback port while the block runs, with `server.url` set to its base URL."""
    app = web.Application()
    app.add_routes(server.routes())
    async with aiohttp_serving(app) as server.url:
        yield server


OFFLINE = (("pocketsphinx-stt", 10, True, {}), ("local-llm", 10, True, {}), ("espeak-tts", 10, True, {}))


@pytest.fixture(scope="session")
def vad():
    from livekit.plugins import silero

    return silero.VAD.load()


@pytest.fixture
async def speech_server():
    """A local server speaking the speech vendors' protocols (tests/worker/speech_servers.py)."""
    from tests.support.live_server import aiohttp_serving
    from tests.worker.speech_servers import SpeechServer, app

    server = SpeechServer()
    async with aiohttp_serving(app(server)) as server.url:
        yield server
        server.release.set()  # hung requests go before the server stops


@pytest.fixture
async def server():
    """A local server speaking the cloud vendors' published protocols (tests/worker/vendor_protocols)."""
    from tests.support.live_server import aiohttp_serving
    from tests.worker.vendor_protocols import VendorProtocols

    protocols = VendorProtocols()
    async with aiohttp_serving(protocols.app()) as protocols.url:
        yield protocols
        protocols.release.set()
