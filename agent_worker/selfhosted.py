"""Speech on the organisation's own servers where no livekit plugin exists: a Vosk server (its
WebSocket protocol, alphacep/vosk-server) and a Piper HTTP server (`python -m piper.http_server`).
Each is a livekit `stt.STT` / `tts.TTS`, so the chains wrap it with its attempt timeout like any
cloud vendor. Their URLs are tenant-set: connections go through the egress policy's aiohttp
session (pinned to checked addresses, every hop checked), made on first use in the job's loop.

Vosk protocol: the client sends `{"config": {"sample_rate": N}}`, then 16-bit mono PCM as binary
messages (the server answers each with `{"partial": …}` or a `{"result": [...], "text": …}`
segment), then `{"eof": 1}`; the server answers with the last `{"text": …}` and closes.
Piper protocol: `POST /` with `{"text", "voice"?, "speaker_id"?, "length_scale"?}` → `audio/wav`.
"""

from __future__ import annotations

import io
import json
import wave

import aiohttp
from livekit import rtc
from livekit.agents import (
    APIConnectionError,
    APIConnectOptions,
    APIStatusError,
    LanguageCode,
    stt,
    tts,
    utils,
)
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr

from switchboard import egress

_CHUNK_SECONDS = 0.1  # what vosk-server's own clients send per message


class _EgressSession:
    """The egress policy's aiohttp session, made in the loop that first needs it."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._session: aiohttp.ClientSession | None = None

    def get(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = egress.aiohttp_session(what=self._what)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class VoskSTT(stt.STT):
    def __init__(self, *, url: str, sample_rate: int = 16000) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._url = url
        self._sample_rate = sample_rate
        self._http = _EgressSession("url")

    @property
    def model(self) -> str:
        return "vosk-server"

    @property
    def provider(self) -> str:
        return "vosk"

    async def _recognize_impl(
        self, buffer: utils.AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions
    ) -> stt.SpeechEvent:
        frame = rtc.combine_audio_frames(buffer)
        if frame.sample_rate != self._sample_rate or frame.num_channels != 1:
            resampler = rtc.AudioResampler(frame.sample_rate, self._sample_rate, num_channels=1)
            frame = rtc.combine_audio_frames(resampler.push(_mono(frame)) + resampler.flush())
        pcm = bytes(frame.data)
        step = int(self._sample_rate * _CHUNK_SECONDS) * 2
        texts: list[str] = []
        try:
            async with self._http.get().ws_connect(self._url, timeout=aiohttp.ClientWSTimeout(ws_close=conn_options.timeout)) as ws:
                await ws.send_str(json.dumps({"config": {"sample_rate": self._sample_rate}}))
                chunks = range(0, len(pcm), step)
                for start in chunks:
                    await ws.send_bytes(pcm[start : start + step])
                await ws.send_str(json.dumps({"eof": 1}))
                for _ in range(len(chunks) + 1):  # one answer per chunk and one to eof, in order
                    _collect(await ws.receive_json(), texts)
        except aiohttp.WSServerHandshakeError as exc:
            raise APIStatusError("vosk server refused the connection", status_code=exc.status, body=None) from None
        except (aiohttp.ClientError, OSError, TypeError, ValueError) as exc:
            # TypeError/ValueError: a closed socket or a message that is not the protocol's JSON
            raise APIConnectionError(f"vosk server: {type(exc).__name__}") from None
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language=LanguageCode(language if isinstance(language, str) else "en"),
                                         text=" ".join(texts), confidence=1.0 if texts else 0.0)],
        )

    async def aclose(self) -> None:
        await self._http.aclose()


def _mono(frame: rtc.AudioFrame) -> rtc.AudioFrame:
    if frame.num_channels == 1:
        return frame
    import numpy as np

    samples = np.frombuffer(frame.data, dtype=np.int16).reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
    return rtc.AudioFrame(samples.tobytes(), frame.sample_rate, 1, len(samples))


def _collect(message: dict, texts: list[str]) -> None:
    """A segment's final text ("result"/"text" messages; "partial" ones are interim)."""
    text = (message.get("text") or "").strip() if "partial" not in message else ""
    if text:
        texts.append(text)


class PiperTTS(tts.TTS):
    SAMPLE_RATE = 22050  # Piper's medium and high voices; other rates are resampled to it

    def __init__(self, *, url: str, voice: str | None = None, speaker_id: int | None = None,
                 length_scale: float | None = None) -> None:
        super().__init__(capabilities=tts.TTSCapabilities(streaming=False), sample_rate=self.SAMPLE_RATE, num_channels=1)
        self._url = url
        self._options = {k: v for k, v in (("voice", voice), ("speaker_id", speaker_id), ("length_scale", length_scale))
                         if v is not None}
        self._http = _EgressSession("url")

    @property
    def model(self) -> str:
        return str(self._options.get("voice") or "piper")

    @property
    def provider(self) -> str:
        return "piper"

    def synthesize(self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> tts.ChunkedStream:
        return _PiperStream(tts=self, input_text=text, conn_options=conn_options)

    async def aclose(self) -> None:
        await self._http.aclose()


class _PiperStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        piper: PiperTTS = self._tts  # type: ignore[assignment]
        try:
            async with piper._http.get().post(piper._url, json={"text": self._input_text, **piper._options}) as resp:
                if resp.status != 200:
                    raise APIStatusError("piper server refused the request", status_code=resp.status, body=None)
                body = await resp.read()
        except aiohttp.ClientError as exc:
            raise APIConnectionError(f"piper server: {type(exc).__name__}") from None
        try:
            with wave.open(io.BytesIO(body)) as wav:
                rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
                pcm = wav.readframes(wav.getnframes())
        except (wave.Error, EOFError):
            raise APIConnectionError("piper server: the answer is not WAV audio") from None
        if width != 2:
            raise APIConnectionError("piper server: the WAV audio is not 16-bit")
        frame = _mono(rtc.AudioFrame(pcm, rate, channels, len(pcm) // (2 * channels)))
        frames = [frame]
        if rate != piper.sample_rate:
            resampler = rtc.AudioResampler(rate, piper.sample_rate, num_channels=1)
            frames = resampler.push(frame) + resampler.flush()
        output_emitter.initialize(request_id=utils.shortuuid(), sample_rate=piper.sample_rate, num_channels=1,
                                  mime_type="audio/pcm")
        for f in frames:
            output_emitter.push(bytes(f.data))
        output_emitter.flush()
