"""Attempt timeouts for third-party vendors.

livekit-agents' FallbackAdapters hand `attempt_timeout` to each vendor as `conn_options.timeout`
and trust the plugin to honour it; a vendor that accepts the connection and then never answers
holds the call until the plugin's own (longer) HTTP timeouts fire — or forever. Each vendor of a
chain is therefore wrapped here: the wrapper is itself an `stt.STT` / `llm.LLM` / `tts.TTS`
whose attempt fails with `APITimeoutError` when no output arrives within the vendor's
`attempt_timeout` (and again for any later gap that long), so the adapter moves on in bounded
time. The wrapper reports usage under the catalog key (`provider` = "openai-llm"), which is how
the call's usage is priced, and reports every attempt's outcome to an observer (vendor health).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from livekit import rtc
from livekit.agents import APIConnectionError, APIConnectOptions, APIError, APITimeoutError, llm, stt, tts, utils
from livekit.agents.stt.stream_adapter import StreamAdapterWrapper
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.vad import VAD

from agent_worker.chat_llm import ChatLLM
from agent_worker.failover import NO_GUARD

# (catalog key, ok, milliseconds to the first output or to the failure)
AttemptObserver = Callable[[str, bool, float], Awaitable[None]]

T = TypeVar("T")


async def _no_observer(key: str, ok: bool, latency_ms: float) -> None:
    return None


class _Attempt:
    """Times one vendor attempt and reports it: a success at its first output (so health and the
    benchmark see time-to-first-output), a failure when it fails — also after some output, since
    a stream that breaks mid-way is a failure worth counting."""

    def __init__(self, key: str, observer: AttemptObserver) -> None:
        self.key = key
        self.observer = observer
        self.started = time.perf_counter()
        self.first_output_ms: float | None = None

    def _elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000

    async def output(self) -> None:
        if self.first_output_ms is None:
            self.first_output_ms = self._elapsed_ms()
            await self._report(True, self.first_output_ms)

    async def succeeded(self) -> None:
        await self.output()  # an empty answer is still an answer

    async def failed(self) -> None:
        await self._report(False, self._elapsed_ms())

    async def _report(self, ok: bool, latency_ms: float) -> None:
        try:
            await self.observer(self.key, ok, latency_ms)
        except Exception:  # health reporting must never change a vendor's outcome
            pass


async def _next_within(iterator: AsyncIterator[T], timeout: float, key: str, what: str) -> T:
    """The iterator's next item, or APITimeoutError after `timeout` seconds; StopAsyncIteration passes."""
    try:
        async with asyncio.timeout(timeout):
            return await anext(iterator)
    except TimeoutError:
        raise APITimeoutError(f"{key}: no {what} within {timeout:g}s") from None


async def _each_within(items: AsyncIterable[T], timeout: float, key: str, what: str) -> AsyncIterator[T]:
    """The items of `items`, each within `timeout` seconds of the one before (APITimeoutError)."""
    iterator = aiter(items)
    while True:
        try:
            item = await _next_within(iterator, timeout, key, what)
        except StopAsyncIteration:
            return
        yield item


@asynccontextmanager
async def _attempting(vendor: "_BoundedVendor") -> AsyncIterator[_Attempt]:
    """One timed attempt at `vendor`: refused at once while its quota is held (the chain guard),
    reported as failed (and raised as livekit's APIError, so the adapter fails over) when the body
    raises, as succeeded when it ends; cancellation passes through."""
    vendor._guard.check(vendor.service, vendor.key)
    attempt = _Attempt(vendor.key, vendor._observer)
    try:
        yield attempt
    except Exception as exc:
        await attempt.failed()
        vendor._guard.failed(vendor.service, vendor.key, exc, vendor.inner)
        raise _as_api_error(vendor.key, exc) from exc
    await attempt.succeeded()
    vendor._guard.succeeded(vendor.service, vendor.key)


def _as_api_error(key: str, exc: Exception) -> APIError:
    if isinstance(exc, APIError):
        return exc
    return APIConnectionError(f"{key}: {type(exc).__name__}: {exc}")


def _vendor_options(timeout: float) -> APIConnectOptions:
    # The adapter fails over instead of retrying a vendor (livekit's own fallback default).
    return APIConnectOptions(max_retry=0, timeout=timeout, retry_interval=0)


# ---------------------------------------------------------------------------------------------
# What every bounded vendor shares: the wrapped vendor, its catalog key, its attempt timeout
# ---------------------------------------------------------------------------------------------
class _BoundedVendor:
    """Plumbing of BoundedSTT/LLM/TTS. Listed first among the bases, so its `model` and
    `provider` answer for the wrapper (livekit reports `provider` in metrics and fallbacks)."""

    service: str

    def _bind(self, inner: Any, key: str, attempt_timeout: float, observer: "AttemptObserver | None", guard=None) -> None:
        self._inner = inner
        self._guard = guard or NO_GUARD  # agent_worker.failover.ChainGuard: quota holds, chain lines
        self._key = key
        self._attempt_timeout = attempt_timeout
        self._observer = observer or _no_observer
        self._label = f"switchboard.{key}"

    @property
    def inner(self) -> Any:
        return self._inner

    @property
    def key(self) -> str:
        return self._key

    @property
    def model(self) -> str:
        return self._inner.model

    @property
    def provider(self) -> str:
        return self._key


# ---------------------------------------------------------------------------------------------
# STT
# ---------------------------------------------------------------------------------------------
class BoundedSTT(_BoundedVendor, stt.STT):
    """A batch (`recognize`) STT with an attempt timeout. It is streaming-capable through the
    VAD (livekit's StreamAdapter stream over itself), so a FallbackAdapter never wraps it again."""

    service = "stt"

    def __init__(
        self, inner: stt.STT, *, key: str, attempt_timeout: float, vad: VAD, observer: AttemptObserver | None = None,
        guard=None,
    ) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=False))
        self._bind(inner, key, attempt_timeout, observer, guard)
        self._vad = vad

    async def _recognize_impl(
        self, buffer: utils.AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions
    ) -> stt.SpeechEvent:
        async with _attempting(self):
            try:
                async with asyncio.timeout(self._attempt_timeout):
                    options = _vendor_options(self._attempt_timeout)
                    if self._inner.capabilities.streaming or not self._inner.capabilities.offline_recognize:
                        event = await _recognize_by_stream(self._inner, buffer, language=language, conn_options=options)
                    else:
                        event = await self._inner.recognize(buffer, language=language, conn_options=options)
            except TimeoutError:
                raise APITimeoutError(f"{self._key}: no transcript within {self._attempt_timeout:g}s") from None
        return event

    def stream(
        self, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> stt.RecognizeStream:
        return StreamAdapterWrapper(self, vad=self._vad, wrapped_stt=self, language=language, conn_options=conn_options)

    async def aclose(self) -> None:
        await self._inner.aclose()


# A streaming vendor hears one utterance, then this much silence: its own end-of-speech detection,
# which the factories set to need UTTERANCE_END_SILENCE_MS (more than Silero's 0.55 s minimum
# silence, so no pause inside a VAD-cut utterance can end it early), then marks the end in it.
UTTERANCE_END_SILENCE_MS = 600
_TRAILING_SILENCE_S = 0.7


def _silence_after(frames: list[rtc.AudioFrame]) -> rtc.AudioFrame:
    last = frames[-1]
    samples = int(last.sample_rate * _TRAILING_SILENCE_S)
    return rtc.AudioFrame(bytes(samples * 2 * last.num_channels), last.sample_rate, last.num_channels, samples)


async def _recognize_by_stream(
    inner: stt.STT, buffer: utils.AudioBuffer, *, language: NotGivenOr[str], conn_options: APIConnectOptions
) -> stt.SpeechEvent:
    """One utterance through a streaming vendor (its WebSocket protocol): the utterance and the
    trailing silence are pushed, flushed and the input ended; the vendor's final transcripts, up to its end of speech or the
    end of the stream, are joined into one event. So a streaming vendor fails over per utterance
    like a batch one, and the next vendor hears the same audio."""
    stream = inner.stream(language=language, conn_options=conn_options)
    finals: list[stt.SpeechData] = []
    request_id = ""
    try:
        frames = buffer if isinstance(buffer, list) else [buffer]
        for frame in [*frames, _silence_after(frames)]:
            stream.push_frame(frame)
        stream.flush()
        stream.end_input()
        async for event in stream:
            if event.type == stt.SpeechEventType.FINAL_TRANSCRIPT and event.alternatives and event.alternatives[0].text:
                finals.append(event.alternatives[0])
                request_id = event.request_id or request_id
            elif event.type == stt.SpeechEventType.END_OF_SPEECH and finals:
                # The vendor's own end of the utterance, in the appended silence (Deepgram
                # speech_final, AssemblyAI end_of_turn): done, without waiting for the plugin to
                # wind its socket down (Deepgram's keep-alive loop sleeps 5 s between beats).
                break
    finally:
        await stream.aclose()
    text = " ".join(a.text.strip() for a in finals).strip()
    return stt.SpeechEvent(
        type=stt.SpeechEventType.FINAL_TRANSCRIPT, request_id=request_id,
        alternatives=[stt.SpeechData(
            language=finals[0].language if finals else (language if isinstance(language, str) else ""),
            text=text, confidence=min((a.confidence for a in finals), default=0.0),
            start_time=finals[0].start_time if finals else 0.0, end_time=finals[-1].end_time if finals else 0.0,
        )],
    )


# ---------------------------------------------------------------------------------------------
# LLM
# ---------------------------------------------------------------------------------------------
class BoundedLLM(_BoundedVendor, ChatLLM):
    service = "llm"

    def __init__(self, inner: llm.LLM, *, key: str, attempt_timeout: float, observer: AttemptObserver | None = None,
                 guard=None) -> None:
        super().__init__()
        self._bind(inner, key, attempt_timeout, observer, guard)

    def _stream(self, **options: Any) -> llm.LLMStream:
        return _BoundedLLMStream(self, **options)

    def prewarm(self, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._inner.prewarm(loop=loop)

    async def aclose(self) -> None:
        await self._inner.aclose()
        await super().aclose()


class _BoundedLLMStream(llm.LLMStream):
    def __init__(self, bounded: BoundedLLM, *, parallel_tool_calls, tool_choice, extra_kwargs, **kwargs: Any) -> None:
        super().__init__(bounded, **kwargs)
        self._bounded = bounded
        self._parallel_tool_calls = parallel_tool_calls
        self._tool_choice = tool_choice
        self._extra_kwargs = extra_kwargs

    async def _run(self) -> None:
        b = self._bounded
        async with _attempting(b) as attempt, b.inner.chat(
            chat_ctx=self._chat_ctx, tools=self._tools, conn_options=_vendor_options(b._attempt_timeout),
            parallel_tool_calls=self._parallel_tool_calls, tool_choice=self._tool_choice,
            extra_kwargs=self._extra_kwargs,
        ) as stream:
            async for chunk in _each_within(stream, b._attempt_timeout, b.key, "tokens"):
                if chunk.delta is not None:
                    await attempt.output()
                self._event_ch.send_nowait(chunk)


# ---------------------------------------------------------------------------------------------
# TTS
# ---------------------------------------------------------------------------------------------
class BoundedTTS(_BoundedVendor, tts.TTS):
    """Sentence-at-a-time synthesis (`synthesize`) with an attempt timeout. The session streams
    the reply sentence by sentence through livekit's StreamAdapter, so each sentence fails over
    on its own and the backup repeats only the sentence that failed."""

    service = "tts"

    def __init__(self, inner: tts.TTS, *, key: str, attempt_timeout: float, observer: AttemptObserver | None = None,
                 guard=None) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=inner.sample_rate,
            num_channels=inner.num_channels,
        )
        self._bind(inner, key, attempt_timeout, observer, guard)

    def synthesize(self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> tts.ChunkedStream:
        return _BoundedChunkedStream(tts=self, input_text=text, conn_options=conn_options)

    def prewarm(self) -> None:
        self._inner.prewarm()

    async def aclose(self) -> None:
        await self._inner.aclose()


class _BoundedChunkedStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        b: BoundedTTS = self._tts  # type: ignore[assignment]
        output_emitter.initialize(
            request_id=utils.shortuuid(), sample_rate=b.sample_rate, num_channels=b.num_channels, mime_type="audio/pcm"
        )
        async with _attempting(b) as attempt, b.inner.synthesize(
            self._input_text, conn_options=_vendor_options(b._attempt_timeout)
        ) as stream:
            async for audio in _each_within(stream, b._attempt_timeout, b.key, "audio"):
                await attempt.output()
                output_emitter.push_frame(audio.frame)
