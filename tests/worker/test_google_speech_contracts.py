"""Google Cloud Speech-to-Text and Text-to-Speech through livekit-plugins-google, against the
local gRPC server of tests/worker/google_grpc.py (the client libraries' own messages): the
organisation's service account signs what reaches the server, its config (model, language,
location, voice, speed) is in the requests, usage is priced per model from price_book (a V1
model stays unpriced), an UNAVAILABLE or a hang fails over within the attempt timeout, and a
RESOURCE_EXHAUSTED quota refusal keeps the vendor out until its RetryInfo delay has passed."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt
from livekit.agents.utils import http_context

from agent_worker.chains import build_chains
from switchboard.db import Database
from switchboard.pipeline.config import PipelineConfig
from switchboard.pipeline.failover import QuotaBook
from tests.worker.google_grpc import RETRY_SECONDS, GoogleCloud
from tests.worker.speech_servers import TRANSCRIPT
from tests.worker.speech_support import SPOKEN, collect_metrics, minutes_of, pipeline_for, priced, recognize_call


# A first gRPC call of the process builds its channel and signs its first JWT (~0.5 s on this
# machine): the attempt timeout leaves room for that (the catalogue's default is 5 s).
GOOGLE_ATTEMPT = 2.0


@pytest.fixture(scope="module")
def service_account() -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return {
        "type": "service_account", "project_id": "demo-dental", "private_key_id": "k-demo-1",
        "private_key": pem.decode(), "client_email": "voice@demo-dental.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
        "public_key": key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    }


@pytest.fixture
async def google_cloud():
    server = GoogleCloud()
    await server.start()
    yield server
    await server.stop()


def _secret(account: dict) -> tuple[str, dict]:
    info = {k: v for k, v in account.items() if k != "public_key"}
    return "google-cloud", {"credentials_json": json.dumps(info)}


def _signed_by(account: dict, authorization: str, audience: str) -> dict:
    """The claims of the bearer token, verified with the service account's public key."""
    scheme, token = authorization.split(" ", 1)
    assert scheme == "Bearer"
    # keyed by the key id: decoding fails unless the token names the service account's key
    return jwt.decode(token, certs={account["private_key_id"]: account["public_key"]}, audience=audience)


# --- Speech-to-Text -----------------------------------------------------------------------------
async def _stt_pipeline(db: Database, server: GoogleCloud, account: dict, **config) -> PipelineConfig:
    return await pipeline_for(db, "google-stt", {"endpoint": server.endpoint, "attempt_timeout": GOOGLE_ATTEMPT, **config},
                              secret=_secret(account))


@pytest.mark.parametrize("model", ["chirp_3", "latest_long"])  # the V2 API, the V1 API
async def test_google_stt_hears_the_caller_as_the_organisations_service_account_and_is_priced_per_model(
    db: Database, vad, google_cloud: GoogleCloud, service_account: dict, model: str
) -> None:
    pipeline = await _stt_pipeline(db, google_cloud, service_account, model=model, language="en-GB", location="eu")
    event, metrics, frames, _, _ = await recognize_call(pipeline, vad)
    assert event.alternatives[0].text == TRANSCRIPT  # Google's answer, not the offline tier's

    (call,) = google_cloud.calls
    version = 2 if model == "chirp_3" else 1
    assert call["method"] == f"google.cloud.speech.v{version}.Speech/StreamingRecognize"
    claims = _signed_by(service_account, call["metadata"]["authorization"], "https://speech.googleapis.com/")
    assert claims["iss"] == claims["sub"] == service_account["client_email"]
    (first,) = call["requests"]
    recognition = first.streaming_config.config
    assert recognition.model == model
    if version == 2:
        assert first.recognizer == "projects/demo-dental/locations/eu/recognizers/_"
        assert list(recognition.language_codes) == ["en-GB"]
        assert recognition.explicit_decoding_config.sample_rate_hertz == 16000
    else:
        assert recognition.language_code == "en-GB" and recognition.sample_rate_hertz == 16000
    spoken = sum(f.duration for f in frames)
    # the utterance at 16 kHz, then the silence the vendor's own end of speech follows
    assert call["audio_bytes"] == pytest.approx((spoken + 0.7) * 16000 * 2, rel=0.03)

    usage, cost, prices = await priced(db, metrics)
    minutes = minutes_of(usage, f"google-stt:{model}")  # priced per model
    assert minutes * 60 == pytest.approx(Decimal(str(spoken)), abs=Decimal("0.01"))
    if version == 2:
        assert prices[(f"google-stt:{model}", "stt", "minute")] == Decimal("0.016")
        assert cost.stt == (minutes * Decimal("0.016")).quantize(Decimal("0.000001")) and cost.stt > 0
    else:  # V1 rounds each request up to 15 s: no price per minute is right, so unpriced, never $0
        assert (f"google-stt:{model}", "stt", "minute") not in prices and cost is None


@pytest.mark.parametrize("mode", ["error", "hang"])
async def test_an_unavailable_or_hung_google_stt_fails_over_within_its_attempt_timeout(
    db: Database, vad, google_cloud: GoogleCloud, service_account: dict, mode: str
) -> None:
    google_cloud.mode = mode
    pipeline = await _stt_pipeline(db, google_cloud, service_account, model="chirp_3")
    event, metrics, _, elapsed, lines = await recognize_call(pipeline, vad)
    assert event.alternatives[0].text == SPOKEN  # heard by the next vendor, from the same audio
    assert google_cloud.calls  # Google was tried first
    assert elapsed < GOOGLE_ATTEMPT + 3.0, elapsed
    assert {m.metadata.model_provider for m in metrics} == {"pocketsphinx-stt"}
    assert lines[0] == f"STT: google (failed: {'timeout' if mode == 'hang' else '503'}) → pocketsphinx (active)"


# --- Text-to-Speech -----------------------------------------------------------------------------
async def _tts_pipeline(db: Database, server: GoogleCloud, account: dict) -> PipelineConfig:
    config = {"endpoint": server.endpoint, "voice": "en-GB-Chirp3-HD-Kore", "language": "en-GB", "speed": 1.1,
              "attempt_timeout": GOOGLE_ATTEMPT}
    return await pipeline_for(db, "google-tts", config, secret=_secret(account))


async def _speak(pipeline: PipelineConfig, vad, text: str, quotas: QuotaBook | None = None):
    async with http_context.open():
        chains = build_chains(pipeline, vad=vad, quotas=quotas)
        metrics = collect_metrics(chains)
        started = time.perf_counter()
        frames = [ev.frame async for ev in chains.tts.synthesize(text)]
        elapsed = time.perf_counter() - started
        lines = chains.guard.lines()
        await chains.aclose()
    return frames, metrics, elapsed, lines


async def test_google_tts_speaks_with_the_organisations_voice_and_characters_are_priced(
    db: Database, vad, google_cloud: GoogleCloud, service_account: dict
) -> None:
    text = "Your appointment is confirmed."
    frames, metrics, _, _ = await _speak(await _tts_pipeline(db, google_cloud, service_account), vad, text)
    assert sum(f.duration for f in frames) == pytest.approx(0.5, abs=0.05)  # Google's audio, not espeak's
    (call,) = google_cloud.calls
    assert call["method"] == "google.cloud.texttospeech.v1.TextToSpeech/SynthesizeSpeech"
    claims = _signed_by(service_account, call["metadata"]["authorization"], "https://texttospeech.googleapis.com/")
    assert claims["iss"] == service_account["client_email"]
    (request,) = call["requests"]
    assert request.input.text == text
    assert request.voice.name == "en-GB-Chirp3-HD-Kore" and request.voice.language_code == "en-GB"
    assert request.audio_config.speaking_rate == pytest.approx(1.1) and request.audio_config.sample_rate_hertz == 24000

    _, cost, prices = await priced(db, metrics)
    assert prices[("google-tts", "tts", "1k_characters")] == Decimal("0.030")
    assert cost.tts == (Decimal(len(text)) / 1000 * Decimal("0.030")).quantize(Decimal("0.000001")) and cost.tts > 0


@pytest.mark.parametrize("mode", ["error", "hang"])
async def test_an_unavailable_or_hung_google_tts_fails_over_to_espeak(
    db: Database, vad, google_cloud: GoogleCloud, service_account: dict, mode: str
) -> None:
    google_cloud.mode = mode
    pipeline = await _tts_pipeline(db, google_cloud, service_account)
    frames, metrics, elapsed, lines = await _speak(pipeline, vad, "One moment please.")
    assert frames and google_cloud.calls
    assert elapsed < GOOGLE_ATTEMPT + 3.0, elapsed
    assert {m.metadata.model_provider for m in metrics if m.audio_duration > 0} == {"espeak-tts"}
    assert lines[2] == f"TTS: google (failed: {'timeout' if mode == 'hang' else '503'}) → espeak (active)"


# --- Quota --------------------------------------------------------------------------------------
async def _one_call(key: str, pipeline: PipelineConfig, vad, quotas: QuotaBook) -> tuple[bool, str]:
    """A call's first utterance (STT) or sentence (TTS): whether Google answered it, and the line
    of that service's chain."""
    if key == "google-stt":
        event, _, _, _, lines = await recognize_call(pipeline, vad, quotas)
        return event.alternatives[0].text == TRANSCRIPT, lines[0]
    frames, _, _, lines = await _speak(pipeline, vad, "One moment please.", quotas)
    return abs(sum(f.duration for f in frames) - 0.5) < 0.05, lines[2]  # Google's 0.5 s, not espeak's


@pytest.mark.parametrize("key", ["google-stt", "google-tts"])
async def test_a_google_quota_refusal_keeps_it_out_until_its_retry_delay(
    db: Database, vad, google_cloud: GoogleCloud, service_account: dict, key: str
) -> None:
    now = [1_800_000_000.0]
    quotas = QuotaBook(clock=lambda: now[0])

    async def organisation() -> PipelineConfig:
        if key == "google-stt":
            return await _stt_pipeline(db, google_cloud, service_account, model="chirp_3")
        return await _tts_pipeline(db, google_cloud, service_account)

    pipeline = await organisation()
    google_cloud.mode = "quota"
    answered, line = await _one_call(key, pipeline, vad, quotas)
    assert not answered and line.startswith(f"{key[-3:].upper()}: google (failed: 429 quota, out until ")
    hold = quotas.hold(str(pipeline.organization_id), key)
    assert hold is not None and hold.until == now[0] + RETRY_SECONDS and hold.reason == "429 quota"

    google_cloud.mode = "ok"
    asked = len(google_cloud.calls)
    answered, _ = await _one_call(key, pipeline, vad, quotas)  # the next call, while out
    assert not answered and len(google_cloud.calls) == asked  # Google not asked
    answered, _ = await _one_call(key, await organisation(), vad, quotas)  # another organisation: its own quota
    assert answered and len(google_cloud.calls) == asked + 1
    now[0] = hold.until + 1
    answered, _ = await _one_call(key, pipeline, vad, quotas)  # a call after the retry delay
    assert answered and len(google_cloud.calls) == asked + 2
