"""The speech vendors' URLs are tenant-set (a cloud vendor's base_url, the organisation's own
Whisper/Vosk/Piper server, Google Cloud Speech's gRPC endpoint, Azure Speech's WebSocket
endpoint): in production each goes through the egress policy, so an internal
address is refused before any connection (the vendor is skipped and the chain falls over), an
operator-listed private host is allowed, and the connection itself resolves only checked
addresses."""

from __future__ import annotations

import json
import socket

import pytest

from agent_worker.speech_vendors import SPEECH_FACTORIES
from agent_worker.vendors import BuildContext, VendorUnavailable
from switchboard import egress
from switchboard.pipeline.config import VendorSettings
from switchboard.spec import AgentSpec
from switchboard.settings import reset_settings_cache
from tests.security.egress_support import RecordingServer, production


@pytest.fixture(autouse=True)
def _fresh_settings():
    yield
    reset_settings_cache()  # production() changed the environment: the next test reads it anew

URL_FIELD = {"deepgram-stt": "base_url", "deepgram-tts": "base_url", "elevenlabs-tts": "base_url",
             "assemblyai-stt": "base_url", "whisper-stt": "url", "vosk-stt": "url", "piper-tts": "url"}
CTX = BuildContext(agent=AgentSpec(prompt="p"), vad=None)


def _vendor(key: str, url: str) -> VendorSettings:
    vendor = key.split("-")[0]
    return VendorSettings(key=key, type=key.split("-")[1], vendor=vendor, name=key, priority=1,
                          config={URL_FIELD[key]: url, "api_key": "tenant-key-000001", "voice": "aura-2-thalia-en"
                                  if key == "deepgram-tts" else "Xb7hH8MSUJpSbSDYk0k2"},
                          credential_source="organization")


@pytest.mark.parametrize("key", sorted(URL_FIELD))
@pytest.mark.parametrize("url", ["https://169.254.169.254/latest", "https://10.0.0.7:2700", "wss://localhost:2700"])
async def test_an_internal_url_is_refused_before_any_connection_in_production(monkeypatch, key: str, url: str) -> None:
    production(monkeypatch)
    with pytest.raises(VendorUnavailable, match="must be an https URL on a public host"):
        SPEECH_FACTORIES[key](_vendor(key, url), CTX)


async def test_an_operator_listed_private_host_is_allowed_and_names_resolve_only_to_checked_addresses(monkeypatch) -> None:
    production(monkeypatch, EGRESS_ALLOW_PRIVATE_HOSTS="piper.internal")
    piper = SPEECH_FACTORIES["piper-tts"](_vendor("piper-tts", "https://piper.internal:5000"), CTX)
    await piper.aclose()
    async with RecordingServer() as server:
        # A public-looking name that resolves inside is refused when connecting (no second lookup).
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port))])
        vosk = SPEECH_FACTORIES["vosk-stt"](_vendor("vosk-stt", f"wss://vosk.example.com:{server.port}"), CTX)
        try:
            with pytest.raises(egress.EgressRefused, match="vosk.example.com resolves to 127.0.0.1"):
                async with vosk._http.get().ws_connect(f"wss://vosk.example.com:{server.port}"):
                    pass
        finally:
            await vosk.aclose()
        assert server.requests == []


async def test_a_servers_internal_url_is_refused_as_a_field_error_when_saved_in_production(monkeypatch, db) -> None:
    import uuid

    from switchboard import orgconfig
    from switchboard.errors import InvalidInput
    from switchboard.models import OrgConfigUpdate

    production(monkeypatch)
    async with db.as_service() as conn:
        for key, url in (("vosk-stt", "ws://10.0.0.7:2700"), ("piper-tts", "http://localhost:5000"),
                         ("whisper-stt", "https://169.254.169.254/v1")):
            with pytest.raises(InvalidInput) as err:
                await orgconfig.upsert_org_config(conn, uuid.uuid4(), key, OrgConfigUpdate(config={"url": url}),
                                                  if_match=None, if_none_match="*")
            assert any(e.field == "config.url" and "must be an https URL on a public host" in e.message
                       for e in err.value.errors), key


def _cloud(key: str, endpoint: str, private_key: str = "unused") -> VendorSettings:
    vendor = {"google-stt": "google-cloud", "google-tts": "google-cloud", "azure-stt": "azure-speech"}[key]
    account = json.dumps({"type": "service_account", "project_id": "p", "client_email": "a@p.iam.gserviceaccount.com",
                          "private_key": private_key, "token_uri": "https://oauth2.googleapis.com/token"})
    return VendorSettings(key=key, type=key.split("-")[1], vendor=vendor, name=key, priority=1,
                          config={"endpoint": endpoint, "api_key": "tenant-key-000001", "credentials_json": account},
                          credential_source="organization")


@pytest.mark.parametrize(("key", "endpoint"), [
    ("google-stt", "127.0.0.1:50051"), ("google-tts", "10.0.0.7:443"), ("google-stt", "localhost:8443"),
    ("azure-stt", "ws://10.0.0.7:5000/speech/recognition/conversation/cognitiveservices/v1"),
    ("azure-stt", "wss://169.254.169.254/speech"),
])
async def test_a_google_or_azure_speech_endpoint_inside_is_refused_in_production(monkeypatch, key: str, endpoint: str) -> None:
    from agent_worker.vendors import FACTORIES

    production(monkeypatch)
    with pytest.raises(VendorUnavailable):
        FACTORIES[key](_cloud(key, endpoint), CTX)


async def test_a_public_google_endpoint_is_reached_over_tls_at_that_host(monkeypatch) -> None:
    from agent_worker.vendors import FACTORIES

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    production(monkeypatch)
    stt = FACTORIES["google-stt"](_cloud("google-stt", "speech-voice.p.googleapis.com", pem), CTX)
    client = await stt._create_client(1.0)  # the channel connects lazily: nothing is sent
    try:
        assert client.transport._host == "speech-voice.p.googleapis.com:443"
        assert client.transport._ssl_channel_credentials is None  # the library's default TLS, not local credentials
    finally:
        await client.transport.close()
        await stt.aclose()
