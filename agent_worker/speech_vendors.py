"""Factories of the speech vendors of `switchboard.pipeline.catalog_speech`: Deepgram, ElevenLabs
and AssemblyAI through their official livekit plugins, and the organisation's own servers
(an OpenAI-compatible Whisper through the OpenAI plugin, Vosk and Piper in agent_worker.selfhosted).

Every URL an organisation sets is checked by the egress policy, and the plugin then talks through
the policy's aiohttp session (pinned resolver, every hop checked), closed with the plugin. The
cloud vendors' own URLs (no base_url set) are the plugins' defaults, over the job's HTTP session.
Streaming STT plugins are heard one utterance at a time (agent_worker.bounded), so they fail
over per utterance like the batch ones; TTS plugins synthesise sentence by sentence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import aiohttp
import httpx
import openai as openai_sdk
from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, APIStatusError, stt, tts
from livekit.agents.types import NOT_GIVEN
from livekit.plugins import assemblyai, deepgram, elevenlabs, openai

from agent_worker.bounded import UTTERANCE_END_SILENCE_MS
from agent_worker.failover import ErrorHeaders
from agent_worker.selfhosted import PiperTTS, VoskSTT
from agent_worker.vendors import FACTORIES, BuildContext, VendorUnavailable, _api_key, _closes_with, _egress_session, _owns
from switchboard import egress
from switchboard.pipeline.config import VendorSettings

# What a self-hosted OpenAI-compatible server is given when the organisation stored no key: the
# openai SDK always sends one, and servers that check none ignore it.
NO_KEY = "no-key"
T = TypeVar("T")


def _checked(v: VendorSettings, field: str, *, schemes: tuple[str, ...] = ("https",)) -> str | None:
    url = v.config.get(field) or None
    if url is None:
        return None
    try:
        return egress.check_url(str(url), what=field, schemes=schemes).rstrip("/")
    except egress.EgressRefused as exc:
        raise VendorUnavailable(str(exc)) from None


def _cloud(v: VendorSettings, path: str, memo: ErrorHeaders, *,
           own_session: bool) -> tuple[dict[str, Any], aiohttp.ClientSession | None]:
    """The plugin's base_url/http_session arguments for a tenant-set API root (none: the vendor's);
    `memo` keeps the session's error responses (the plugins drop their bodies and headers).
    `own_session`: the vendor's own host too is reached through a session of ours, where its
    quota refusal is told only by the body (ElevenLabs' 401 `quota_exceeded`)."""
    root = _checked(v, "base_url")
    if root is None and not own_session:
        return {}, None
    session = _egress_session(v, middlewares=(memo.middleware,))
    return ({"http_session": session} if root is None else {"base_url": root + path, "http_session": session}), session


def _plugin(v: VendorSettings, path: str, plugin: Callable[..., T], *, own_session: bool = False, **arguments: Any) -> T:
    """`plugin(api_key=…, **arguments)` for a cloud vendor, at the tenant-set API root + `path`
    when one is set (its egress session closed with the plugin), else at the vendor's own."""
    key = _api_key(v)
    memo = ErrorHeaders()
    kwargs, session = _cloud(v, path, memo, own_session=own_session)
    return memo.attach(_closes_with(plugin(api_key=key, **arguments, **kwargs), session))


def _speed(c: dict[str, Any]) -> float | None:
    """The speed set, None where it is the voice's own (1)."""
    speed = c.get("speed")
    return None if speed in (None, 1, 1.0) else float(speed)


def deepgram_stt(v: VendorSettings, ctx: BuildContext) -> stt.STT:
    c = v.config
    return _plugin(
        v, "/v1/listen", deepgram.STT, model=c.get("model") or "nova-3", language=c.get("language") or "en-US",
        # One utterance per stream: the VAD already cut it, so no interim results, no server VAD events.
        interim_results=False, vad_events=False, endpointing_ms=UTTERANCE_END_SILENCE_MS,
        smart_format=bool(c.get("smart_format")), keyterm=c.get("keyterms") or NOT_GIVEN,
    )


def deepgram_tts(v: VendorSettings, ctx: BuildContext) -> tts.TTS:
    c = v.config
    return _plugin(v, "/v1/speak", deepgram.TTS, model=c.get("voice") or "aura-2-thalia-en", speed=_speed(c))


def elevenlabs_tts(v: VendorSettings, ctx: BuildContext) -> tts.TTS:
    c = v.config
    speed = _speed(c)
    settings = {} if speed is None else {  # ElevenLabs' own defaults for the other two settings
        "voice_settings": elevenlabs.VoiceSettings(stability=0.5, similarity_boost=0.75, speed=speed)}
    return _plugin(v, "/v1", elevenlabs.TTS, own_session=True, voice_id=c["voice"], model=c.get("model") or "eleven_flash_v2_5",
                   language=c.get("language") or NOT_GIVEN, encoding="pcm_24000", **settings)


class _AssemblyAIStream(assemblyai.stt.SpeechStream):
    """AssemblyAI refuses a session (4001 auth, 4002 insufficient funds, 4003 paid-only feature) by
    closing the socket after the upgrade. An utterance is sent whole, so the plugin has usually
    sent its Terminate before that close arrives and takes it for the expected end (an empty
    transcript, no error): an application close code (4000+) is raised as the session's failure."""

    async def _connect_ws(self):
        self._switchboard_ws = await super()._connect_ws()
        return self._switchboard_ws

    async def _run(self) -> None:
        await super()._run()
        code = getattr(getattr(self, "_switchboard_ws", None), "close_code", None)
        if code is not None and code >= 4000:
            raise APIStatusError("AssemblyAI closed the session", status_code=code, retryable=False)


class _AssemblyAISTT(assemblyai.STT):
    def stream(self, *, language=NOT_GIVEN, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS):
        stream = _AssemblyAIStream(stt=self, conn_options=conn_options, opts=dataclasses.replace(self._opts),
                                   api_key=self._api_key, http_session=self.session, base_url=self._base_url)
        self._streams.add(stream)
        return stream


def assemblyai_stt(v: VendorSettings, ctx: BuildContext) -> stt.STT:
    c = v.config
    key = _api_key(v)
    root = _checked(v, "base_url", schemes=("https", "wss"))
    kwargs: dict[str, Any] = {}
    session = None
    if root is not None:
        session = kwargs["http_session"] = _egress_session(v)
        kwargs["base_url"] = root.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    instance = _AssemblyAISTT(
        api_key=key, model=c.get("model") or "universal-streaming-english",
        keyterms_prompt=c.get("keyterms") or NOT_GIVEN, min_turn_silence=UTTERANCE_END_SILENCE_MS, **kwargs,
    )
    return _closes_with(instance, session)


def whisper_stt(v: VendorSettings, ctx: BuildContext) -> stt.STT:
    c = v.config
    url = _checked(v, "url")
    if url is None:
        raise VendorUnavailable("no server URL: set the Whisper server's URL (…/v1)")
    client = openai_sdk.AsyncClient(
        api_key=str(c.get("api_key") or NO_KEY), base_url=url, max_retries=0,
        http_client=egress.client(timeout=httpx.Timeout(connect=egress.CONNECT_TIMEOUT_SECONDS, read=10.0, write=5.0, pool=5.0),
                                  what="url"),
    )
    return _owns(openai.STT(
        model=c.get("model") or "Systran/faster-whisper-small", language=c.get("language") or "en",
        client=client, use_realtime=False,
    ), client)


def vosk_stt(v: VendorSettings, ctx: BuildContext) -> stt.STT:
    url = _checked(v, "url", schemes=("wss",))
    if url is None:
        raise VendorUnavailable("no server URL: set the Vosk server's WebSocket URL (ws://host:2700)")
    return VoskSTT(url=url, sample_rate=int(v.config.get("sample_rate") or 16000))


def piper_tts(v: VendorSettings, ctx: BuildContext) -> tts.TTS:
    c = v.config
    url = _checked(v, "url")
    if url is None:
        raise VendorUnavailable("no server URL: set the Piper server's URL")
    return PiperTTS(url=url, voice=c.get("voice") or None, speaker_id=c.get("speaker_id"),
                    length_scale=c.get("length_scale"))


SPEECH_FACTORIES = {
    "deepgram-stt": deepgram_stt,
    "deepgram-tts": deepgram_tts,
    "elevenlabs-tts": elevenlabs_tts,
    "assemblyai-stt": assemblyai_stt,
    "whisper-stt": whisper_stt,
    "vosk-stt": vosk_stt,
    "piper-tts": piper_tts,
}

FACTORIES.update(SPEECH_FACTORIES)
