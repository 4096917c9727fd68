"""Offline speech recognition with PocketSphinx and the English model shipped in its wheel.

A livekit `stt.STT` with batch recognition only: the session turns it into a stream with the VAD
(one recognition per utterance). With `keyphrases` it decodes against a small JSGF grammar of
those phrases, which is exact on clear speech; without, it uses the general language model
(rough, but it always answers). Decoders are pooled per grammar and run in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections import defaultdict

import numpy as np
from livekit import rtc
from livekit.agents import APIConnectionError, APIConnectOptions, stt, utils
from livekit.agents.language import LanguageCode
from livekit.agents.types import NOT_GIVEN, NotGivenOr

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
_WORD = re.compile(r"[a-z']+")


def normalise_phrase(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


class _DecoderPool:
    """Decoders are not thread-safe and take ~0.5 s to load: keep idle ones per grammar."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, ...], list] = defaultdict(list)
        self._lock = threading.Lock()

    def _create(self, phrases: tuple[str, ...]):
        from pocketsphinx import Decoder

        decoder = Decoder(logfn="/dev/null")
        if phrases:
            alternatives = " | ".join(phrases)
            decoder.add_jsgf_string("phrases", f"#JSGF V1.0; grammar phrases; public <utt> = ( {alternatives} )+ ;")
            decoder.activate_search("phrases")
        return decoder

    def acquire(self, phrases: tuple[str, ...]):
        with self._lock:
            if self._idle[phrases]:
                return self._idle[phrases].pop()
        return self._create(phrases)

    def release(self, phrases: tuple[str, ...], decoder) -> None:
        with self._lock:
            self._idle[phrases].append(decoder)

    def known_words(self, words: set[str]) -> set[str]:
        decoder = self.acquire(())
        try:
            return {w for w in words if decoder.lookup_word(w) is not None}
        finally:
            self.release((), decoder)


POOL = _DecoderPool()


def warm_up() -> None:
    """Load one general-model decoder (worker prewarm)."""
    POOL.release((), POOL.acquire(()))


class PocketSphinxSTT(stt.STT):
    def __init__(self, *, language: str = "en-us", keyphrases: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        if language != "en-us":
            raise ValueError(f"pocketsphinx ships only the en-us model, not {language!r}")
        self._language = language
        self._phrases = self._usable(keyphrases)

    @staticmethod
    def _usable(keyphrases) -> tuple[str, ...]:
        phrases = [p for p in (normalise_phrase(k) for k in keyphrases) if p]
        if not phrases:
            return ()
        known = POOL.known_words({w for p in phrases for w in p.split()})
        usable = []
        for phrase in phrases:
            missing = [w for w in phrase.split() if w not in known]
            if missing:
                log.warning("pocketsphinx: keyphrase %r dropped, not in the dictionary: %s", phrase, ", ".join(missing))
            elif phrase not in usable:
                usable.append(phrase)
        return tuple(usable)

    @property
    def model(self) -> str:
        return "en-us-grammar" if self._phrases else "en-us"

    @property
    def provider(self) -> str:
        return "pocketsphinx"

    @property
    def keyphrases(self) -> tuple[str, ...]:
        return self._phrases

    def _decode(self, pcm: bytes) -> str:
        decoder = POOL.acquire(self._phrases)
        try:
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
            return hyp.hypstr.strip() if hyp is not None else ""
        finally:
            POOL.release(self._phrases, decoder)

    async def _recognize_impl(
        self, buffer: utils.AudioBuffer, *, language: NotGivenOr[str] = NOT_GIVEN, conn_options: APIConnectOptions
    ) -> stt.SpeechEvent:
        pcm = to_mono_16k(buffer)
        try:
            text = await asyncio.to_thread(self._decode, pcm) if pcm else ""
        except Exception as exc:  # a broken model install, not a transient fault
            raise APIConnectionError(f"pocketsphinx failed: {exc}", retryable=False) from exc
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=utils.shortuuid("ps_"),
            alternatives=[stt.SpeechData(language=LanguageCode("en"), text=text)],
        )


def to_mono_16k(buffer: utils.AudioBuffer) -> bytes:
    frame = rtc.combine_audio_frames(buffer) if isinstance(buffer, list) else buffer
    if frame.samples_per_channel == 0:
        return b""
    if frame.sample_rate != SAMPLE_RATE:
        resampler = rtc.AudioResampler(frame.sample_rate, SAMPLE_RATE, num_channels=frame.num_channels)
        frames = resampler.push(frame) + resampler.flush()
        frame = rtc.combine_audio_frames(frames) if frames else frame
    samples = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels > 1:
        samples = samples.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
    return samples.tobytes()
