"""Azure AI Speech to text through livekit-plugins-azure and the native Speech SDK, against the
local USP (WebSocket) server of tests/worker/speech_servers.py, reached through the documented
custom endpoint (`speech_endpoint`, as for a Speech container): the organisation's key and
language reach the service, the caller's audio is streamed to it, the minutes are priced, a 503
or a hang fails over within the attempt timeout, and the service's quota refusal keeps Azure
out of the organisation's chains until the hold ends (the SDK publishes no reset time)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from switchboard.db import Database
from switchboard.pipeline.config import PipelineConfig
from switchboard.pipeline.failover import DEFAULT_HOLD_SECONDS, QuotaBook
from tests.worker.speech_servers import TRANSCRIPT
from tests.worker.speech_support import SPOKEN, minutes_of, pipeline_for, priced, recognize_call

AZURE_KEY = "azure0speech0organisation0key"
USP_PATH = "/speech/recognition/conversation/cognitiveservices/v1"
AZURE_ATTEMPT = 2.0  # the SDK's session starts in its own threads; the catalogue's default is 5 s


async def _pipeline(db: Database, server) -> PipelineConfig:
    endpoint = server.url.replace("http://", "ws://") + USP_PATH
    return await pipeline_for(db, "azure-stt", {"endpoint": endpoint, "language": "en-GB", "attempt_timeout": AZURE_ATTEMPT},
                              secret=("azure-speech", {"api_key": AZURE_KEY}))


async def test_azure_hears_the_caller_with_the_organisations_key_and_language_and_is_priced(
    db: Database, vad, speech_server
) -> None:
    event, metrics, frames, _, _ = await recognize_call(await _pipeline(db, speech_server), vad)
    assert event.alternatives[0].text == TRANSCRIPT  # Azure's answer, not the offline tier's

    (req,) = speech_server.requests
    assert req["path"] == USP_PATH and req["query"]["language"] == "en-GB"
    assert req["headers"]["Ocp-Apim-Subscription-Key"] == AZURE_KEY
    assert req["headers"]["Sec-WebSocket-Protocol"] == "USP"
    assert req["body"]["speech.context"]["phraseDetection"]["language"] == "en-GB"
    assert req["body"]["speech.config"]["context"]["system"]["name"] == "SpeechSDK"
    spoken = sum(f.duration for f in frames)
    (received,) = speech_server.audio_bytes  # 16 kHz 16-bit mono: the whole utterance (and some of the silence)
    assert spoken * 16000 * 2 * 0.97 <= received <= (spoken + 0.7) * 16000 * 2 * 1.03

    usage, cost, prices = await priced(db, metrics)
    minutes = minutes_of(usage, "azure-stt")
    assert minutes * 60 == pytest.approx(Decimal(str(spoken)), abs=Decimal("0.01"))
    assert prices[("azure-stt", "stt", "minute")] == Decimal("0.01666667")
    assert cost.stt == (minutes * Decimal("0.01666667")).quantize(Decimal("0.000001")) and cost.stt > 0


@pytest.mark.parametrize("mode", ["error", "hang"])
async def test_an_unavailable_or_hung_azure_stt_fails_over_within_its_attempt_timeout(
    db: Database, vad, speech_server, mode: str
) -> None:
    speech_server.mode = mode
    event, metrics, _, elapsed, lines = await recognize_call(await _pipeline(db, speech_server), vad)
    assert event.alternatives[0].text == SPOKEN  # heard by the next vendor, from the same audio
    assert speech_server.requests  # Azure was tried first
    assert elapsed < AZURE_ATTEMPT + 3.0, elapsed
    assert {m.metadata.model_provider for m in metrics} == {"pocketsphinx-stt"}
    assert lines[0] == f"STT: azure (failed: {'timeout' if mode == 'hang' else '503'}) → pocketsphinx (active)"


async def test_an_azure_quota_refusal_keeps_it_out_of_the_organisations_chains(db: Database, vad, speech_server) -> None:
    now = [1_800_000_000.0]
    quotas = QuotaBook(clock=lambda: now[0])
    pipeline = await _pipeline(db, speech_server)
    speech_server.mode = "quota"
    event, _, _, elapsed, lines = await recognize_call(pipeline, vad, quotas)
    assert event.alternatives[0].text == SPOKEN and elapsed < AZURE_ATTEMPT + 3.0
    hold = quotas.hold(str(pipeline.organization_id), "azure-stt")
    assert hold is not None and hold.reason == "429 quota"
    assert hold.until == now[0] + DEFAULT_HOLD_SECONDS  # the SDK passes on no reset time
    assert lines[0].startswith("STT: azure (failed: 429 quota, out until ")

    speech_server.mode = "ok"
    asked = len(speech_server.requests)
    event, *_ = await recognize_call(pipeline, vad, quotas)  # the next call, while out
    assert event.alternatives[0].text == SPOKEN and len(speech_server.requests) == asked
    now[0] = hold.until + 1
    event, *_ = await recognize_call(pipeline, vad, quotas)  # after the hold
    assert event.alternatives[0].text == TRANSCRIPT and len(speech_server.requests) == asked + 1
    assert json.dumps(speech_server.requests[-1]["body"]["speech.context"])  # a full session again
