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
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from livekit.agents import APIConnectionError, APIConnectOptions, APIError, APITimeoutError, llm, stt, tts, utils
from livekit.agents.stt.stream_adapter import StreamAdapterWrapper
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.language import LanguageCode
from livekit.agents.utils import is_given
from livekit.agents.vad import VAD

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
    service = "stt"

    """A batch (`recognize`) STT with an attempt timeout. It is streaming-capable through the
    VAD (livekit's StreamAdapter stream over itself), so a FallbackAdapter never wraps it again."""

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
        self._guard.check(self.service, self._key)
        attempt = _Attempt(self._key, self._observer)
        try:
            async with asyncio.timeout(self._attempt_timeout):
                options = _vendor_options(self._attempt_timeout)
                if self._inner.capabilities.offline_recognize:
                    event = await self._inner.recognize(buffer, language=language, conn_options=options)
                else:
                    event = await _recognize_by_stream(self._inner, buffer, language, options)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            await attempt.failed()
            error = APITimeoutError(f"{self._key}: no transcript within {self._attempt_timeout:g}s")
            self._guard.failed(self.service, self._key, error, self._inner)
            raise error from None
        except Exception as exc:
            await attempt.failed()
            self._guard.failed(self.service, self._key, exc, self._inner)
            raise _as_api_error(self._key, exc) from exc
        await attempt.succeeded()
        self._guard.succeeded(self.service, self._key)
        return event

    def stream(
        self, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> stt.RecognizeStream:
        return StreamAdapterWrapper(self, vad=self._vad, wrapped_stt=self, language=language, conn_options=conn_options)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _recognize_by_stream(inner: stt.STT, buffer: utils.AudioBuffer, language, options) -> stt.SpeechEvent:
    """A streaming-only vendor (`offline_recognize=False`: Azure's Speech SDK) hears the VAD's
    utterance as a stream of its own: pushed, ended, and its final transcripts joined."""
    stream = inner.stream(language=language, conn_options=options)
    finals: list[stt.SpeechData] = []
    try:
        for frame in buffer if isinstance(buffer, list) else [buffer]:
            stream.push_frame(frame)
        stream.end_input()
        async for ev in stream:
            if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT and ev.alternatives:
                finals.append(ev.alternatives[0])
    finally:
        await stream.aclose()
    text = " ".join(a.text.strip() for a in finals if a.text.strip())
    spoken = finals[0].language if finals else LanguageCode(language if is_given(language) and language else "en")
    return stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives=[stt.SpeechData(language=spoken, text=text)])


# ---------------------------------------------------------------------------------------------
# LLM
# ---------------------------------------------------------------------------------------------
class BoundedLLM(_BoundedVendor, llm.LLM):
    service = "llm"

    def __init__(self, inner: llm.LLM, *, key: str, attempt_timeout: float, observer: AttemptObserver | None = None,
                 guard=None) -> None:
        super().__init__()
        self._bind(inner, key, attempt_timeout, observer, guard)

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return _BoundedLLMStream(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options,
            parallel_tool_calls=parallel_tool_calls, tool_choice=tool_choice, extra_kwargs=extra_kwargs,
        )

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
        b._guard.check(b.service, b.key)
        attempt = _Attempt(b.key, b._observer)
        try:
            async with b.inner.chat(
                chat_ctx=self._chat_ctx, tools=self._tools, conn_options=_vendor_options(b._attempt_timeout),
                parallel_tool_calls=self._parallel_tool_calls, tool_choice=self._tool_choice,
                extra_kwargs=self._extra_kwargs,
            ) as stream:
                chunks = aiter(stream)
                while True:
                    try:
                        chunk = await _next_within(chunks, b._attempt_timeout, b.key, "tokens")
                    except StopAsyncIteration:
                        break
                    if chunk.delta is not None:
                        await attempt.output()
                    self._event_ch.send_nowait(chunk)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await attempt.failed()
            b._guard.failed(b.service, b.key, exc, b.inner)
            raise _as_api_error(b.key, exc) from exc
        await attempt.succeeded()
        b._guard.succeeded(b.service, b.key)


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
        b._guard.check(b.service, b.key)
        attempt = _Attempt(b.key, b._observer)
        output_emitter.initialize(
            request_id=utils.shortuuid(), sample_rate=b.sample_rate, num_channels=b.num_channels, mime_type="audio/pcm"
        )
        try:
            async with b.inner.synthesize(self._input_text, conn_options=_vendor_options(b._attempt_timeout)) as stream:
                frames = aiter(stream)
                while True:
                    try:
                        audio = await _next_within(frames, b._attempt_timeout, b.key, "audio")
                    except StopAsyncIteration:
                        break
                    await attempt.output()
                    output_emitter.push_frame(audio.frame)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            await attempt.failed()
            b._guard.failed(b.service, b.key, exc, b.inner)
            raise _as_api_error(b.key, exc) from exc
        await attempt.succeeded()
        b._guard.succeeded(b.service, b.key)
