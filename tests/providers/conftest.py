"""Fixtures of the provider tests: one Prism mock per provider document (all four launched
together the first time any is needed, so their start-up overlaps; stopped at session end),
the full documents for schema checks, and adapters wired to the mocks through an httpx client
that records every request it sends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from switchboard.spec import AgentSpec, AnalysisSpec, EndCallTool, HttpTool, TransferTool, VoiceSpec
from tests.support.openapi import OpenAPIDocument, RequestRecorder, openapi_document
from tests.support.prism import CONTRACTS, PrismServer

MOCK_DOCUMENTS = {
    "retell": "retell-openapi.yaml",
    "vapi": "vapi-mock-flat.json",
    "signalwire": "signalwire-rest-mock-flat.yaml",
    "signalwire_compat": "signalwire-compatibility-openapi.yaml",
}
FULL_DOCUMENTS = {
    "retell": "retell-openapi.yaml",
    "vapi": "vapi-openapi.json",
    "signalwire": "signalwire-rest-openapi.yaml",
    "signalwire_compat": "signalwire-compatibility-openapi.yaml",
}


@pytest.fixture(scope="session")
def prism_servers() -> Iterator[dict[str, PrismServer]]:
    servers = {name: PrismServer(CONTRACTS / doc) for name, doc in MOCK_DOCUMENTS.items()}
    try:
        for server in servers.values():
            server.start()
        yield servers
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="session")
def retell_prism(prism_servers) -> PrismServer:
    return prism_servers["retell"].wait_ready()


@pytest.fixture(scope="session")
def vapi_prism(prism_servers) -> PrismServer:
    return prism_servers["vapi"].wait_ready()


@pytest.fixture(scope="session")
def signalwire_prism(prism_servers) -> PrismServer:
    return prism_servers["signalwire"].wait_ready()


@pytest.fixture(scope="session")
def signalwire_compat_prism(prism_servers) -> PrismServer:
    return prism_servers["signalwire_compat"].wait_ready()


@pytest.fixture(scope="session")
def docs() -> dict[str, OpenAPIDocument]:
    class _Lazy(dict):
        def __missing__(self, key: str) -> OpenAPIDocument:
            value = self[key] = openapi_document(CONTRACTS / FULL_DOCUMENTS[key])
            return value

    return _Lazy()


@pytest.fixture
def recorder() -> RequestRecorder:
    return RequestRecorder()


@pytest.fixture
async def http_client(recorder: RequestRecorder) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(event_hooks={"request": [recorder.hook]}, timeout=10) as client:
        yield client


@pytest.fixture
def spec() -> AgentSpec:
    """One canonical agent: what every platform must carry over unchanged."""
    return AgentSpec(
        name="Front desk",
        prompt="You are the front desk of Demo Dental. Book appointments and answer questions about opening hours.",
        begin_message="Hello, Demo Dental, how can I help?",
        voice=VoiceSpec(vendor="openai", voice_id="alloy"),
        language="en-US",
        tools=[
            EndCallTool(),
            TransferTool(number="+14155550123", description="Transfer to the practice manager."),
            HttpTool(
                name="book_appointment",
                description="Book an appointment slot for the caller.",
                url="https://api.demo-dental.example/appointments",
                parameters={
                    "type": "object",
                    "properties": {"day": {"type": "string", "description": "ISO date"}, "name": {"type": "string"}},
                    "required": ["day", "name"],
                },
            ),
        ],
        analysis=AnalysisSpec(success_criteria="the caller booked an appointment", fields={"patient_name": "The caller's full name"}),
        max_duration_seconds=900,
        metadata={"organization_id": "9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41", "agent_config_id": "3f6a1d2c-8b9e-4f70-a1b2-c3d4e5f60718"},
    )


@pytest.fixture
async def aiohttp_server():
    """Start small local HTTP servers from (method, path, handler) routes; yields a factory
    returning each server's base URL; everything is stopped after the test."""
    from aiohttp import web

    runners: list[web.AppRunner] = []

    async def start(routes) -> str:
        app = web.Application()
        for method, path, handler in routes:
            app.router.add_route(method, path, handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()
