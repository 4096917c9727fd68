"""The audio benchmark's core (bench/bench_audio.py) on two spoken turns: the worker's call and a
plain livekit-agents session each answer both, and the figures are sane — so CI notices a broken
benchmark before `make bench` does."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bench_audio  # noqa: E402


async def test_two_spoken_turns_give_sane_figures(vad) -> None:
    await bench_audio.calibrate(vad)
    assert 0 < bench_audio.VAD_LAG_S < 0.3  # Silero ends an utterance a little after its silence

    results = await bench_audio.measure_turns(vad, turns=2, kinds=("ours-vad", "livekit-vad"))

    for kind, (conversation, figures) in results.items():
        assert len(figures.total) == 2, kind  # both questions answered with audio (the warm-up not counted)
        waits_ms = min(conversation.waits(t) for t in conversation.probe.turns[1:]) * 1000
        assert waits_ms > 900  # VAD silence 550 + Silero's lag + STT 100, LLM 200, TTS 100
        assert all(total > 900 for total in figures.total), (kind, figures.total)
        # Silero's lag varies with where speech ends in its 32 ms window and its median is
        # subtracted, so a quick turn may come out a few ms under the waits.
        assert all(-40 < overhead < 1000 for overhead in figures.overhead), (kind, figures.overhead)
        assert all(len(samples) == 2 for samples in figures.stages.values())
        # livekit's own end-of-speech anchor (from its EOU metric) is read on every turn; it is
        # stamped by the wall clock, so a loaded machine (a slow VAD) makes it late, never early
        assert all(t.anchor_at is not None for t in conversation.probe.turns[1:]), kind
        anchor_ms = figures.stages["livekit's end-of-speech anchor"]
        assert all(-60 < ms < 1000 for ms in anchor_ms), (kind, anchor_ms)
