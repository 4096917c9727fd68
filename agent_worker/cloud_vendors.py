"""Worker factories of the vendors defined in `switchboard.pipeline.vendors` (Anthropic, Groq,
OpenRouter, Azure, Google), each through its official livekit plugin. They register themselves
in `agent_worker.vendors.FACTORIES` (imported there), so `chains.build_chains` knows them.

Every HTTP client a plugin is given is the egress policy's (a tenant sets the URLs). Google Cloud
Speech's gRPC endpoint and the Azure Speech SDK's WebSocket endpoint are checked by the same
policy when the chain is built (their own transports connect)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anthropic as anthropic_sdk
import httpx2
import openai as openai_sdk
from google import genai
from google.genai import types as genai_types
from livekit.agents import llm, stt, tts
from livekit.plugins import anthropic, azure, google, groq, openai

from agent_worker.azure_speech import AzureSTT
from agent_worker.failover import ErrorHeaders
from agent_worker.google_cloud import GoogleSTT, GoogleTTS
from agent_worker.vendors import (
    FACTORIES,
    BuildContext,
    VendorUnavailable,
    _api_key,
    _base_url,
    _egress_http_client,
    _given,
    _openai_client,
    _owns,
)
from switchboard import egress, egress_httpx2
from switchboard.pipeline.config import VendorSettings
from switchboard.pipeline.vendors.groq import GROQ_URL
from switchboard.pipeline.vendors.openrouter import OPENROUTER_URL


def _checked(v: VendorSettings, field: str, schemes: tuple[str, ...] = ("https",)) -> str | None:
    """A URL of the vendor's config, refused unless the egress policy allows it."""
    url = v.config.get(field) or None
    if url is not None:
        try:
            egress.check_url(str(url), what=field, schemes=schemes)
        except egress.EgressRefused as exc:
            raise VendorUnavailable(str(exc)) from None
    return url


# --- LLMs -------------------------------------------------------------------------------------
def anthropic_llm(v: VendorSettings, ctx: BuildContext) -> llm.LLM:
    c = v.config
    # The Anthropic SDK takes only httpx2 clients: the same egress policy on httpx2.
    memo = ErrorHeaders()
    http_client = egress_httpx2.client(timeout=httpx2.Timeout(connect=egress.CONNECT_TIMEOUT_SECONDS, read=5.0, write=5.0,
                                                              pool=5.0), what="base_url", event_hooks={"response": [memo.hook]})
    key = _api_key(v)
    client = anthropic_sdk.AsyncClient(api_key=key, base_url=_base_url(v), max_retries=0, http_client=http_client)
    instance = anthropic.LLM(model=c.get("model") or "claude-haiku-4-5", api_key=key, client=client,
                             temperature=_given(c.get("temperature")), max_tokens=_given(c.get("max_tokens")))
    return memo.attach(_closes_client(instance, client))


def _chat_llm(v: VendorSettings, plugin: type[openai.LLM], default_base_url: str, default_model: str) -> llm.LLM:
    """An OpenAI-compatible chat-completions vendor (Groq, OpenRouter) through its plugin."""
    c = v.config
    memo = ErrorHeaders()
    client = _openai_client(v, default_base_url, memo)
    return memo.attach(_owns(plugin(
        model=c.get("model") or default_model, api_key=_api_key(v), client=client,
        temperature=_given(c.get("temperature")), max_completion_tokens=_given(c.get("max_tokens")),
    ), client))


def groq_llm(v: VendorSettings, ctx: BuildContext) -> llm.LLM:
    return _chat_llm(v, groq.LLM, GROQ_URL, "llama-3.3-70b-versatile")


def openrouter_llm(v: VendorSettings, ctx: BuildContext) -> llm.LLM:
    # OpenRouter documents itself as an OpenAI-compatible base URL: the OpenAI plugin as it is.
    return _chat_llm(v, openai.LLM, OPENROUTER_URL, "openai/gpt-4o-mini")


def azure_openai_llm(v: VendorSettings, ctx: BuildContext) -> llm.LLM:
    """The client `openai.LLM.with_azure` would build, given the egress policy's HTTP client."""
    c = v.config
    endpoint = _checked(v, "endpoint")
    if not endpoint or not c.get("deployment"):
        raise VendorUnavailable("Azure OpenAI needs the resource endpoint and the deployment name")
    memo = ErrorHeaders()
    client = openai_sdk.AsyncAzureOpenAI(
        api_key=_api_key(v), azure_endpoint=endpoint, azure_deployment=c["deployment"],
        api_version=c.get("api_version") or "2024-10-21", max_retries=0, http_client=_egress_http_client(memo),
    )
    return memo.attach(_owns(openai.LLM(
        model=c.get("model") or "gpt-4o-mini", client=client,
        temperature=_given(c.get("temperature")), max_completion_tokens=_given(c.get("max_tokens")),
    ), client))


def google_llm(v: VendorSettings, ctx: BuildContext) -> llm.LLM:
    c = v.config
    key = _api_key(v)
    instance = google.LLM(
        model=c.get("model") or "gemini-2.5-flash", api_key=key, vertexai=False,
        temperature=_given(c.get("temperature")), max_output_tokens=_given(c.get("max_tokens")),
    )
    # The plugin's per-request http_options are deep-copied by the SDK (a client in them cannot
    # be), so the policy's HTTP client and the base URL go to the SDK client the plugin holds.
    memo = ErrorHeaders()
    http_client = _egress_http_client(memo)
    options = genai_types.HttpOptions(httpx_async_client=http_client)
    if base_url := _base_url(v):
        options.base_url = base_url
    instance._client = genai.Client(api_key=key, vertexai=False, http_options=options)
    return memo.attach(_closes_client(instance, http_client))


# --- STT ----------------------------------------------------------------------------------------
def groq_stt(v: VendorSettings, ctx: BuildContext) -> stt.STT:
    c = v.config
    memo = ErrorHeaders()
    client = _openai_client(v, GROQ_URL, memo)
    return memo.attach(_owns(groq.STT(model=c.get("model") or "whisper-large-v3-turbo", language=c.get("language") or "en",
                                      api_key=_api_key(v), client=client), client))


def _service_account(v: VendorSettings) -> dict[str, Any]:
    raw = v.config.get("credentials_json")
    if not raw:
        raise VendorUnavailable("no service account: store the organisation's Google Cloud service account key")
    try:
        info = json.loads(raw)
    except ValueError:
        raise VendorUnavailable("the stored Google Cloud service account key is not JSON") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise VendorUnavailable("the stored Google Cloud key is not a service account key")
    return info


def _grpc_endpoint(v: VendorSettings) -> str | None:
    """The organisation's gRPC endpoint (host[:port]), checked as the https URL it stands for."""
    endpoint = v.config.get("endpoint") or None
    if endpoint is not None:
        try:
            egress.check_url(f"https://{endpoint}", what="endpoint")
        except egress.EgressRefused as exc:
            raise VendorUnavailable(str(exc)) from None
    return endpoint


def google_stt(v: VendorSettings, ctx: BuildContext) -> stt.STT:
    c = v.config
    return GoogleSTT(
        languages=c.get("language") or "en-US", detect_language=False, interim_results=False,
        model=c.get("model") or "latest_long", location=c.get("location") or "global",
        credentials_info=_service_account(v), endpoint=_grpc_endpoint(v),
    )


def azure_stt(v: VendorSettings, ctx: BuildContext) -> stt.STT:
    c = v.config
    endpoint = _checked(v, "endpoint", schemes=("wss", "https"))  # the SDK's WebSocket endpoint
    where: dict[str, Any] = {"speech_endpoint": endpoint} if endpoint else {"speech_region": c.get("region") or "eastus"}
    return AzureSTT(speech_key=_api_key(v), language=c.get("language") or "en-US", **where)


# --- TTS ----------------------------------------------------------------------------------------
def google_tts(v: VendorSettings, ctx: BuildContext) -> tts.TTS:
    c = v.config
    return GoogleTTS(
        voice_name=c.get("voice") or "en-US-Chirp3-HD-Charon", language=c.get("language") or "en-US",
        speaking_rate=float(c.get("speed") or 1.0), location=c.get("location") or "global",
        credentials_info=_service_account(v), use_streaming=False, endpoint=_grpc_endpoint(v),
    )


def azure_tts(v: VendorSettings, ctx: BuildContext) -> tts.TTS:
    c = v.config
    endpoint = _checked(v, "endpoint")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise VendorUnavailable("Azure TTS is served only inside the worker's event loop") from None
    # The plugin's aiohttp session is the egress policy's (pinned resolver, every hop checked).
    memo = ErrorHeaders()  # the plugin's errors drop the 429's Retry-After and body
    session = egress.aiohttp_session(what="endpoint", middlewares=(memo.middleware,))
    where: dict[str, Any] = {"speech_endpoint": endpoint} if endpoint else {"speech_region": c.get("region") or "eastus"}
    instance = azure.TTS(
        voice=c.get("voice") or "en-US-JennyNeural", language=c.get("language") or None,
        deployment_id=c.get("deployment_id") or None, speech_key=_api_key(v), http_session=session, **where,
    )
    return memo.attach(_closes_client(instance, session))


def _closes_client(instance, client):
    """Close the HTTP client (httpx, aiohttp or an SDK's) we gave the plugin when it is closed."""
    original = instance.aclose

    async def aclose() -> None:
        try:
            await original()
        finally:
            closer = getattr(client, "aclose", None) or client.close
            await closer()

    instance.aclose = aclose
    return instance


FACTORIES.update({
    "anthropic-llm": anthropic_llm,
    "groq-llm": groq_llm,
    "groq-stt": groq_stt,
    "openrouter-llm": openrouter_llm,
    "azure-openai-llm": azure_openai_llm,
    "google-llm": google_llm,
    "google-stt": google_stt,
    "google-tts": google_tts,
    "azure-stt": azure_stt,
    "azure-tts": azure_tts,
})
