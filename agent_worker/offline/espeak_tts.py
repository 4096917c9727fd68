"""Offline speech synthesis with Debian's eSpeak NG (`espeak-ng --stdout`): a livekit `tts.TTS`
that synthesises one text per process run. The text goes in on stdin, never on the command line."""

from __future__ import annotations

import asyncio
import shutil
import struct

from livekit.agents import APIConnectionError, APIConnectOptions, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS

ESPEAK_SAMPLE_RATE = 22050  # espeak-ng's output rate for its standard voices


def parse_wav(data: bytes) -> tuple[int, int, bytes]:
    """(sample_rate, channels, 16-bit PCM) of a RIFF/WAVE byte string. espeak-ng writing to a pipe
    cannot seek back to fill in the chunk sizes, so the data chunk is taken to run to the end."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV stream")
    pos, rate, channels = 12, None, None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt ":
            fmt, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body : body + 16])
            if fmt != 1 or bits != 16:
                raise ValueError(f"unsupported WAV format {fmt}/{bits} bits")
        elif chunk == b"data":
            if rate is None or channels is None:
                raise ValueError("WAV data before its format chunk")
            end = len(data) if size in (0, 0xFFFFFFFF) or body + size > len(data) else body + size
            pcm = data[body:end]
            return rate, channels, pcm[: len(pcm) - len(pcm) % (2 * channels)]
        pos = body + size + (size & 1)
    raise ValueError("WAV stream has no data chunk")


class ESpeakTTS(tts.TTS):
    def __init__(self, *, voice: str = "en-us", rate: int = 175, executable: str = "espeak-ng") -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=ESPEAK_SAMPLE_RATE, num_channels=1
        )
        self._voice = voice
        self._rate = int(rate)
        self._executable = executable

    @property
    def model(self) -> str:
        return f"espeak-ng/{self._voice}"

    @property
    def provider(self) -> str:
        return "espeak-ng"

    @property
    def voice(self) -> str:
        return self._voice

    def synthesize(self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS) -> tts.ChunkedStream:
        return _ESpeakStream(tts=self, input_text=text, conn_options=conn_options)


class _ESpeakStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        engine: ESpeakTTS = self._tts  # type: ignore[assignment]
        executable = shutil.which(engine._executable)
        if executable is None:
            raise APIConnectionError(f"{engine._executable} is not installed", retryable=False)
        proc = await asyncio.create_subprocess_exec(
            executable, "--stdout", "-v", engine._voice, "-s", str(engine._rate),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await proc.communicate(self._input_text.encode("utf-8"))
        finally:
            if proc.returncode is None:  # cancelled (interruption): do not leave it running
                proc.kill()
                await proc.wait()
        if proc.returncode != 0:
            raise APIConnectionError(
                f"espeak-ng exited with {proc.returncode}: {err.decode(errors='replace').strip()[:200]}", retryable=False
            )
        try:
            sample_rate, channels, pcm = parse_wav(out)
        except ValueError as exc:
            raise APIConnectionError(f"espeak-ng output unreadable: {exc}", retryable=False) from None
        output_emitter.initialize(
            request_id=utils.shortuuid("espeak_"), sample_rate=sample_rate, num_channels=channels, mime_type="audio/pcm"
        )
        output_emitter.push(pcm)
        output_emitter.flush()
