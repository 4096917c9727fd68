"""Issue #11 (remote answers reflected to tenants): what a platform, vendor or tool service
answered never reaches the tenant. provider_configs.sync_error, HTTP tool results given to the
model and API errors carry a status and a short reason of ours; a refused connection and a
timeout read the same ("could not reach the platform"), so a URL pointed at an internal
address is no port scanner. The remote detail stays in server logs."""

from __future__ import annotations

import socket

import pytest
from psycopg.types.json import Jsonb

from switchboard.db import Database
from switchboard.providers.base import ProviderCredentials, ProviderError
from switchboard.providers.resilience import RetryPolicy
from switchboard.settings import reset_settings_cache
from switchboard.spec import AgentSpec, HttpTool
from tests.security.egress_support import MARKER, RecordingServer, local, marker_body


@pytest.fixture(autouse=True)
def _fresh_settings():
    yield
    reset_settings_cache()


async def _signalwire_agent(db: Database, space_url: str):
    from switchboard.secrets import put_secret

    async with db.as_service() as conn:
        sw = (await (await conn.execute("select id from voice_ai_providers where code = 'signalwire'")).fetchone())["id"]
        org = (await (await conn.execute("insert into organizations (name) values ('Tenant') returning id")).fetchone())["id"]
        agent = (await (await conn.execute(
            "insert into agent_configs (organization_id, name, prompt, voice, active_provider_id) "
            "values (%s, 'Front desk', 'You are the front desk.', %s, %s) returning id",
            (org, Jsonb({"vendor": "openai", "voice_id": "alloy"}), sw))).fetchone())["id"]
        pc = (await (await conn.execute(
            "insert into provider_configs (organization_id, agent_config_id, provider_id, settings) "
            "values (%s, %s, %s, %s) returning id", (org, agent, sw, Jsonb({})))).fetchone())["id"]
        await put_secret(conn, org, "signalwire", {"project_id": "tenant-project-0001", "api_token": "PTtenanttoken0001",
                                                   "space_url": space_url})
    return pc


@pytest.mark.parametrize(("status", "words"), [(401, "SignalWire refused the key (401)"), (500, "the platform answered 500")])
async def test_sync_error_has_our_words_and_status_never_the_platforms_body(db: Database, monkeypatch, status, words) -> None:
    from switchboard.agent_sync import sync_provider_config
    from switchboard.platforms import PlatformSource
    from switchboard.settings import get_settings

    async with RecordingServer(status=status, body=marker_body("this body is the tenant's server talking")) as server:
        local(monkeypatch)  # loopback is allowed out of production: the answer is what is under test
        pc = await _signalwire_agent(db, server.url)
        source = PlatformSource(db, get_settings())
        outcome = await sync_provider_config(db, source, pc)
        await source.aclose()
        assert server.requests, "the platform was asked"
    async with db.as_service() as conn:
        row = await (await conn.execute("select sync_status, sync_error from provider_configs where id = %s", (pc,))).fetchone()
    assert outcome.action == "failed" and row["sync_status"] == "failed"
    assert words in row["sync_error"] and MARKER not in row["sync_error"] and MARKER not in (outcome.error or "")
    assert "this body" not in row["sync_error"]


async def _hanging_port():
    import asyncio

    async def hang(reader, writer):
        await asyncio.sleep(30)

    return await asyncio.start_server(hang, "127.0.0.1", 0)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_connection_refused_and_timeout_give_the_same_words(monkeypatch) -> None:
    from switchboard.agent_sync import tenant_words
    from switchboard.providers.signalwire.adapter import SignalWireProvider

    local(monkeypatch)
    hanging = await _hanging_port()
    try:
        said = []
        for port in (_closed_port(), hanging.sockets[0].getsockname()[1]):
            provider = SignalWireProvider(
                ProviderCredentials(values={"project_id": "tenant-project-0001", "api_token": "PTtenanttoken0001",
                                            "space_url": f"http://127.0.0.1:{port}"}),
                retry=RetryPolicy(attempts=1, attempt_timeout=0.5))
            with pytest.raises(ProviderError) as err:
                await provider.create_agent(AgentSpec(prompt="You are the front desk."))
            await provider.aclose()
            said.append(tenant_words("signalwire", err.value))
        assert said[0] == said[1] == "could not reach the platform (create-ai-agent)"
    finally:
        hanging.close()


async def test_http_tool_errors_reach_the_model_as_our_words(monkeypatch) -> None:
    from livekit.agents import ToolError

    from agent_worker.tools import call_http_tool, tool_client

    local(monkeypatch)
    hanging = await _hanging_port()
    try:
        async with RecordingServer(status=500, body=marker_body()) as server, tool_client(allow_private=True) as client:
            texts = []
            for url in (server.url, f"http://127.0.0.1:{_closed_port()}", f"http://127.0.0.1:{hanging.sockets[0].getsockname()[1]}"):
                spec = HttpTool(name="lookup", description="d", url=url, timeout_seconds=0.5)
                with pytest.raises(ToolError) as err:
                    await call_http_tool(client, spec, {}, allow_private=True)
                texts.append(str(err.value))
        assert texts[0] == "lookup: the service answered HTTP 500" and MARKER not in texts[0]
        assert texts[1] == texts[2] == "lookup: could not reach the service"
    finally:
        hanging.close()


def test_platform_status_errors_keep_the_remote_text_only_as_detail() -> None:
    from switchboard.providers.resilience import error_for_status

    error = error_for_status("retell", "create-agent", 422, f"invalid voice {MARKER} Bearer sk-abcdefghijklmnopqrstuvwxyz0123")
    assert error.message == "Retell rejected the request (422) during create-agent" and MARKER not in str(error)
    assert MARKER in error.detail and "sk-abcdefghijklmnopqrstuvwxyz0123" not in error.detail  # logs: no secrets
