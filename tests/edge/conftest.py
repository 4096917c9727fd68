"""Fixtures of the edge-functions tests: a seeded organisation (agent, numbers, per-platform
configs) in the per-test database."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

import pytest
from psycopg.types.json import Jsonb

from switchboard.db import Database


@dataclass
class Seeded:
    organization_id: UUID
    agent_config_id: UUID
    number: str
    provider_ids: dict[str, UUID] = field(default_factory=dict)


async def seed_org(
    db: Database,
    *,
    active: str = "retell",
    fallback: list[str] | None = None,
    split: dict[str, int] | None = None,
    number: str | None = None,
    agent_ids: dict[str, str] | None = None,
) -> Seeded:
    """An organisation with one agent on `active`, a SignalWire number routed to it, and a
    provider_configs row (with the platform's agent id) for each of the four platforms."""
    number = number or "+1555" + str(uuid.uuid4().int)[:7]
    agent_ids = agent_ids or {}
    async with db.as_service() as conn:
        providers = {r["code"]: r["id"] for r in await (await conn.execute("select code, id from voice_ai_providers")).fetchall()}
        org = (await (await conn.execute("insert into organizations (name) values ('Test Dental') returning id")).fetchone())["id"]
        agent = (
            await (
                await conn.execute(
                    """
                    insert into agent_configs (organization_id, name, prompt, begin_message, voice,
                      active_provider_id, fallback_order, traffic_split)
                    values (%s, 'Front desk', 'You are the front desk of a dental practice.', 'Hello, how can I help?',
                      %s, %s, %s, %s) returning id
                    """,
                    (org, Jsonb({"vendor": "openai", "voice_id": "alloy"}), providers[active], fallback or [], Jsonb(split or {})),
                )
            ).fetchone()
        )["id"]
        await conn.execute(
            "insert into phone_numbers (organization_id, agent_config_id, e164) values (%s, %s, %s)", (org, agent, number)
        )
        for code, pid in providers.items():
            await conn.execute(
                """insert into provider_configs (organization_id, agent_config_id, provider_id, agent_id, settings, sync_status)
                   values (%s, %s, %s, %s, %s, 'synced')""",
                (org, agent, pid, agent_ids.get(code, f"{code}-agent-1"), Jsonb({})),
            )
    return Seeded(org, agent, number, providers)


@pytest.fixture
async def seeded(db: Database) -> Seeded:
    return await seed_org(db)


# --- the app, in process ----------------------------------------------------------------------

PUBLIC_BASE = "http://127.0.0.1:54321"  # Settings.public_base_url's default: what providers sign
# Every platform's base URL is a closed loopback port unless a test points it at a mock: no test
# ever reaches past this machine.
TEST_KEYS = {
    "RETELL_API_KEY": "key_edge_retell_test",
    "RETELL_BASE_URL": "http://127.0.0.1:9",
    "VAPI_BASE_URL": "http://127.0.0.1:9",
    "VAPI_API_KEY": "vapi-private-key-test",
    "SIGNALWIRE_PROJECT_ID": "4d0d6f16-5881-4fcc-92a4-02c51a91954d",
    "SIGNALWIRE_API_TOKEN": "PTedgeTestToken",
    "SIGNALWIRE_SPACE_URL": "127.0.0.1:9",
    "SIGNALWIRE_SIGNING_KEY": "PSKedge_signing_key_test",
    "LIVEKIT_URL": "http://127.0.0.1:9",
    "LIVEKIT_API_KEY": "APIedgetest",
    "LIVEKIT_API_SECRET": "edge-livekit-secret-of-at-least-32-chars",
    "LIVEKIT_SIP_HOST": "edge-test.sip.livekit.cloud",
}


@dataclass
class Edge:
    app: object
    client: object

    @property
    def runtime(self):
        return self.app.state.runtime

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait for the work the app does after answering (webhook processing)."""
        import asyncio

        pending = list(self.runtime.background)
        if pending:
            await asyncio.wait(pending, timeout=timeout)


@pytest.fixture(autouse=True)
def _fresh_settings_after_each_test():
    """Set up before (so torn down after) monkeypatch: once a test's environment is restored,
    no cached Settings of ours outlives it into another test."""
    yield
    from switchboard.settings import reset_settings_cache

    reset_settings_cache()


def use_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    from switchboard.settings import reset_settings_cache

    for k, v in {**TEST_KEYS, **env}.items():
        monkeypatch.setenv(k, v)
    reset_settings_cache()


@pytest.fixture
def edge_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch)


@asynccontextmanager
async def running_edge(db_url: str):
    """The app in process (its lifespan run), with an httpx client on it."""
    import httpx

    from edge_functions.app import create_app

    app = create_app(database_url=db_url, background_loops=False)

    async def written(response: httpx.Response) -> None:
        # The router answers before its call_records row is written (write-behind): a test
        # reads the database after the row has landed, as anyone would milliseconds later.
        await app.state.runtime.router.records.flush(timeout=10)

    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_BASE, timeout=30,
                                     event_hooks={"response": [written]}) as client:
            yield Edge(app, client)


@pytest.fixture
async def edge(db_url: str, edge_env: None):
    async with running_edge(db_url) as e:
        yield e
    from switchboard.settings import reset_settings_cache

    reset_settings_cache()


# --- platforms: Prism mocks of the providers' documents, and stand-ins that fail -------------

@pytest.fixture(scope="session")
def retell_prism():
    from tests.support.prism import CONTRACTS, PrismServer

    server = PrismServer(CONTRACTS / "retell-openapi.yaml").start()
    try:
        yield server.wait_ready()
    finally:
        server.stop()


class FailingPlatform:
    """A local HTTP server standing in for a platform that is down: it answers every request
    with 500, or accepts the connection and never answers ("hang")."""

    def __init__(self, mode: str):
        self.mode = mode
        self.requests = 0
        self._server = None

    async def _handle(self, reader, writer) -> None:
        import asyncio

        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            if self.mode == "hang":
                await asyncio.sleep(30)
            body = b'{"error_message": "internal error"}'
            writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            await writer.drain()
        except (Exception, asyncio.CancelledError):  # the test is over: just go
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> "FailingPlatform":
        import asyncio

        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
