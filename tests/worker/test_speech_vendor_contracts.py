"""Speech vendors through their real plugins. Groq Whisper (`/openai/v1/audio/transcriptions`)
and Azure Speech's REST synthesis (`/cognitiveservices/v1`, SSML in, PCM out) against the local
server of tests/worker/vendor_protocols: key and config reach the vendor, usage is priced from
price_book, an error or a hang fails over within the attempt timeout, a quota refusal keeps the
vendor out. Google Cloud Speech/TTS (gRPC) and Azure's Speech SDK (USP over WebSocket) have their
contract tests in test_google_speech_contracts.py and test_azure_stt_contract.py; here, the
factory builds their real plugins with the organisation's service account / key and region."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import numpy as np
import pytest
from livekit import rtc
from livekit.agents.metrics import ModelUsageCollector
from livekit.agents.utils import http_context

from agent_worker.chains import build_chains
from agent_worker.report import call_usage
from switchboard.billing import load_price_book, price_usage_if_known
from switchboard.db import Database
from switchboard.pipeline.config import load_pipeline
from switchboard.pipeline.failover import QuotaBook
from switchboard.secrets import put_secret
from switchboard.settings import Settings
from tests.worker.conftest import create_org
from tests.worker.vendor_protocols import TRANSCRIPT, VendorProtocols

GROQ_KEY = "gsk_organisation_groq_key"
AZURE_KEY = "azure0speech0organisation0key"


def _speech(seconds: float = 1.0, rate: int = 16000) -> rtc.AudioFrame:
    samples = (np.sin(np.arange(int(rate * seconds)) * 2 * np.pi * 180 / rate) * 6000).astype(np.int16)
    return rtc.AudioFrame(samples.tobytes(), sample_rate=rate, num_channels=1, samples_per_channel=len(samples))


async def _chains(db: Database, vad, vendors, secrets: dict, quotas: QuotaBook | None = None):
    org = await create_org(db, vendors=vendors)
    async with db.as_service() as conn:
        for vendor, values in secrets.items():
            await put_secret(conn, org.id, vendor, values)
        config = await load_pipeline(conn, org.id, org.agent_id, settings=Settings(_env_file=None))
    return org, build_chains(config, vad=vad, quotas=quotas or QuotaBook())


async def _priced(db: Database, usage) -> object:
    async with db.as_service() as conn:
        book = await load_price_book(conn)
    return price_usage_if_known(book, call_usage(usage, duration_seconds=0, sip=False))


# --- Groq Whisper -------------------------------------------------------------------------------
def _groq(url: str, **extra):
    # The backup is OpenAI's transcriptions at the same server (the same protocol at OpenAI's
    # path; the server's failure modes apply to Groq's path only): it answers at once.
    return [("groq-stt", 100, True, {"base_url": url + "/openai/v1", "language": "en", **extra}),
            ("openai-stt", 10, True, {"base_url": url + "/v1", "model": "whisper-1"})]


SECRETS = {"groq": {"api_key": GROQ_KEY}, "openai": {"api_key": "sk-organisation-openai"}}


async def test_groq_transcribes_with_the_organisations_key_and_its_minutes_are_priced(
    db: Database, vad, server: VendorProtocols
) -> None:
    _, chains = await _chains(db, vad, _groq(server.url), SECRETS)
    collector = ModelUsageCollector()
    chains.members["stt"][0].on("metrics_collected", collector.collect)
    event = await chains.stt_fallback.recognize(_speech(2.0))
    await chains.aclose()
    assert event.alternatives[0].text == TRANSCRIPT
    (sent,) = server.calls("/openai/v1/audio/transcriptions")
    assert sent["headers"]["authorization"] == f"Bearer {GROQ_KEY}"
    assert sent["body"]["model"] == "whisper-large-v3-turbo" and sent["body"]["language"] == "en"
    assert sent["body"]["file_bytes"] > 2 * 16000 * 2  # the utterance, as a WAV file

    cost = await _priced(db, collector.flatten())
    assert cost.stt == (Decimal(2) / 60 * Decimal("0.00066667")).quantize(Decimal("0.000001")) and cost.stt > 0


@pytest.mark.parametrize("mode", ["500", "hang"])
async def test_a_failing_or_hung_groq_fails_over_to_the_offline_stt(
    db: Database, vad, server: VendorProtocols, mode: str
) -> None:
    server.mode, server.only = mode, "/openai/"
    _, chains = await _chains(db, vad, _groq(server.url, attempt_timeout=0.5), SECRETS)
    started = time.perf_counter()
    event = await chains.stt_fallback.recognize(_speech(1.0))
    elapsed = time.perf_counter() - started
    lines = chains.guard.lines()
    await chains.aclose()
    assert server.calls("/openai/v1/audio/transcriptions") and event.alternatives[0].text == TRANSCRIPT
    assert server.calls("/v1/audio/transcriptions")  # from the backup
    assert elapsed < 2.0, elapsed  # 0.5 s attempt timeout
    assert lines[0] == f"STT: groq (failed: {'timeout' if mode == 'hang' else '500'}) → openai (active)"


async def test_a_groq_quota_refusal_keeps_it_out_until_the_published_reset(
    db: Database, vad, server: VendorProtocols
) -> None:
    now = [1_800_000_000.0]
    quotas = QuotaBook(clock=lambda: now[0])
    server.mode, server.only = "quota", "/openai/"
    org, chains = await _chains(db, vad, _groq(server.url), SECRETS, quotas)
    await chains.stt_fallback.recognize(_speech(1.0))
    await chains.aclose()
    hold = quotas.hold(str(org.id), "groq-stt")
    assert hold is not None and hold.until == now[0] + 90  # Retry-After: 90
    asked = len(server.calls("/openai/v1/audio/transcriptions"))
    server.mode = "ok"
    async with db.as_service() as conn:
        config = await load_pipeline(conn, org.id, org.agent_id, settings=Settings(_env_file=None))
    chains = build_chains(config, vad=vad, quotas=quotas)  # the next call
    await chains.stt_fallback.recognize(_speech(1.0))
    await chains.aclose()
    assert len(server.calls("/openai/v1/audio/transcriptions")) == asked  # not asked while out
    now[0] = hold.until + 1
    chains = build_chains(config, vad=vad, quotas=quotas)  # a call after the reset
    await chains.stt_fallback.recognize(_speech(1.0))
    await chains.aclose()
    assert len(server.calls("/openai/v1/audio/transcriptions")) == asked + 1


# --- Azure Speech REST synthesis ------------------------------------------------------------------
def _azure(url: str, **extra):
    return [("azure-tts", 100, True, {"endpoint": url + "/cognitiveservices/v1", "voice": "en-GB-SoniaNeural", **extra}),
            ("espeak-tts", 10, True, {})]


async def test_azure_speaks_with_the_organisations_key_and_voice_and_characters_are_priced(
    db: Database, vad, server: VendorProtocols
) -> None:
    text = "Your appointment is confirmed."
    async with http_context.open():
        _, chains = await _chains(db, vad, _azure(server.url), {"azure-speech": {"api_key": AZURE_KEY}})
        collector = ModelUsageCollector()
        chains.members["tts"][0].on("metrics_collected", collector.collect)
        frames = [ev.frame async for ev in chains.tts.synthesize(text)]
        await chains.aclose()
    assert sum(f.duration for f in frames) == pytest.approx(0.5, abs=0.05)
    (sent,) = server.calls("/cognitiveservices/v1")
    assert sent["headers"]["ocp-apim-subscription-key"] == AZURE_KEY
    assert sent["headers"]["x-microsoft-outputformat"] == "raw-24khz-16bit-mono-pcm"
    assert "en-GB-SoniaNeural" in sent["body"] and text in sent["body"]
    cost = await _priced(db, collector.flatten())
    assert cost.tts == (Decimal(len(text)) / 1000 * Decimal("0.015")).quantize(Decimal("0.000001")) and cost.tts > 0


@pytest.mark.parametrize("mode", ["500", "hang"])
async def test_a_failing_or_hung_azure_tts_fails_over_to_espeak(
    db: Database, vad, server: VendorProtocols, mode: str
) -> None:
    server.mode = mode
    async with http_context.open():
        _, chains = await _chains(db, vad, _azure(server.url, attempt_timeout=0.5), {"azure-speech": {"api_key": AZURE_KEY}})
        started = time.perf_counter()
        frames = [ev.frame async for ev in chains.tts.synthesize("One moment please.")]
        elapsed = time.perf_counter() - started
        lines = chains.guard.lines()
        await chains.aclose()
    assert frames and server.calls("/cognitiveservices/v1")
    assert elapsed < 4.0, elapsed
    assert lines[2] == f"TTS: azure (failed: {'timeout' if mode == 'hang' else '500'}) → espeak (active)"


# --- Google Cloud Speech / TTS and Azure STT at the vendors' own hosts: built with the org's credentials ---
SERVICE_ACCOUNT = {
    "type": "service_account", "project_id": "demo-dental", "private_key_id": "k1",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
    "client_email": "voice@demo-dental.iam.gserviceaccount.com", "client_id": "1",
    "token_uri": "https://oauth2.googleapis.com/token",
}


async def test_google_and_azure_stt_and_google_tts_are_built_with_the_organisations_credentials(db: Database, vad) -> None:
    from livekit.plugins import azure, google

    org = await create_org(db, vendors=[
        ("google-stt", 100, True, {"language": "en-GB", "model": "latest_short", "location": "eu"}),
        ("azure-stt", 90, True, {"region": "westeurope", "language": "en-GB"}),
        ("google-tts", 100, True, {"voice": "en-GB-Chirp3-HD-Kore", "language": "en-GB", "speed": 1.1}),
    ])
    async with db.as_service() as conn:
        await put_secret(conn, org.id, "google-cloud", {"credentials_json": json.dumps(SERVICE_ACCOUNT)})
        await put_secret(conn, org.id, "azure-speech", {"api_key": AZURE_KEY})
        config = await load_pipeline(conn, org.id, org.agent_id, settings=Settings(_env_file=None))
    chains = build_chains(config, vad=vad, quotas=QuotaBook())
    try:
        assert chains.keys["stt"] == ["google-stt", "azure-stt"] and chains.keys["tts"] == ["google-tts"]
        g_stt, a_stt = (m.inner for m in chains.members["stt"])
        g_tts = chains.members["tts"][0].inner
        assert isinstance(g_stt, google.STT) and isinstance(a_stt, azure.STT) and isinstance(g_tts, google.TTS)
        assert g_stt._credentials_info == SERVICE_ACCOUNT and g_stt._location == "eu"
        assert g_stt._config.model == "latest_short" and g_stt._config.languages == ["en-GB"]
        assert a_stt._config.speech_key == AZURE_KEY and a_stt._config.speech_region == "westeurope"
        assert g_tts._credentials_info == SERVICE_ACCOUNT and g_tts._opts.voice.name == "en-GB-Chirp3-HD-Kore"
        assert g_tts._opts.speaking_rate == 1.1
    finally:
        await chains.aclose()


async def test_a_google_key_that_is_not_a_service_account_is_skipped_in_words(db: Database, vad) -> None:
    org = await create_org(db, vendors=[("google-tts", 100, True, {}), ("espeak-tts", 10, True, {})])
    async with db.as_service() as conn:
        await put_secret(conn, org.id, "google-cloud", {"credentials_json": '{"type": "authorized_user"}'})
        config = await load_pipeline(conn, org.id, org.agent_id, settings=Settings(_env_file=None))
    chains = build_chains(config, vad=vad, quotas=QuotaBook())
    await chains.aclose()
    assert chains.keys["tts"] == ["espeak-tts"]
    assert ("google-tts", "the stored Google Cloud key is not a service account key") in chains.skipped
