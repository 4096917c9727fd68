"""Issue #11 (SSRF with the answer reflected): every outbound request whose URL a tenant can
influence goes through switchboard.egress. In production: https only, public addresses only,
the name resolved once and the connection made to the checked address, no redirects. Every
refusal happens before any connection: the local server of each test must see nothing."""

from __future__ import annotations

import socket

import httpcore
import httpx
import pytest

from switchboard.providers.base import ProviderCredentials, ProviderRejected
from switchboard.providers.resilience import RetryPolicy
from switchboard.settings import reset_settings_cache
from switchboard.spec import HttpTool
from tests.security.egress_support import RecordingServer, local, production

PUBLIC_IP = "93.184.216.34"  # a public address; tests never really connect to it
FAST = RetryPolicy(attempts=1, attempt_timeout=2.0)


@pytest.fixture(autouse=True)
def _fresh_settings():
    yield
    reset_settings_cache()


def internal_urls(port: int) -> list[str]:
    return [
        f"https://127.0.0.1:{port}/",
        f"https://10.0.0.7:{port}/",
        f"https://[::1]:{port}/",
        f"https://[::ffff:127.0.0.1]:{port}/",
        "https://169.254.169.254/latest/meta-data/",
        f"https://localhost:{port}/",
        f"http://127.0.0.1:{port}/",
        "http://api.example.com/",  # plain http to a host the operator did not list
    ]


async def test_ssrf_signalwire_space_url_to_internal_addresses_is_refused_in_production(monkeypatch) -> None:
    from switchboard.providers.registry import get_provider

    async with RecordingServer() as server:
        production(monkeypatch)
        for url in internal_urls(server.port):
            creds = ProviderCredentials(values={"project_id": "tenant-project-1", "api_token": "tenant-token-0001",
                                                "space_url": url})
            with pytest.raises(ProviderRejected, match="space_url must be an https URL on a public host"):
                provider = get_provider("signalwire", creds, retry=FAST)
                await provider.create_agent(_spec())
        assert server.requests == []


async def test_ssrf_the_adapters_client_refuses_internal_addresses_before_connecting(monkeypatch) -> None:
    """Even an adapter built without the registry's check (its own client is the policy's)."""
    from switchboard.providers.retell.adapter import RetellProvider
    from switchboard.providers.signalwire.adapter import SignalWireProvider

    async with RecordingServer() as server:
        production(monkeypatch)
        for url in internal_urls(server.port):
            sw = SignalWireProvider(ProviderCredentials(values={"project_id": "p-00000001", "api_token": "t-00000001",
                                                               "space_url": url}), retry=FAST)
            with pytest.raises(ProviderRejected, match="must be an https URL on a public host"):
                await sw.create_agent(_spec())
            await sw.aclose()
            retell = RetellProvider(ProviderCredentials(values={"api_key": "tenant-key-0001"}, base_url=url), retry=FAST)
            with pytest.raises(ProviderRejected, match="must be an https URL on a public host"):
                await retell.client.voice.list() if False else await retell.list_voices()
            await retell.aclose()
        assert server.requests == []


async def test_ssrf_http_tool_urls_to_internal_addresses_are_refused_in_production(monkeypatch) -> None:
    from livekit.agents import ToolError

    from agent_worker.tools import call_http_tool, tool_client

    async with RecordingServer() as server:
        production(monkeypatch)
        async with tool_client(allow_private=False) as client:
            for url in internal_urls(server.port):
                spec = HttpTool.model_construct(type="http", name="lookup", description="d", url=url, method="POST",
                                                parameters={"type": "object", "properties": {}}, timeout_seconds=2.0)
                with pytest.raises(ToolError, match="must be an https URL on a public host"):
                    await call_http_tool(client, spec, {}, allow_private=False)
        assert server.requests == []


async def test_ssrf_a_name_that_resolves_to_loopback_is_refused_at_connect_time(monkeypatch) -> None:
    from switchboard import egress

    async with RecordingServer() as server:
        production(monkeypatch, EGRESS_ALLOW_HTTP_HOSTS="tenant.example.com")
        real = socket.getaddrinfo

        def fake(host, *args, **kwargs):
            if host == "tenant.example.com":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port))]
            return real(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", fake)
        async with egress.client(what="base_url") as client:
            with pytest.raises(egress.EgressRefused, match="tenant.example.com resolves to 127.0.0.1, a loopback address"):
                await client.get(f"http://tenant.example.com:{server.port}/")
        assert server.requests == []


async def test_ssrf_values_refused_at_save_time_as_field_errors(monkeypatch, db) -> None:
    import uuid

    from switchboard import orgconfig
    from switchboard.errors import InvalidInput
    from switchboard.models import OrgConfigUpdate

    production(monkeypatch)
    async with db.as_service() as conn:
        with pytest.raises(InvalidInput) as err:
            await orgconfig.put_provider_secrets(conn, uuid.uuid4(), "signalwire", {
                "project_id": "tenant-project-1", "api_token": "tenant-token-0001", "space_url": "127.0.0.1:8080"})
        assert [(e.field, e.message) for e in err.value.errors] == [
            ("secrets.space_url", "space_url must be an https URL on a public host")]  # secrets: no value quoted
        with pytest.raises(InvalidInput) as err:
            await orgconfig.upsert_org_config(conn, uuid.uuid4(), "openai-llm",
                                              OrgConfigUpdate(config={"base_url": "http://169.254.169.254/v1"}),
                                              if_match=None, if_none_match="*")
        assert any(e.field == "config.base_url" and "must be an https URL on a public host" in e.message
                   for e in err.value.errors)


async def test_ssrf_a_redirect_to_loopback_from_an_allowed_host_is_not_followed(monkeypatch) -> None:
    """allowed.example.com (public, listed for http) answers 302 → http://127.0.0.1:…: not
    followed; and a client told to follow it anyway is refused at the second hop."""
    from switchboard import egress

    async with RecordingServer() as inner, RecordingServer(status=302) as outer:
        outer.location = f"https://127.0.0.1:{inner.port}/secret"
        production(monkeypatch, EGRESS_ALLOW_HTTP_HOSTS="allowed.example.com")
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, 80))])
        original = egress.PinnedBackend.connect_address

        async def to_outer(self, address, port, **kwargs):  # the "public" host is our local server
            assert address == PUBLIC_IP
            return await original(self, "127.0.0.1", outer.port, **kwargs)

        monkeypatch.setattr(egress.PinnedBackend, "connect_address", to_outer)
        async with egress.client(what="base_url") as client:
            response = await client.get("http://allowed.example.com/start")
            assert response.status_code == 302 and len(outer.requests) == 1
            with pytest.raises(egress.EgressRefused, match="127.0.0.1 is a loopback address"):
                await client.get("http://allowed.example.com/start", follow_redirects=True)
        assert inner.requests == []


async def test_dns_rebinding_the_name_is_resolved_once_and_the_checked_address_is_used(monkeypatch) -> None:
    """A resolver answering public first, loopback after: the connection goes to the address
    that was checked; no second lookup happens."""
    from livekit.agents import ToolError

    from agent_worker.tools import call_http_tool, tool_client
    from switchboard import egress

    async with RecordingServer() as server:
        production(monkeypatch, EGRESS_ALLOW_HTTP_HOSTS="rebind.example.com")
        answers = iter([PUBLIC_IP] + ["127.0.0.1"] * 10)
        lookups: list[str] = []

        def rebinding(host, port, *args, **kwargs):
            address = next(answers)
            lookups.append(address)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, server.port))]

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        connected: list[str] = []

        async def record(self, address, port, **kwargs):
            connected.append(address)
            raise httpcore.ConnectError("not really connecting")

        monkeypatch.setattr(egress.PinnedBackend, "connect_address", record)
        spec = HttpTool(name="lookup", description="d", url=f"http://rebind.example.com:{server.port}/", timeout_seconds=2)
        async with tool_client(allow_private=False) as client:
            with pytest.raises(ToolError, match="could not reach the service"):
                await call_http_tool(client, spec, {}, allow_private=False)
        assert lookups == [PUBLIC_IP] and connected == [PUBLIC_IP]
        assert server.requests == []


async def test_out_of_production_loopback_and_http_are_allowed(monkeypatch, caplog) -> None:
    import switchboard.egress as egress

    async with RecordingServer() as server:
        local(monkeypatch)
        monkeypatch.setattr(egress, "_warned_local", False)
        with caplog.at_level("WARNING", logger="switchboard.egress"):
            async with egress.client() as client:
                assert (await client.get(server.url + "/ok")).status_code == 200
            async with egress.client() as client:  # said once, not per client
                assert (await client.get(server.url + "/ok")).status_code == 200
        assert len(server.requests) == 2
        assert sum("not production" in r.message for r in caplog.records) == 1


async def test_timeouts_are_bounded_and_a_tool_timeout_ceiling_is_refused_at_save_time() -> None:
    from pydantic import ValidationError

    from switchboard import egress
    from switchboard.models import AgentUpdate

    assert egress.timeout(3600) == egress.MAX_TIMEOUT_SECONDS
    with pytest.raises(ValidationError, match="timeout_seconds must be at most 30 seconds"):
        AgentUpdate.model_validate({"tools": [{"type": "http", "name": "slow", "description": "d",
                                              "url": "https://api.example.com/x", "timeout_seconds": 600}]})


def test_address_classes() -> None:
    from switchboard.egress import address_kind

    for ip in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
               "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:a00:1::"):
        assert address_kind(ip) is not None, ip
    for ip in (PUBLIC_IP, "8.8.8.8", "2606:4700:4700::1111"):
        assert address_kind(ip) is None, ip


def _spec():
    from switchboard.spec import AgentSpec

    return AgentSpec(prompt="You are the front desk.")


async def test_a_request_asking_for_no_timeout_still_gets_the_ceiling(monkeypatch) -> None:
    from switchboard import egress

    async with RecordingServer() as server:
        local(monkeypatch)
        seen = {}
        original = egress.EgressTransport.handle_async_request

        async def spy(self, request):
            response = await original(self, request)
            seen.update(request.extensions["timeout"])
            return response

        monkeypatch.setattr(egress.EgressTransport, "handle_async_request", spy)
        async with egress.client() as client:
            await client.get(server.url, timeout=None)
        assert seen and all(v == egress.MAX_TIMEOUT_SECONDS for v in seen.values())


def _tls_files(tmp_path, name: str):
    """A throwaway CA and a certificate for `name` it signed (openssl)."""
    import subprocess

    def run(*args):
        subprocess.run(args, check=True, capture_output=True, cwd=tmp_path)

    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "1", "-subj", "/CN=test-ca", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", f"/CN={name}")
    (tmp_path / "ext.cnf").write_text(f"subjectAltName=DNS:{name}\n")
    run("openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "srv.pem", "-days", "1", "-extfile", "ext.cnf")
    return tmp_path / "ca.pem", tmp_path / "srv.pem", tmp_path / "srv.key"


async def test_a_pinned_connection_still_checks_the_certificate_of_the_name(monkeypatch, tmp_path) -> None:
    """The connection goes to the checked address, but TLS speaks to the name: SNI carries it
    and the certificate must be the name's."""
    import asyncio
    import ssl

    from switchboard import egress

    ca, cert, key = _tls_files(tmp_path, "tenant.example.com")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    sni: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: sni.append(name)

    async def answer(reader, writer):
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        except Exception:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        local(monkeypatch)
        real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: (
            [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))] if host.endswith(".example.com") else real(host, *a, **k)))
        trust = ssl.create_default_context(cafile=str(ca))
        async with egress.client(verify=trust) as client:
            assert (await client.get(f"https://tenant.example.com:{port}/")).text == "ok"
            with pytest.raises(httpx.ConnectError, match="certificate|hostname"):
                await client.get(f"https://other.example.com:{port}/")  # same address, not its certificate
        assert sni[0] == "tenant.example.com"
    finally:
        server.close()


async def test_ssrf_cartesia_base_url_is_checked_and_its_session_resolves_only_public_addresses(monkeypatch) -> None:
    from agent_worker.vendors import BuildContext, VendorUnavailable, cartesia_tts
    from switchboard import egress
    from switchboard.pipeline.config import VendorSettings
    from switchboard.spec import AgentSpec

    def vendor(url: str) -> VendorSettings:
        return VendorSettings(key="cartesia-tts", type="tts", vendor="cartesia", name="Cartesia", priority=1,
                              config={"voice": "v", "base_url": url, "api_key": "sk_car_tenant_000001"},
                              credential_source="organization")

    ctx = BuildContext(agent=AgentSpec(prompt="p"), vad=None)
    async with RecordingServer() as server:
        production(monkeypatch)
        with pytest.raises(VendorUnavailable, match="base_url must be an https URL on a public host"):
            cartesia_tts(vendor(f"https://127.0.0.1:{server.port}"), ctx)
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port))])
        tts = cartesia_tts(vendor("https://tts.example.com"), ctx)
        try:
            with pytest.raises(egress.EgressRefused, match="tts.example.com resolves to 127.0.0.1"):
                async with tts._ensure_session().get(f"https://tts.example.com:{server.port}/tts/bytes"):
                    pass
        finally:
            await tts.aclose()
        assert server.requests == []
