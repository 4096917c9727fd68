"""TTS vendors through their real plugins (ElevenLabs, Deepgram Aura-2) and our Piper client,
against local servers speaking each vendor's published HTTP protocol
(tests/worker/speech_servers.py): the organisation's key, voice (a cloned ElevenLabs voice
chosen on the agent) and config reach the vendor, its audio is played, the characters are priced
from price_book (or kept unpriced for the organisation's own Piper), and an error or a hang fails
over to the offline voice within the attempt timeout."""

from __future__ import annotations

import time
from decimal import Decimal

import numpy as np
import pytest
from livekit import rtc
from livekit.agents.utils import http_context

from switchboard.db import Database
from tests.worker.speech_support import ATTEMPT, chains_for, collect_metrics, priced

EL_KEY = "el_organisation_key_0001"
DG_KEY = "dg_organisation_key_0001"
CLONED = "Xb7hH8MSUJpSbSDYk0k2"  # an ElevenLabs voice id the organisation cloned
SENTENCE = "Your appointment is confirmed."


def _tts_cases(url: str) -> dict[str, tuple[dict, tuple[str, dict] | None, dict | None]]:
    return {
        "elevenlabs-tts": ({"base_url": url, "model": "eleven_turbo_v2_5", "language": "en"},
                           ("elevenlabs", {"api_key": EL_KEY}), {"vendor": "elevenlabs", "voice_id": CLONED, "custom": True}),
        "deepgram-tts": ({"base_url": url, "voice": "aura-2-andromeda-en"}, ("deepgram", {"api_key": DG_KEY}), None),
        "piper-tts": ({"url": url + "/piper", "voice": "en_US-lessac-medium", "length_scale": 1.1}, None, None),
    }


async def _speak(db: Database, vad, server, key: str):
    config, secret, voice = _tts_cases(server.url)[key]
    async with http_context.open():
        chains = await chains_for(db, vad, key, config, secret=secret, voice=voice)
        metrics = collect_metrics(chains)
        started = time.perf_counter()
        frames = [ev.frame async for ev in chains.tts.synthesize(SENTENCE)]
        elapsed = time.perf_counter() - started
        await chains.aclose()
    return frames, metrics, elapsed


def _check_request(server, key: str) -> None:
    (req,) = server.requests
    h, q, body = req["headers"], req["query"], req["body"]
    if key == "elevenlabs-tts":
        assert req["path"] == f"/v1/text-to-speech/{CLONED}/stream" and h["xi-api-key"] == EL_KEY
        assert q["output_format"] == "pcm_24000"
        assert body["text"] == SENTENCE and body["model_id"] == "eleven_turbo_v2_5" and body["language_code"] == "en"
    elif key == "deepgram-tts":
        assert req["path"] == "/v1/speak" and h["Authorization"] == f"Token {DG_KEY}"
        assert q["model"] == "aura-2-andromeda-en" and q["encoding"] == "linear16" and q["container"] == "none"
        assert body == {"text": SENTENCE}
    elif key == "piper-tts":
        assert req["path"] == "/piper" and body == {"text": SENTENCE, "voice": "en_US-lessac-medium", "length_scale": 1.1}


@pytest.mark.parametrize("key", ["elevenlabs-tts", "deepgram-tts", "piper-tts"])
async def test_the_vendor_speaks_with_the_organisations_key_and_voice_and_is_priced(
    db: Database, vad, speech_server, key: str
) -> None:
    frames, metrics, _ = await _speak(db, vad, speech_server, key)
    _check_request(speech_server, key)
    audio = rtc.combine_audio_frames(frames)
    assert audio.duration == pytest.approx(0.5, abs=0.03)  # the vendor's 0.5 s tone, not the offline voice
    samples = np.frombuffer(audio.data, dtype=np.int16)
    assert 7000 < np.abs(samples).max() <= 8100  # its amplitude survived (PCM decoded, resampled, not noise)

    usage, cost, prices = await priced(db, metrics)
    (item,) = [c for c in usage.components if c.subject == key]
    assert item.characters == len(SENTENCE)
    if key == "piper-tts":  # the organisation's own server: no price known, never $0
        assert (key, "tts", "1k_characters") not in prices and cost is None
    else:
        price = prices[(key, "tts", "1k_characters")]
        assert price > 0 and cost.tts == (Decimal(len(SENTENCE)) / 1000 * price).quantize(Decimal("0.000001"))


@pytest.mark.parametrize("mode", ["error", "hang"])
@pytest.mark.parametrize("key", ["elevenlabs-tts", "deepgram-tts", "piper-tts"])
async def test_a_failing_or_hung_vendor_fails_over_to_the_offline_voice_within_its_attempt_timeout(
    db: Database, vad, speech_server, key: str, mode: str
) -> None:
    speech_server.mode = mode
    frames, metrics, elapsed = await _speak(db, vad, speech_server, key)
    assert speech_server.requests  # the vendor was tried first
    assert rtc.combine_audio_frames(frames).duration > 1.0  # espeak-ng said the whole sentence instead
    assert elapsed < ATTEMPT + 3.0
    # Who spoke (livekit's fallback adapter also probes the failed vendor again in the background;
    # that probe, cancelled at the end, reports no audio).
    assert {m.metadata.model_provider for m in metrics if m.audio_duration > 0} == {"espeak-tts"}


async def test_your_own_piper_server_down_fails_over_at_once(db: Database, vad) -> None:
    from switchboard.db.local import free_port

    async with http_context.open():
        chains = await chains_for(db, vad, "piper-tts", {"url": f"http://127.0.0.1:{free_port()}"})
        metrics = collect_metrics(chains)
        started = time.perf_counter()
        frames = [ev.frame async for ev in chains.tts.synthesize(SENTENCE)]
        elapsed = time.perf_counter() - started
        await chains.aclose()
    assert rtc.combine_audio_frames(frames).duration > 1.0 and elapsed < ATTEMPT + 3.0
    assert {m.metadata.model_provider for m in metrics if m.audio_duration > 0} == {"espeak-tts"}
