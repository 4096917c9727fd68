"""LiveKit worker, audio mode: how long a caller waits for the agent's voice, and how much of that
is ours. The caller's question is espeak-ng speech at 16 kHz (resampled by sox), fed in real time
to the worker's own call (`agent_worker.call.Call`: the organisation's chains with their bounded
wrappers, Silero VAD, the session options of a real call) in 50 ms frames, as livekit's room input
hands them over. Its vendors are in-process doubles with latencies fixed here (STT after the
utterance, LLM to its reply, TTS to its first audio), each first in a chain with the offline tier
behind it.

Per turn: end of speech (the last voiced sample, by the line's clock) → the first agent audio
frame out. The waits the configuration imposes are subtracted: Silero's silence before it ends an
utterance (min_silence_duration) plus its own lag (smoothing and 32 ms windows, measured on the
same audio without a session, the median over where speech ends in a window — so one turn may
come out a few ms below zero) and the wait for the frame carrying that moment; then the STT's
latency or the endpointing delay, whichever ends later — livekit counts the delay (max_delay when a
turn detector judged the turn unfinished) from an end of speech it stamps by the wall clock when it
handles Silero's END_OF_SPEECH, so from the end Silero reports plus the wait for the frame that
carries Silero's decision (that frame wait was the ~43 ms once seen on held turns); then the turn
detector model's prediction where it comes in after both (its own inference_duration, from
livekit's TurnDetectionEvent, is printed beside the vendors'); then the LLM's latency (hidden
behind the endpointing when the session generates preemptively) and the TTS's. What remains is the
orchestration overhead — the session, the chains, the wrappers, the event loop — the target:
p95 ≤ 30 ms. Four kinds of call run side by side: ours as the worker builds it (with livekit's
local turn detector when it loads, as the worker decides), ours with VAD endpointing, and a plain
AgentSession with livekit-agents' defaults (its default turn detector) and with VAD endpointing —
the same doubles, no Switchboard wrappers.

Then (b) concurrent calls on one pinned core: N calls talking at once (a question every few
seconds each); sustained = the largest N whose overhead p95 stays within the budget with no turn
lost, and the CPU a call costs a second, which the neighbours' load does not change.

    python bench/bench_audio.py [--turns T] [--quick] [--sessions-kind ours]

Targets: overhead p95 ≤ 30 ms; ≥ 15 calls per core. Figures are wall-clock: on a shared machine
other processes' load shows in the p95 (the load average is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from livekit import rtc  # noqa: E402
from livekit.agents import Agent, AgentSession, APIConnectOptions, llm, stt, tts, utils  # noqa: E402
from livekit.agents.llm import ChatChunk, ChoiceDelta  # noqa: E402
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN  # noqa: E402
from livekit.agents.vad import VADEventType  # noqa: E402
from livekit.agents.voice import io  # noqa: E402

from _stats import pct  # noqa: E402
from agent_worker.call import Call  # noqa: E402
from agent_worker.offline.espeak_tts import parse_wav  # noqa: E402
from agent_worker.server import WorkerRuntime, local_turn_detector_available, settle_heap  # noqa: E402
from agent_worker.vendors import FACTORIES  # noqa: E402
from bench_worker import PROMPT, QUESTION, vendor  # noqa: E402
from switchboard.pipeline.config import PipelineConfig  # noqa: E402
from switchboard.providers.livekit.dispatch import DispatchMetadata  # noqa: E402
from switchboard.spec import AgentSpec  # noqa: E402
from tests.worker.test_voice_roundtrip import CallerSpeaker  # noqa: E402

RATE = 16000  # the caller's line (Silero's own rate)
FRAME_MS = 50  # what livekit's room input hands the session (RoomOptions' default frame_size_ms)
FRAME = RATE // 100  # 10 ms, for the VAD measured alone
STT_S, LLM_S, TTS_S = 0.100, 0.200, 0.100  # the vendors' fixed latencies
ANSWER = "Our opening hours are 9am to 5pm, Monday to Friday."
GREETING = "Welcome to Demo Dental, how can I help?"
TARGET_MS = 30.0
TARGET_SESSIONS = 15
UTILISATION = 0.7  # of a core, leaving the rest for bursts (the p95)


# ---------------------------------------------------------------------------------------------
# the caller's speech and the agent's voice, made once by espeak-ng
# ---------------------------------------------------------------------------------------------
def espeak_16k(text: str) -> np.ndarray:
    """espeak-ng's rendering of `text` resampled to 16 kHz by sox, its silent ends trimmed (so
    the last sample is the end of speech)."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), text], check=True)
        raw = subprocess.run(["sox", str(wav), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", "-"],
                             check=True, capture_output=True).stdout
    samples = np.frombuffer(raw, dtype=np.int16)
    voiced = np.flatnonzero(np.abs(samples) > 300)
    return samples[voiced[0]: voiced[-1] + 1].copy()


def espeak_native(text: str) -> tuple[int, bytes]:
    out = subprocess.run(["espeak-ng", "--stdout", "-v", "en-us"], input=text.encode(), check=True, capture_output=True).stdout
    rate, _, pcm = parse_wav(out)
    return rate, pcm


# ---------------------------------------------------------------------------------------------
# one turn's timestamps (time.monotonic), stamped by the line and by the vendors
# ---------------------------------------------------------------------------------------------
@dataclass
class Turn:
    eos: float | None = None  # when the last voiced sample was on the line (its schedule)
    stt_at: float | None = None
    commit_at: float | None = None  # the session ended the user's turn
    anchor_at: float | None = None  # the end of speech livekit counts its endpointing from (its EOU metric)
    predicted_at: float | None = None  # the turn detector's prediction came in (its TurnDetectionEvent)
    inference_s: float | None = None  # the turn detector model's own inference_duration for it
    llm_at: float | None = None
    tts_at: float | None = None
    out_at: float | None = None


@dataclass
class Probe:
    current: Turn | None = None
    turns: list[Turn] = field(default_factory=list)

    def stamp(self, name: str) -> None:
        turn = self.current
        if turn is not None and turn.eos is not None and getattr(turn, name) is None:
            setattr(turn, name, time.monotonic())


class FixedSTT(stt.STT):
    def __init__(self, probe: Probe) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._probe = probe

    async def _recognize_impl(self, buffer, *, language=NOT_GIVEN, conn_options: APIConnectOptions) -> stt.SpeechEvent:
        self._probe.stamp("stt_at")
        await asyncio.sleep(STT_S)
        return stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT, request_id=utils.shortuuid(),
                               alternatives=[stt.SpeechData(language="en", text=QUESTION, confidence=1.0)])


class FixedLLM(llm.LLM):
    def __init__(self, probe: Probe) -> None:
        super().__init__()
        self._probe = probe

    def chat(self, *, chat_ctx, tools=None, conn_options=DEFAULT_API_CONNECT_OPTIONS, **_) -> llm.LLMStream:
        return _FixedLLMStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _FixedLLMStream(llm.LLMStream):
    async def _run(self) -> None:
        self._llm._probe.stamp("llm_at")
        await asyncio.sleep(LLM_S)
        request_id = utils.shortuuid()
        for n, word in enumerate(ANSWER.split(" ")):
            self._event_ch.send_nowait(ChatChunk(id=request_id, delta=ChoiceDelta(role="assistant", content=word if n == 0 else " " + word)))


class FixedTTS(tts.TTS):
    def __init__(self, probe: Probe, voice: tuple[int, bytes]) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=voice[0], num_channels=1)
        self._probe, self._pcm = probe, voice[1]

    def synthesize(self, text: str, *, conn_options=DEFAULT_API_CONNECT_OPTIONS) -> tts.ChunkedStream:
        return _FixedChunked(tts=self, input_text=text, conn_options=conn_options)


class _FixedChunked(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        engine: FixedTTS = self._tts  # type: ignore[assignment]
        engine._probe.stamp("tts_at")
        await asyncio.sleep(TTS_S)
        output_emitter.initialize(request_id=utils.shortuuid(), sample_rate=engine.sample_rate, num_channels=1,
                                  mime_type="audio/pcm")
        output_emitter.push(engine._pcm)
        output_emitter.flush()


# ---------------------------------------------------------------------------------------------
# the line: a caller who speaks when told to, and hears the agent
# ---------------------------------------------------------------------------------------------
class Line(io.AudioInput):
    """Silence, and the question whenever `say` is called; paced like a live line, in frames of
    `frame_ms`, frame k handed over at t0 + (k + 1)·frame (when its last sample has been spoken)."""

    def __init__(self, probe: Probe, frame_ms: int | None = None) -> None:
        super().__init__(label="caller")
        self._probe = probe
        self._pending = np.zeros(0, np.int16)
        self.frame = RATE * (frame_ms or FRAME_MS) // 1000
        self.t0: float | None = None
        self._k = 0

    def say(self, speech: np.ndarray) -> Turn:
        turn = Turn()
        self._probe.current = turn
        self._probe.turns.append(turn)
        self._pending = np.concatenate([self._pending, speech])
        return turn

    def framing(self, at: float) -> float:
        """How long after `at` the frame holding that moment is handed over (s)."""
        period = self.frame / RATE
        return self.t0 + math.ceil((at - self.t0) / period) * period - at

    async def __anext__(self) -> rtc.AudioFrame:
        if self.t0 is None:
            self.t0 = time.monotonic()
        self._k += 1
        due = self.t0 + self._k * self.frame / RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        chunk, self._pending = self._pending[: self.frame], self._pending[self.frame:]
        turn = self._probe.current
        if len(chunk) and not len(self._pending) and turn is not None:
            # By the line's clock, not when the session took the frame: a session late to read
            # its input is late, and that is overhead.
            turn.eos = due - (self.frame - len(chunk)) / RATE
        if len(chunk) < self.frame:
            chunk = np.concatenate([chunk, np.zeros(self.frame - len(chunk), np.int16)])
        return rtc.AudioFrame(chunk.tobytes(), RATE, 1, self.frame)


class Ear(CallerSpeaker):
    def __init__(self, probe: Probe) -> None:
        super().__init__()
        self._probe = probe

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        self._probe.stamp("out_at")
        await super().capture_frame(frame)


# ---------------------------------------------------------------------------------------------
# a conversation, on the worker's call or on a plain AgentSession
# ---------------------------------------------------------------------------------------------
KINDS = {
    "ours": "ours: the worker's Call (turn detector as the worker decides)",
    "ours-vad": "ours: the worker's Call, VAD endpointing",
    "livekit": "livekit-agents defaults (AgentSession as it comes)",
    "livekit-vad": "livekit-agents defaults, turn_detection='vad'",
}


class _Greeter(Agent):
    async def on_enter(self) -> None:
        self.session.say(GREETING)


@dataclass
class Conversation:
    kind: str
    probe: Probe
    session: AgentSession
    ear: Ear
    line: Line
    min_silence_s: float  # the VAD's silence before it ends an utterance
    min_delay_s: float  # endpointing, from the end of speech
    max_delay_s: float  # endpointing when a turn detector judges the turn unfinished
    detector: bool
    preemptive: bool  # the LLM starts on the transcript, before the turn is committed
    call: Call | None = None

    def anchor(self, turn: Turn) -> float:
        """After the end of speech, the end of speech livekit counts its endpointing from (s):
        it stamps it by the wall clock when it handles Silero's END_OF_SPEECH, less the silence
        Silero reports — so it is Silero's reported end (VAD_END_LAG_S late, its smoothing) plus
        the wait for the frame carrying Silero's decision (the line's framing, ≤ one frame)."""
        return VAD_END_LAG_S + self.line.framing(turn.eos + self.min_silence_s + VAD_LAG_S)

    def endpointing(self, turn: Turn) -> float:
        """When the session may end the turn, after the end of speech (s): the endpointing delay
        from livekit's anchor; max_delay when a turn detector judged the turn unfinished."""
        held = self.detector and turn.commit_at is not None and turn.commit_at - turn.eos >= self.max_delay_s
        return self.anchor(turn) + (self.max_delay_s if held else self.min_delay_s)

    def predicted(self, turn: Turn) -> float:
        """After the end of speech, when the turn detector's prediction came in (s), 0 without one:
        livekit awaits it before the endpointing sleep, so when it comes in after the transcript
        the model's latency is on the path, as a vendor's is."""
        return turn.predicted_at - turn.eos if turn.predicted_at is not None else 0.0

    def vad_ends(self, turn: Turn) -> float:
        """After the end of speech, when Silero can end the utterance (s): its silence, its own
        lag, and the wait for the frame that carries that moment (the line's framing)."""
        decides = self.min_silence_s + VAD_LAG_S
        return decides + self.line.framing(turn.eos + decides)

    def waits(self, turn: Turn) -> float:
        """The waits this configuration imposes on `turn`, end of speech → first audio (s)."""
        heard = self.vad_ends(turn) + STT_S  # the transcript is in
        commit = max(self.endpointing(turn), self.predicted(turn), heard)
        if self.preemptive:
            return max(commit, heard + LLM_S) + TTS_S
        return commit + LLM_S + TTS_S

    async def close(self) -> None:
        await self.session.aclose()
        if self.call is not None:
            await self.call.finish()


_local_detector: bool | None = None


def _detector_available() -> bool:
    global _local_detector
    if _local_detector is None:
        _local_detector = local_turn_detector_available()
    return _local_detector


async def open_conversation(kind: str, vad, voice: tuple[int, bytes]) -> Conversation:
    probe = Probe()
    line, ear = Line(probe), Ear(probe)
    call = None
    if kind.startswith("ours"):
        spec = AgentSpec(prompt=PROMPT, begin_message=GREETING)
        pipeline = PipelineConfig(
            organization_id=uuid.uuid4(), agent_config_id=None, agent=spec,
            stt=[vendor("openai-stt", 100), vendor("pocketsphinx-stt")], llm=[vendor("openai-llm", 100), vendor("local-llm")],
            tts=[vendor("openai-tts", 100), vendor("espeak-tts")],
        )
        doubles = {"openai-stt": lambda v, c: FixedSTT(probe), "openai-llm": lambda v, c: FixedLLM(probe),
                   "openai-tts": lambda v, c: FixedTTS(probe, voice)}
        call = Call(runtime=WorkerRuntime(), meta=DispatchMetadata(organization_id=pipeline.organization_id,
                                                                   agent_config_id=uuid.uuid4()),
                    pipeline=pipeline, job_id="bench", room_name=f"bench-{uuid.uuid4().hex[:8]}", room_sid="RM_bench",
                    vad=vad, turn_detection=kind == "ours" and _detector_available(), factories={**FACTORIES, **doubles})
        session = call.session
    else:  # livekit-agents as it comes: its defaults, the bare doubles
        options = {"turn_handling": {"turn_detection": "vad"}} if kind == "livekit-vad" else {}
        session = AgentSession(stt=FixedSTT(probe), llm=FixedLLM(probe), tts=FixedTTS(probe, voice), vad=vad, **options)

    def committed(ev) -> None:
        turn = probe.current
        if ev.metrics.type == "eou_metrics" and turn is not None and turn.eos is not None and turn.commit_at is None:
            probe.stamp("commit_at")
            # livekit's own figures: its commit (the metric's wall-clock timestamp) less its
            # end_of_utterance_delay is the end of speech it counted the endpointing from
            turn.anchor_at = ev.metrics.timestamp - (time.time() - time.monotonic()) - ev.metrics.end_of_utterance_delay

    session.on("metrics_collected", committed)
    watch_predictions(session, probe)
    session.input.audio, session.output.audio = line, ear
    if call is not None:
        await call.start()
    else:
        await session.start(agent=_Greeter(instructions=PROMPT))
    handling = session.options.turn_handling
    detection = handling.get("turn_detection")
    return Conversation(
        kind, probe, session, ear, line, min_silence_s=vad._opts.min_silence_duration,
        min_delay_s=handling["endpointing"]["min_delay"], max_delay_s=handling["endpointing"]["max_delay"],
        detector=detection is not None and not isinstance(detection, str),
        preemptive=bool(handling["preemptive_generation"].get("enabled")), call=call,
    )


def watch_predictions(session: AgentSession, probe: Probe) -> None:
    """Each of the turn detector's predictions for the current turn, as livekit's own
    TurnDetectionEvent reports it (the model's inference_duration, the time it came in): the
    detector's streams are wrapped so the futures livekit awaits are read, not re-timed."""
    detector = session.turn_detection
    if not hasattr(detector, "stream"):
        return
    opened = detector.stream

    def stream(*args, **kwargs):
        s = opened(*args, **kwargs)
        predict = s.predict

        def watched():
            fut = predict()
            turn = probe.current

            def came_in(f) -> None:
                ev = None if f.cancelled() else f.result()
                if (ev is None or ev.inference_duration is None or turn is None or turn is not probe.current
                        or turn.eos is None or turn.commit_at is not None):
                    return  # superseded (a default event, no inference) or not this turn's
                turn.inference_s = ev.inference_duration
                turn.predicted_at = ev.last_speaking_time - (time.time() - time.monotonic())  # resolved at

            fut.add_done_callback(came_in)
            return fut

        s.predict = watched
        return s

    detector.stream = stream


async def _heard(c: Conversation, turn: Turn | None, timeout: float) -> bool:
    """Until the agent's reply (or greeting, turn None) has been played out whole."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = turn.out_at is not None if turn is not None else bool(c.ear.segments)
        if started and c.ear._current is None:
            return True
        await asyncio.sleep(0.02)
    return False


async def converse(c: Conversation, speech: np.ndarray, *, turns: int | None, until: float | None, gap: float,
                   offset: float = 0.0) -> int:
    """The caller asks, waits for the whole answer, pauses `gap` s, asks again; returns turns lost."""
    lost = 0
    if not await _heard(c, None, 15):
        return 1
    await asyncio.sleep(offset)
    n = 0
    while (turns is None or n < turns) and (until is None or time.monotonic() < until):
        turn = c.line.say(speech)
        if not await _heard(c, turn, 10):
            lost += 1
        n += 1
        await asyncio.sleep(gap)
    return lost


STAGES = ("VAD: end of speech → STT asked", "transcript → LLM asked", "livekit's end-of-speech anchor",
          "transcript → turn committed", "committed, reply in → TTS asked", "TTS audio → frame out")
DETECTOR = ("turn detector inference", "of it on the path")  # the model's own figures, as a vendor's latency


@dataclass
class Figures:
    total: list[float] = field(default_factory=list)  # ms, end of speech → first audio
    overhead: list[float] = field(default_factory=list)  # ms, less the configured waits
    stages: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})  # beyond each wait
    detector: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in DETECTOR})  # ms, turns with a prediction
    held: int = 0  # turns a turn detector held to max_delay

    def add(self, other: "Figures") -> None:
        self.total += other.total
        self.overhead += other.overhead
        self.held += other.held
        for name, samples in other.stages.items():
            self.stages[name] += samples
        for name, samples in other.detector.items():
            self.detector[name] += samples


def figures(c: Conversation, skip: int = 1) -> Figures:
    """The call's turns after the first `skip` (warm-up: a session's first turn fills its caches)."""
    f = Figures()
    for t in c.probe.turns[skip:]:
        if None in (t.eos, t.stt_at, t.llm_at, t.commit_at, t.tts_at, t.out_at):
            continue
        waits, endpointing = c.waits(t), c.endpointing(t)
        f.held += endpointing > c.max_delay_s
        f.total.append((t.out_at - t.eos) * 1000)
        f.overhead.append((t.out_at - t.eos - waits) * 1000)
        heard = t.stt_at + STT_S
        ready = max(heard, t.eos + endpointing)  # the transcript is in and the endpointing over
        if t.predicted_at is not None:
            f.detector["turn detector inference"].append(t.inference_s * 1000)
            f.detector["of it on the path"].append(max(0.0, t.predicted_at - ready) * 1000)
        for name, s in zip(STAGES, (
            t.stt_at - t.eos - c.vad_ends(t),
            t.llm_at - (heard if c.preemptive else t.commit_at),
            # livekit's anchor (its EOU metric) beyond the one expected from the line's clock
            (t.anchor_at - t.eos - c.anchor(t)) if t.anchor_at is not None else 0.0,
            t.commit_at - max(ready, t.predicted_at or ready),
            t.tts_at - max(t.commit_at, t.llm_at + LLM_S),
            t.out_at - t.tts_at - TTS_S,
        )):
            f.stages[name].append(s * 1000)
    return f


# ---------------------------------------------------------------------------------------------
# Silero's own latency: how long after the last voiced sample it ends the utterance, by the
# audio's clock (no session, no scheduling) — a property of the model and its smoothing
# ---------------------------------------------------------------------------------------------
VAD_LAG_S = 0.0  # end of speech → Silero ends the utterance, beyond min_silence_duration
VAD_END_LAG_S = 0.0  # end of speech → the end of speech Silero reports (its smoothing)


async def measure_vad_lag(vad, speech: np.ndarray, shifts: int = 8) -> tuple[float, float]:
    """(VAD_LAG_S, VAD_END_LAG_S), medians over where the speech ends within Silero's 32 ms
    window (`shifts` offsets; a live line ends anywhere in it): each utterance pushed as fast as
    it goes, the lags read by sample count."""
    window = 512  # Silero's window at 16 kHz
    lags, end_lags = [], []
    for k in range(shifts):
        lead = np.zeros(2 * RATE + k * window // shifts, np.int16)
        audio = np.concatenate([lead, speech, np.zeros(2 * RATE, np.int16)])
        end = (len(lead) + len(speech)) / RATE
        stream = vad.stream()
        for i in range(0, len(audio) - FRAME + 1, FRAME):
            stream.push_frame(rtc.AudioFrame(audio[i: i + FRAME].tobytes(), RATE, 1, FRAME))
        stream.end_input()
        async for ev in stream:
            if ev.type == VADEventType.END_OF_SPEECH:
                lags.append(ev.samples_index / RATE - end - vad._opts.min_silence_duration)
                end_lags.append(ev.samples_index / RATE - end - ev.silence_duration)
        await stream.aclose()
    return statistics.median(lags), statistics.median(end_lags)


async def calibrate(vad) -> None:
    """Silero's own lags on the caller's question, for the waits subtracted from every turn."""
    global VAD_LAG_S, VAD_END_LAG_S
    VAD_LAG_S, VAD_END_LAG_S = await measure_vad_lag(vad, espeak_16k(QUESTION))


# ---------------------------------------------------------------------------------------------
# (a) one call at a time, each kind side by side; (b) calls on one core
# ---------------------------------------------------------------------------------------------
async def measure_turns(vad, *, turns: int, kinds=tuple(KINDS), gap: float = 0.5) -> dict[str, tuple[Conversation, Figures]]:
    """`turns` questions (and one to warm up) on one call of each kind, the calls side by side."""
    speech, voice = espeak_16k(QUESTION), espeak_native(ANSWER)
    conversations = [await open_conversation(kind, vad, voice) for kind in kinds]
    try:
        lost = await asyncio.gather(*(converse(c, speech, turns=turns + 1, until=None, gap=gap, offset=0.37 * i)
                                      for i, c in enumerate(conversations)))
    finally:
        for c in conversations:
            await c.close()
    if any(lost):
        raise RuntimeError(f"turns not answered: {dict(zip(kinds, lost))}")
    return {c.kind: (c, figures(c)) for c in conversations}


def _row(name: str, samples: list[float]) -> str:
    return f"{name:38} {pct(samples, 0.5):8.1f} {pct(samples, 0.95):8.1f} {max(samples):8.1f}"


def print_turns(results: dict[str, tuple[Conversation, Figures]]) -> float:
    print(f"\n(a) one call of each kind at a time, side by side — fixed latencies: STT {STT_S * 1000:g} ms, LLM "
          f"{LLM_S * 1000:g} ms, TTS {TTS_S * 1000:g} ms; Silero's own lag beyond its silence {VAD_LAG_S * 1000:.0f} ms "
          f"(its reported end of speech {VAD_END_LAG_S * 1000:.0f} ms late) (ms: p50 / p95 / max)")
    for kind, (c, f) in results.items():
        pre = "preemptive LLM" if c.preemptive else "LLM after the commit"
        print(f"  {KINDS[kind]}: {len(f.total)} turns; endpointing {c.min_delay_s * 1000:.0f} ms"
              f"{f' (max {c.max_delay_s * 1000:.0f} when a turn detector holds: {f.held} turns)' if c.detector else ''}, "
              f"VAD silence {c.min_silence_s * 1000:.0f} ms, {pre}")
        print("    " + _row("end of speech → first audio frame", f.total))
        for name, samples in f.detector.items():
            if samples:  # the model's latency, subtracted like the vendors' where it is on the path
                print("    " + _row(name, samples))
        print("    " + _row("overhead (less the configured waits)", f.overhead))
        for name, samples in f.stages.items():
            print("      " + _row(name, samples))
    worst = max((pct(f.overhead, 0.95) for kind, (_, f) in results.items() if kind.startswith("ours")), default=0.0)
    print(f"  ours: overhead p95 {worst:.1f} ms — target ≤ {TARGET_MS:g} ms: {'met' if worst <= TARGET_MS else 'MISSED'}")
    return worst


def pin_to_one_core() -> int | None:
    """Every thread of this process onto one CPU (ONNX Runtime's threads exist already)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = sorted(os.sched_getaffinity(0))[-1]
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except OSError:
            pass
    return cpu


async def run_level(vad, kind: str, n: int, seconds: float, gap: float) -> tuple[Figures, int, float]:
    """n calls of `kind` talking at once for `seconds`: (figures, turns lost, CPU ms per call-second)."""
    speech, voice = espeak_16k(QUESTION), espeak_native(ANSWER)
    conversations = [await open_conversation(kind, vad, voice) for _ in range(n)]
    cpu, wall = time.process_time(), time.monotonic()
    until = wall + seconds
    try:
        # staggered, so the questions do not all end in the same frame
        lost = await asyncio.gather(*(converse(c, speech, turns=None, until=until, gap=gap, offset=i * 2.0 / n)
                                      for i, c in enumerate(conversations)))
    finally:
        cpu_ms = (time.process_time() - cpu) * 1000 / n / (time.monotonic() - wall)
        for c in conversations:
            await c.close()
    merged = Figures()
    for c in conversations:
        merged.add(figures(c))
    return merged, sum(lost), cpu_ms


async def sessions_section(vad, args) -> int:
    cpu = pin_to_one_core()
    print(f"\n(b) concurrent calls on one core{f' (all threads pinned to CPU {cpu}, which other processes share)' if cpu is not None else ''}: "
          f"each caller asks, hears the whole answer, pauses {args.gap:g} s; {args.level_seconds:g} s a level")
    sustained, kind, cpu_costs = 0, args.sessions_kind, []
    levels = [5, 10] if args.quick else [5, 10, 12, 15, 20, 25]
    for n in levels:
        f, lost, cpu_ms = await run_level(vad, kind, n, args.level_seconds, args.gap)
        good = lost == 0 and bool(f.overhead) and pct(f.overhead, 0.95) <= args.budget
        print(f"  {n:3d} calls, {kind:11}: {len(f.total):4d} turns  overhead p50 {pct(f.overhead, 0.5):7.1f} / p95 "
              f"{pct(f.overhead, 0.95):7.1f} ms  lost {lost}  CPU {cpu_ms:5.1f} ms per call-second  "
              f"{'ok' if good else 'over budget'}")
        cpu_costs.append(cpu_ms)
        if not good:
            break
        sustained = n
    compare = sustained or levels[0]
    f, lost, cpu_ms = await run_level(vad, "livekit-vad", compare, args.level_seconds, args.gap)
    print(f"  {compare:3d} calls, livekit-vad: {len(f.total):4d} turns  overhead p50 {pct(f.overhead, 0.5):7.1f} / p95 "
          f"{pct(f.overhead, 0.95):7.1f} ms  lost {lost}  CPU {cpu_ms:5.1f} ms per call-second")
    ok = sustained >= TARGET_SESSIONS
    print(f"  sustained on one core: {sustained} calls (overhead p95 ≤ {args.budget:g} ms, none lost) — target ≥ "
          f"{TARGET_SESSIONS}: {'met' if ok else 'MISSED'}")
    print(f"  by CPU alone (what the neighbours' load does not change): a call costs {statistics.median(cpu_costs):.1f} ms of "
          f"CPU a second (median of the levels), so {UTILISATION:.0%} of a core holds "
          f"{UTILISATION * 1000 / statistics.median(cpu_costs):.0f} calls")
    return sustained


def quiet() -> None:
    logging.basicConfig(level=logging.ERROR)
    for name in ("livekit.agents", "agent_worker", "livekit.plugins"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


async def main(args) -> int:
    quiet()
    from livekit.plugins import silero

    global FRAME_MS
    FRAME_MS = args.frame_ms
    vad = silero.VAD.load()
    await calibrate(vad)
    _detector_available()
    settle_heap()  # as the worker's prewarm does once its models are loaded
    print(f"load average before: {open('/proc/loadavg').read().strip()} on {os.cpu_count()} CPUs "
          "(other processes share these cores; figures are wall-clock)")
    print_turns(await measure_turns(vad, turns=args.turns))
    if not args.no_sessions:
        await sessions_section(vad, args)
    print(f"load average after: {open('/proc/loadavg').read().strip()}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=12, help="questions per call in (a)")
    parser.add_argument("--gap", type=float, default=0.5, help="the caller's pause after an answer (s)")
    parser.add_argument("--level-seconds", type=float, default=12.0, help="seconds per concurrency level in (b)")
    parser.add_argument("--budget", type=float, default=TARGET_MS, help="overhead p95 budget in (b) (ms)")
    parser.add_argument("--frame-ms", type=int, default=FRAME_MS, help="the line's frames (ms)")
    parser.add_argument("--sessions-kind", choices=tuple(KINDS), default="ours-vad", help="the calls ramped in (b)")
    parser.add_argument("--quick", action="store_true", help="fewer turns and levels (a smoke run)")
    parser.add_argument("--no-sessions", action="store_true", help="only (a)")
    args = parser.parse_args()
    if args.quick:
        args.turns, args.level_seconds = min(args.turns, 5), min(args.level_seconds, 8.0)
    sys.exit(asyncio.run(main(args)))
