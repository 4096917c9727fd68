"""One factory per catalog vendor (switchboard.pipeline.catalog): resolved vendor settings → the
livekit plugin instance. Adding a vendor = one catalog entry + one line in FACTORIES.

Factories build the bare vendor; `chains.build_chains` wraps it with its attempt timeout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livekit.agents import llm, stt, tts
from livekit.agents.types import NOT_GIVEN
from livekit.agents.vad import VAD
from livekit.plugins import cartesia, openai

from agent_worker.offline import ESpeakTTS, LocalLLM, PocketSphinxSTT
from switchboard.pipeline.config import VendorSettings
from switchboard.providers.base import AgentSpec


class VendorUnavailable(Exception):
    """This vendor cannot serve this organisation now (e.g. no API key stored)."""


@dataclass
class BuildContext:
    agent: AgentSpec
    vad: VAD


Vendor = stt.STT | llm.LLM | tts.TTS
Factory = Callable[[VendorSettings, BuildContext], Vendor]


def _api_key(v: VendorSettings) -> str:
    key = v.config.get("api_key")
    if not key:
        raise VendorUnavailable(
            f"no API key: store the organisation's {v.vendor} key (switchboard secrets) or set the "
            f"operator default ({v.vendor.upper()}_API_KEY)"
        )
    return str(key)


def _given(value: Any) -> Any:
    return NOT_GIVEN if value in (None, "") else value


def openai_stt(v: VendorSettings, ctx: BuildContext) -> stt.STT:
    c = v.config
    # Batch transcription (one request per utterance): the session adapts it with the VAD, and a
    # failed utterance is retried whole on the next vendor.
    return openai.STT(
        model=c.get("model") or "gpt-4o-mini-transcribe", language=c.get("language") or "en",
        base_url=_given(c.get("base_url")), api_key=_api_key(v), use_realtime=False,
    )


def openai_llm(v: VendorSettings, ctx: BuildContext) -> llm.LLM:
    c = v.config
    return openai.LLM(
        model=c.get("model") or "gpt-4o-mini", api_key=_api_key(v), base_url=_given(c.get("base_url")),
        temperature=_given(c.get("temperature")), max_completion_tokens=_given(c.get("max_tokens")),
        max_retries=0,
    )


def openai_tts(v: VendorSettings, ctx: BuildContext) -> tts.TTS:
    c = v.config
    return openai.TTS(
        model=c.get("model") or "gpt-4o-mini-tts", voice=c.get("voice") or "alloy", speed=float(c.get("speed") or 1.0),
        base_url=_given(c.get("base_url")), api_key=_api_key(v),
    )


def cartesia_tts(v: VendorSettings, ctx: BuildContext) -> tts.TTS:
    c = v.config
    # `voice` is any Cartesia voice id: a preset, or the organisation's custom/cloned voice.
    kwargs: dict[str, Any] = {}
    if c.get("base_url"):
        kwargs["base_url"] = c["base_url"]
    speed = c.get("speed")
    if speed not in (None, 1, 1.0):  # 1.0 is the voice's own pace; only send a real change
        kwargs["speed"] = speed
    return cartesia.TTS(
        api_key=_api_key(v), model=c.get("model") or "sonic-2", voice=c["voice"], language=c.get("language") or "en",
        **kwargs,
    )


def pocketsphinx_stt(v: VendorSettings, ctx: BuildContext) -> stt.STT:
    c = v.config
    return PocketSphinxSTT(language=c.get("language") or "en-us", keyphrases=c.get("keyphrases") or [])


def espeak_tts(v: VendorSettings, ctx: BuildContext) -> tts.TTS:
    c = v.config
    return ESpeakTTS(voice=c.get("voice") or "en-us", rate=int(c.get("rate") or 175))


def local_llm(v: VendorSettings, ctx: BuildContext) -> llm.LLM:
    return LocalLLM(begin_message=ctx.agent.begin_message, fallback_reply=v.config.get("fallback_reply") or "")


FACTORIES: dict[str, Factory] = {
    "openai-stt": openai_stt,
    "pocketsphinx-stt": pocketsphinx_stt,
    "openai-llm": openai_llm,
    "local-llm": local_llm,
    "openai-tts": openai_tts,
    "cartesia-tts": cartesia_tts,
    "espeak-tts": espeak_tts,
}
