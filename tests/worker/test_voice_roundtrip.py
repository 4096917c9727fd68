"""An offline voice round trip through the worker's real call: speech made by espeak-ng → Silero
VAD → PocketSphinx (a small keyphrase grammar, so the transcript is exact) → the local LLM →
espeak-ng audio out; then the call's report in the database (transcript, STT/TTS usage)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

from agent_worker.call import Call
from agent_worker.offline import ESpeakTTS
from agent_worker.server import WorkerRuntime
from switchboard.db import Database
from switchboard.providers.livekit.dispatch import DispatchMetadata
from tests.worker.conftest import Org, create_org

RATE = 48000  # what a LiveKit room delivers
FRAME = RATE // 100  # 10 ms
QUESTION = "what are your opening hours"
ANSWER = "Our opening hours are 9am to 5pm, Monday to Friday."


async def _espeak(text: str, rate: int = RATE) -> np.ndarray:
    frame = rtc.combine_audio_frames([ev.frame async for ev in ESpeakTTS().synthesize(text)])
    resampler = rtc.AudioResampler(frame.sample_rate, rate, num_channels=1)
    out = rtc.combine_audio_frames(resampler.push(frame) + resampler.flush())
    return np.frombuffer(out.data, dtype=np.int16).copy()


class CallerMicrophone(io.AudioInput):
    """The caller's side of the line: silence, the question, then silence for as long as asked."""

    def __init__(self, speech: np.ndarray) -> None:
        super().__init__(label="caller")
        self._samples = np.concatenate([np.zeros(RATE // 2, np.int16), speech])
        self._pos = 0
        self._next_at: float | None = None

    async def __anext__(self) -> rtc.AudioFrame:
        now = time.monotonic()
        self._next_at = (self._next_at or now) + 0.01  # paced like a live line
        await asyncio.sleep(max(0.0, self._next_at - now))
        chunk = self._samples[self._pos : self._pos + FRAME]
        self._pos += FRAME
        if len(chunk) < FRAME:
            chunk = np.concatenate([chunk, np.zeros(FRAME - len(chunk), np.int16)])
        return rtc.AudioFrame(chunk.tobytes(), RATE, 1, FRAME)


class CallerSpeaker(io.AudioOutput):
    """What the caller hears: every frame the agent plays, played out instantly."""

    def __init__(self) -> None:
        super().__init__(label="caller-speaker", capabilities=io.AudioOutputCapabilities(pause=False))
        self.segments: list[list[rtc.AudioFrame]] = []
        self._current: list[rtc.AudioFrame] | None = None

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._current is None:
            self._current = []
            self.segments.append(self._current)
            self.on_playback_started(created_at=time.time())
        self._current.append(frame)

    def flush(self) -> None:
        super().flush()
        if self._current is not None:
            played = sum(f.duration for f in self._current)
            self._current = None
            self.on_playback_finished(playback_position=played, interrupted=False)

    def clear_buffer(self) -> None:
        if self._current is not None:
            played = sum(f.duration for f in self._current)
            self._current = None
            self.on_playback_finished(playback_position=played, interrupted=True)


def replies(call: Call) -> list[str]:
    return [i.text_content for i in call.session.history.items if i.type == "message" and i.role == "assistant"]


async def until_answered(call: Call, speaker: CallerSpeaker, answer: str, timeout: float = 30) -> None:
    """Until the agent has said `answer` after its greeting and the caller has heard all of it."""
    async with asyncio.timeout(timeout):
        while answer not in replies(call) or len(speaker.segments) < 2 or speaker._current is not None:
            await asyncio.sleep(0.05)


@dataclass
class SpokenCall:
    call: Call
    speaker: CallerSpeaker
    record_id: UUID | None = None  # the call's record, once it has ended


@asynccontextmanager
async def spoken_call(db_url: str, org: Org, vad, said: str, *, room: str) -> AsyncIterator[SpokenCall]:
    """A started call of `org`'s agent in the worker, on which the caller says `said`; on leaving,
    the call is ended and reported (`record_id`) and the worker's runtime closed."""
    runtime = await WorkerRuntime(database_url=db_url).ensure_started()
    meta = DispatchMetadata(organization_id=org.id, agent_config_id=org.agent_id)
    call = Call(runtime=runtime, meta=meta, pipeline=await runtime.pipeline(meta), job_id=f"job-{room}",
                room_name=f"{room}-room", room_sid=f"RM_{room}", vad=vad, turn_detection=True)
    line = SpokenCall(call, CallerSpeaker())
    call.session.input.audio = CallerMicrophone(await _espeak(said))
    call.session.output.audio = line.speaker
    try:
        await call.start()
        yield line
    finally:
        await call.session.aclose()
        line.record_id = await call.finish()
        await runtime.aclose()


async def test_spoken_question_gets_a_spoken_answer_and_is_reported(db: Database, db_url: str, vad) -> None:
    org = await create_org(
        db,
        begin_message=None,
        vendors=[
            ("pocketsphinx-stt", 10, True, {"keyphrases": [QUESTION, "goodbye", "i want to book an appointment"]}),
            ("local-llm", 10, True, {}),
            ("espeak-tts", 10, True, {}),
        ],
    )
    async with spoken_call(db_url, org, vad, QUESTION, room="voice") as line:
        call, speaker = line.call, line.speaker
        await until_answered(call, speaker, ANSWER)

        heard = [i.text_content for i in call.session.history.items if i.type == "message" and i.role == "user"]
        assert heard == [QUESTION]  # Silero cut the utterance, PocketSphinx transcribed it exactly
        assert replies(call) == ["Hello! How can I help you today?", ANSWER]

        # The answer was spoken: its audio is espeak-ng's rendering of that sentence.
        spoken = sum(f.duration for f in speaker.segments[-1])
        reference = len(await _espeak(ANSWER)) / RATE
        assert abs(spoken - reference) < 0.15 * reference
        samples = np.frombuffer(b"".join(bytes(f.data) for f in speaker.segments[-1]), dtype=np.int16)
        assert np.abs(samples).max() > 1000  # not silence
    record_id = line.record_id

    async with db.as_service() as conn:
        rec = await (await conn.execute("select * from call_records where id = %s", (record_id,))).fetchone()
        usage = await (await conn.execute("select details from provider_usage where call_id = %s", (record_id,))).fetchone()
    assert rec["transcript"].splitlines() == ["Agent: Hello! How can I help you today?", f"User: {QUESTION}", f"Agent: {ANSWER}"]
    components = {c["subject"]: c for c in usage["details"]["usage"]["components"]}
    assert float(components["pocketsphinx-stt"]["minutes"]) * 60 > 1.0  # the caller's speech was metered
    assert components["espeak-tts"]["characters"] >= len(ANSWER)
