"""STT vendors through their real plugins (Deepgram, AssemblyAI, the OpenAI plugin for a
self-hosted Whisper) and our Vosk client, against local servers speaking each vendor's published
protocol (tests/worker/speech_servers.py). Each: the organisation's key and config reach the
vendor, the caller's audio reaches it, the transcript comes back, the usage is priced from
price_book (or kept unpriced for the organisation's own server), and an error or a hang fails
over to the next vendor within the attempt timeout."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from livekit.agents.utils import http_context

from switchboard.db import Database
from tests.worker.speech_servers import TRANSCRIPT
from tests.worker.speech_support import ATTEMPT, SPOKEN, chains_for, collect_metrics, minutes_of, priced, utterance

DG_KEY = "dg_organisation_key_0001"
AAI_KEY = "aai_organisation_key_0001"
WHISPER_KEY = "whisper-server-token-1"


def _stt_cases(url: str) -> dict[str, tuple[dict, tuple[str, dict] | None]]:
    return {
        "deepgram-stt": ({"base_url": url, "language": "en-US", "keyterms": ["Demo Dental"]}, ("deepgram", {"api_key": DG_KEY})),
        "assemblyai-stt": ({"base_url": url, "keyterms": ["Demo Dental"]}, ("assemblyai", {"api_key": AAI_KEY})),
        "whisper-stt": ({"url": url + "/v1", "model": "Systran/faster-whisper-small", "language": "en"},
                        ("whisper", {"api_key": WHISPER_KEY})),
        "vosk-stt": ({"url": url.replace("http://", "ws://") + "/vosk", "sample_rate": 16000}, None),
    }


async def _recognize(db: Database, vad, server, key: str):
    config, secret = _stt_cases(server.url)[key]
    async with http_context.open():
        chains = await chains_for(db, vad, key, config, secret=secret)
        metrics = collect_metrics(chains)
        frames = await utterance()
        started = time.perf_counter()
        event = await chains.stt_fallback.recognize(frames)
        elapsed = time.perf_counter() - started
        await chains.aclose()
    return event, metrics, frames, elapsed


def _check_request(server, key: str) -> None:
    (req,) = server.requests
    h, q = req["headers"], req["query"]
    if key == "deepgram-stt":
        assert req["path"] == "/v1/listen" and h["Authorization"] == f"Token {DG_KEY}"
        assert q["model"] == "nova-3" and q["language"] == "en-US" and q["encoding"] == "linear16"
        assert q["sample_rate"] == "16000" and q["keyterm"] == "Demo Dental" and q["interim_results"] == "false"
        assert q["endpointing"] == "600"  # longer than any pause the VAD leaves inside an utterance
    elif key == "assemblyai-stt":
        assert req["path"] == "/v3/ws" and h["Authorization"] == AAI_KEY
        assert q["speech_model"] == "universal-streaming-english" and q["encoding"] == "pcm_s16le"
        assert q["sample_rate"] == "16000" and "Demo Dental" in q["keyterms_prompt"]
        assert q["min_turn_silence"] == "600"  # longer than any pause the VAD leaves inside an utterance
    elif key == "whisper-stt":
        assert req["path"] == "/v1/audio/transcriptions" and h["Authorization"] == f"Bearer {WHISPER_KEY}"
        assert req["body"]["model"] == "Systran/faster-whisper-small" and req["body"]["language"] == "en"
    elif key == "vosk-stt":
        assert req["path"] == "/vosk" and req["body"] == {"config": {"sample_rate": 16000}}


@pytest.mark.parametrize("key", ["deepgram-stt", "assemblyai-stt", "whisper-stt", "vosk-stt"])
async def test_the_vendor_hears_the_caller_with_the_organisations_key_and_is_priced(
    db: Database, vad, speech_server, key: str
) -> None:
    event, metrics, frames, _ = await _recognize(db, vad, speech_server, key)
    assert event.alternatives[0].text == TRANSCRIPT  # the vendor's answer, not the offline tier's
    _check_request(speech_server, key)
    spoken_seconds = sum(f.duration for f in frames)
    if key == "whisper-stt":  # one WAV upload per utterance
        uploaded = speech_server.requests[0]["body"]["file_bytes"]
        assert uploaded > spoken_seconds * 16000 * 2 * 0.9
    elif key == "vosk-stt":  # 16 kHz 16-bit mono over the socket, the whole utterance
        (received,) = speech_server.audio_bytes
        assert received == pytest.approx(spoken_seconds * 16000 * 2, rel=0.03)
    else:  # a streaming vendor: the utterance, then the silence its end-of-speech detection marks
        (received,) = speech_server.audio_bytes
        assert received == pytest.approx((spoken_seconds + 0.7) * 16000 * 2, rel=0.03)

    usage, cost, prices = await priced(db, metrics)
    minutes = minutes_of(usage, key)
    assert minutes * 60 == pytest.approx(Decimal(str(spoken_seconds)), abs=Decimal("0.01"))
    if key in ("whisper-stt", "vosk-stt"):  # the organisation's own server: no price known, never $0
        assert (key, "stt", "minute") not in prices and cost is None
    else:
        assert prices[(key, "stt", "minute")] > 0
        assert cost.stt == (minutes * prices[(key, "stt", "minute")]).quantize(Decimal("0.000001"))


@pytest.mark.parametrize("mode", ["error", "hang"])
@pytest.mark.parametrize("key", ["deepgram-stt", "assemblyai-stt", "whisper-stt", "vosk-stt"])
async def test_a_failing_or_hung_vendor_fails_over_within_its_attempt_timeout(
    db: Database, vad, speech_server, key: str, mode: str
) -> None:
    speech_server.mode = mode
    event, metrics, _, elapsed = await _recognize(db, vad, speech_server, key)
    assert event.alternatives[0].text == SPOKEN  # heard by the next vendor, from the same audio
    assert speech_server.requests  # the vendor was tried first
    assert elapsed < ATTEMPT + 3.0  # its attempt timeout, then the offline vendor's own time
    assert {m.metadata.model_provider for m in metrics} == {"pocketsphinx-stt"}


@pytest.mark.parametrize("key", ["whisper-stt", "vosk-stt"])
async def test_your_own_server_down_fails_over_at_once(db: Database, vad, key: str) -> None:
    from switchboard.db.local import free_port

    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    config = {"whisper-stt": {"url": down + "/v1"}, "vosk-stt": {"url": down.replace("http", "ws") + "/vosk"}}[key]
    async with http_context.open():
        chains = await chains_for(db, vad, key, config)
        metrics = collect_metrics(chains)
        started = time.perf_counter()
        event = await chains.stt_fallback.recognize(await utterance())
        elapsed = time.perf_counter() - started
        await chains.aclose()
    assert event.alternatives[0].text == SPOKEN
    assert elapsed < ATTEMPT + 3.0
    assert {m.metadata.model_provider for m in metrics} == {"pocketsphinx-stt"}
