"""One factory per catalog vendor (switchboard.pipeline.catalog): resolved vendor settings → the
livekit plugin instance. Adding a vendor = one catalog entry + one line in FACTORIES.

Factories build the bare vendor; `chains.build_chains` wraps it with its attempt timeout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncio
import importlib

import httpx
import openai as openai_sdk
from livekit.agents import llm, stt, tts
from livekit.agents.types import NOT_GIVEN
from livekit.agents.vad import VAD
from livekit.plugins import cartesia, openai

from agent_worker.failover import ErrorHeaders
from agent_worker.offline import ESpeakTTS, LocalLLM, PocketSphinxSTT
from switchboard import egress
from switchboard.pipeline.config import VendorSettings
from switchboard.spec import AgentSpec


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
    if v.credential_source == "environment" and _base_url(v) != _operator_base_url(v.vendor):
        # The pipeline loader already skips these; a second lock on the same door.
        raise VendorUnavailable("a custom base_url needs the organisation's own key (the operator's key goes only to the operator's URL)")
    return str(key)


def _operator_base_url(vendor: str) -> str | None:
    from switchboard.settings import get_settings

    return (get_settings().openai_base_url or None) if vendor == "openai" else None


def _base_url(v: VendorSettings) -> str | None:
    """The vendor's base URL (None: the SDK's own), refused unless the egress policy allows it."""
    url = v.config.get("base_url") or None
    if url is not None:
        try:
            egress.check_url(str(url), what="base_url")
        except egress.EgressRefused as exc:
            raise VendorUnavailable(str(exc)) from None
    return url


def _egress_http_client(memo: ErrorHeaders | None = None) -> httpx.AsyncClient:
    """The httpx client vendor SDKs are given: the egress policy's (pinned to checked addresses,
    no redirects, bounded timeouts); `memo` keeps its error responses' headers (quota resets)."""
    hooks = {"response": [memo.hook]} if memo is not None else {}
    return egress.client(timeout=httpx.Timeout(connect=egress.CONNECT_TIMEOUT_SECONDS, read=5.0, write=5.0, pool=5.0),
                         what="base_url", event_hooks=hooks)


def _openai_client(v: VendorSettings, default_base_url: str | None = None, memo: ErrorHeaders | None = None
                   ) -> openai_sdk.AsyncClient:
    """The openai SDK client the plugin is given (`default_base_url`: an OpenAI-compatible
    vendor's own URL, used when the organisation set none)."""
    return openai_sdk.AsyncClient(
        api_key=_api_key(v), base_url=_base_url(v) or default_base_url, max_retries=0, http_client=_egress_http_client(memo),
    )


def _owns(instance, client: openai_sdk.AsyncClient):
    """The plugin closes the client we gave it when it is closed itself (the LLM and TTS know
    `_owns_client`; the STT closes no client, so its aclose is extended)."""
    if hasattr(instance, "_owns_client"):
        instance._owns_client = True
        return instance
    return _closes_with(instance, client)


def _given(value: Any) -> Any:
    return NOT_GIVEN if value in (None, "") else value


def openai_stt(v: VendorSettings, ctx: BuildContext) -> stt.STT:
    c = v.config
    # Batch transcription (one request per utterance): the session adapts it with the VAD, and a
    # failed utterance is retried whole on the next vendor.
    client = _openai_client(v)
    return _owns(openai.STT(
        model=c.get("model") or "gpt-4o-mini-transcribe", language=c.get("language") or "en",
        client=client, use_realtime=False,
    ), client)


def openai_llm(v: VendorSettings, ctx: BuildContext) -> llm.LLM:
    c = v.config
    client = _openai_client(v)
    return _owns(openai.LLM(
        model=c.get("model") or "gpt-4o-mini", client=client,
        temperature=_given(c.get("temperature")), max_completion_tokens=_given(c.get("max_tokens")),
    ), client)


def openai_tts(v: VendorSettings, ctx: BuildContext) -> tts.TTS:
    c = v.config
    client = _openai_client(v)
    return _owns(openai.TTS(
        model=c.get("model") or "gpt-4o-mini-tts", voice=c.get("voice") or "alloy", speed=float(c.get("speed") or 1.0),
        client=client,
    ), client)


def cartesia_tts(v: VendorSettings, ctx: BuildContext) -> tts.TTS:
    c = v.config
    # `voice` is any Cartesia voice id: a preset, or the organisation's custom/cloned voice.
    kwargs: dict[str, Any] = {}
    key = _api_key(v)
    session = None
    if c.get("base_url"):
        # The catalog's schema offers no base_url for Cartesia (only a stored config could hold
        # one): checked by the policy, and spoken to through the policy's aiohttp session
        # (pinned resolver, every hop checked), which the plugin never closes itself.
        kwargs["base_url"] = _base_url(v)
        session = kwargs["http_session"] = _egress_session(v)
    speed = c.get("speed")
    if speed not in (None, 1, 1.0):  # 1.0 is the voice's own pace; only send a real change
        kwargs["speed"] = speed
    instance = cartesia.TTS(
        api_key=key, model=c.get("model") or "sonic-2", voice=c["voice"], language=c.get("language") or "en",
        **kwargs,
    )
    return _closes_with(instance, session)


def _egress_session(v: VendorSettings, middlewares: tuple = ()):
    """The egress policy's aiohttp session for a tenant-set URL (made in the job's event loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise VendorUnavailable(f"{v.vendor} through our HTTP session is served only inside the worker's event loop") from None
    return egress.aiohttp_session(what="base_url", middlewares=middlewares)


def _closes_with(instance, resource):
    """A plugin closes no aiohttp session (nor, for some, openai client) it was given: `resource`
    is closed when the plugin is (None: nothing to close)."""
    if resource is None:
        return instance
    original = instance.aclose

    async def aclose() -> None:
        try:
            await original()
        finally:
            await resource.close()

    instance.aclose = aclose
    return instance


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

# Vendors with a module of their own use the helpers above and add their factories to FACTORIES
# when imported: the speech vendors (Deepgram, ElevenLabs, AssemblyAI, your own servers) and the
# cloud LLM and speech vendors (Anthropic, Groq, OpenRouter, Azure, Google).
importlib.import_module("agent_worker.speech_vendors")
importlib.import_module("agent_worker.cloud_vendors")
