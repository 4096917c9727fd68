"""A streaming-only STT vendor (livekit's `offline_recognize=False`, as the Azure Speech SDK
plugin declares) in the worker's utterance-at-a-time STT chain: the bounded wrapper streams the
VAD's utterance to it and joins its final transcripts, within the attempt timeout."""

from __future__ import annotations

import time

import numpy as np
from livekit import rtc
from livekit.agents import APIConnectOptions, APITimeoutError

from agent_worker.bounded import BoundedSTT
from tests.worker.doubles import StreamingOnlySTT


def _utterance(seconds: float) -> list[rtc.AudioFrame]:
    frames = []
    for _ in range(int(seconds * 10)):  # 100 ms frames, as the VAD hands them over
        samples = (np.random.default_rng(1).normal(0, 2000, 1600)).astype(np.int16)
        frames.append(rtc.AudioFrame(samples.tobytes(), sample_rate=16000, num_channels=1, samples_per_channel=1600))
    return frames


async def test_a_streaming_only_vendor_transcribes_an_utterance(vad) -> None:
    inner = StreamingOnlySTT()
    bounded = BoundedSTT(inner, key="azure-stt", attempt_timeout=2.0, vad=vad)
    event = await bounded.recognize(_utterance(2.0))
    assert event.alternatives[0].text == "segment 1 segment 2"
    assert inner.streams == 1


async def test_a_hung_streaming_only_vendor_fails_within_its_attempt_timeout(vad) -> None:
    bounded = BoundedSTT(StreamingOnlySTT(hang=True), key="azure-stt", attempt_timeout=0.3, vad=vad)
    started = time.perf_counter()
    try:
        # as the chain's FallbackAdapter asks: no retry of the same vendor
        await bounded.recognize(_utterance(1.0), conn_options=APIConnectOptions(max_retry=0, timeout=0.3))
    except APITimeoutError as exc:
        assert "azure-stt: no transcript within 0.3s" in str(exc)
    else:
        raise AssertionError("a hung vendor must fail")
    assert time.perf_counter() - started < 1.5
