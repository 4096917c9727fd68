"""Deliberately failing third-party vendors: subclasses of livekit's STT/LLM/TTS that raise the
way a vendor outage surfaces (APIConnectionError / APIStatusError), or accept the request and
never answer (a hung vendor)."""

from __future__ import annotations

import asyncio
from typing import Any

from livekit.agents import APIConnectionError, APIConnectOptions, APIStatusError, llm, stt, tts
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN


class Behaviour:
    def __init__(self, mode: str) -> None:
        assert mode in ("raise", "hang", "http500")
        self.mode = mode
        self.calls = 0

    async def act(self) -> None:
        self.calls += 1
        if self.mode == "raise":
            raise APIConnectionError("vendor unreachable (connection refused)")
        if self.mode == "http500":
            raise APIStatusError("vendor internal error", status_code=500)
        await asyncio.Event().wait()  # hang: accepted, never answers


class FailingLLM(llm.LLM):
    def __init__(self, mode: str) -> None:
        super().__init__()
        self.behaviour = Behaviour(mode)

    @property
    def model(self) -> str:
        return f"failing-{self.behaviour.mode}"

    def chat(self, *, chat_ctx, tools=None, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS, **_: Any):
        return _FailingLLMStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _FailingLLMStream(llm.LLMStream):
    async def _run(self) -> None:
        await self._llm.behaviour.act()


class FailingTTS(tts.TTS):
    def __init__(self, mode: str, sample_rate: int = 24000) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=sample_rate, num_channels=1)
        self.behaviour = Behaviour(mode)

    def synthesize(self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS):
        return _FailingChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class _FailingChunkedStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        await self._tts.behaviour.act()


class FailingSTT(stt.STT):
    def __init__(self, mode: str) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self.behaviour = Behaviour(mode)

    async def _recognize_impl(self, buffer, *, language=NOT_GIVEN, conn_options: APIConnectOptions) -> stt.SpeechEvent:
        await self.behaviour.act()
        raise AssertionError("unreachable")


async def opening_hours_reply(chain: llm.LLM) -> str:
    """One turn through an LLM chain: the caller asks the opening hours the prompt gives."""
    ctx = llm.ChatContext()
    ctx.add_message(role="system", content="Our opening hours are 9am to 5pm.")
    ctx.add_message(role="user", content="When are your opening hours?")
    return (await chain.chat(chat_ctx=ctx).collect()).text


class StreamingOnlySTT(stt.STT):
    """A vendor that only streams (`offline_recognize=False`, as Azure's Speech SDK plugin): each
    pushed second of audio is one final transcript ("segment 1", …); `hang` accepts the audio
    and never answers."""

    def __init__(self, *, hang: bool = False) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=False, offline_recognize=False))
        self.hang = hang
        self.streams = 0

    async def _recognize_impl(self, buffer, *, language=NOT_GIVEN, conn_options: APIConnectOptions) -> stt.SpeechEvent:
        raise NotImplementedError("streams only")

    def stream(self, *, language=NOT_GIVEN, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS):
        self.streams += 1
        return _SegmentStream(stt=self, conn_options=conn_options, sample_rate=16000)


class _SegmentStream(stt.RecognizeStream):
    async def _run(self) -> None:
        samples, segment = 0, 0
        async for item in self._input_ch:
            if isinstance(item, self._FlushSentinel):
                continue
            samples += item.samples_per_channel
            while samples >= 16000:
                samples -= 16000
                segment += 1
                if self._stt.hang:
                    await asyncio.Event().wait()
                self._event_ch.send_nowait(stt.SpeechEvent(
                    type=stt.SpeechEventType.FINAL_TRANSCRIPT,
                    alternatives=[stt.SpeechData(language="en-US", text=f"segment {segment}")],
                ))
