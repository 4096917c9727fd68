"""Issue #15: a speech vendor's quota or payment refusal keeps it out of the organisation's chains
until its reset, for the vendors whose other contract tests are in test_speech_stt.py,
test_speech_tts.py and test_speech_vendor_contracts.py. The real plugins talk to the local servers
(tests/worker/speech_servers.py, vendor_protocols.py), which answer each vendor's published refusal:
Deepgram's 402 "Insufficient credits" (STT and TTS), AssemblyAI's close 4002 "Insufficient Funds",
ElevenLabs' 401 `quota_exceeded`, Azure Speech's 429 "exceeded the quota". None of them publishes a
reset time, so the hold is the policy's default. Each: the chain fails over at once, the vendor is
not asked again while out, another organisation's calls still reach it, and after the hold it is
asked again."""

from __future__ import annotations

import time

import pytest
from livekit import rtc
from livekit.agents.utils import http_context

from agent_worker.chains import build_chains
from switchboard.db import Database
from switchboard.pipeline.config import PipelineConfig
from switchboard.pipeline.failover import DEFAULT_HOLD_SECONDS, QuotaBook
from tests.worker.speech_servers import TRANSCRIPT
from tests.worker.speech_support import ATTEMPT, pipeline_for, utterance

SENTENCE = "One moment please."
VENDORS = {  # key → (config at the local server's URL, the organisation's secret, the refusal's reason)
    "deepgram-stt": (lambda url: {"base_url": url, "language": "en-US"}, ("deepgram", {"api_key": "dg_org_key"}), "402"),
    "assemblyai-stt": (lambda url: {"base_url": url}, ("assemblyai", {"api_key": "aai_org_key"}), "402"),
    "deepgram-tts": (lambda url: {"base_url": url, "voice": "aura-2-andromeda-en"}, ("deepgram", {"api_key": "dg_org_key"}),
                     "402"),
    "elevenlabs-tts": (lambda url: {"base_url": url, "voice": "Xb7hH8MSUJpSbSDYk0k2", "model": "eleven_turbo_v2_5"},
                       ("elevenlabs", {"api_key": "el_org_key"}), "401 quota"),
    "azure-tts": (lambda url: {"endpoint": url + "/cognitiveservices/v1", "voice": "en-GB-SoniaNeural"},
                  ("azure-speech", {"api_key": "azure0org0key"}), "429 quota"),
}


def _asked(server, key: str) -> int:
    if key == "azure-tts":
        return len(server.calls("/cognitiveservices/v1"))
    return len(server.requests)


async def _one_call(key: str, pipeline: PipelineConfig, vad, quotas: QuotaBook) -> tuple[bool, float, str]:
    """A call's first utterance (STT) or sentence (TTS): whether the vendor answered it (not the
    offline tier), how long the chain took, and that service's chain line."""
    service = key.rsplit("-", 1)[1]
    async with http_context.open():
        chains = build_chains(pipeline, vad=vad, quotas=quotas)
        frames = await utterance() if service == "stt" else None
        started = time.perf_counter()
        if service == "stt":
            event = await chains.stt_fallback.recognize(frames)
            answered = event.alternatives[0].text == TRANSCRIPT
        else:
            audio = [ev.frame async for ev in chains.tts.synthesize(SENTENCE)]
            answered = abs(rtc.combine_audio_frames(audio).duration - 0.5) < 0.05  # the vendor's 0.5 s tone
        elapsed = time.perf_counter() - started
        (line,) = [ln for ln in chains.guard.lines() if ln.startswith(f"{service.upper()}:")]
        await chains.aclose()
    return answered, elapsed, line


@pytest.mark.parametrize("key", [k for k in VENDORS if k != "azure-tts"])
async def test_a_speech_vendors_quota_refusal_keeps_it_out_until_its_reset(db: Database, vad, speech_server, key: str) -> None:
    await _held_out_until_the_reset(db, vad, speech_server, key)


async def test_an_azure_tts_quota_refusal_keeps_it_out_until_its_reset(db: Database, vad, server) -> None:
    await _held_out_until_the_reset(db, vad, server, "azure-tts")


async def _held_out_until_the_reset(db: Database, vad, server, key: str) -> None:
    config, secret, reason = VENDORS[key]
    now = [1_800_000_000.0]
    quotas = QuotaBook(clock=lambda: now[0])

    async def organisation() -> PipelineConfig:
        return await pipeline_for(db, key, config(server.url), secret=secret)

    pipeline = await organisation()
    server.mode = "quota"
    answered, elapsed, line = await _one_call(key, pipeline, vad, quotas)
    assert not answered and _asked(server, key) >= 1
    assert elapsed < ATTEMPT + 2.0, elapsed  # failed over on the refusal, not on the attempt timeout
    name = key.rsplit("-", 1)[0]
    assert line.startswith(f"{key[-3:].upper()}: {name} (failed: {reason}, out until "), line
    hold = quotas.hold(str(pipeline.organization_id), key)
    assert hold is not None and hold.reason == reason
    assert hold.until == now[0] + DEFAULT_HOLD_SECONDS  # the vendor publishes no reset time

    server.mode = "ok"
    asked = _asked(server, key)
    answered, elapsed_out, _ = await _one_call(key, pipeline, vad, quotas)  # the next call, while out
    assert not answered and _asked(server, key) == asked  # not asked at all
    answered, _, _ = await _one_call(key, await organisation(), vad, quotas)  # another organisation: its own quota
    assert answered and _asked(server, key) == asked + 1
    now[0] = hold.until + 1
    answered, _, _ = await _one_call(key, pipeline, vad, quotas)  # a call after the hold
    assert answered and _asked(server, key) == asked + 2
    print(f"{key}: refusal → fallback {elapsed:.2f} s, held-out call {elapsed_out:.2f} s")
