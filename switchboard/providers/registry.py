"""Platform code → provider class: one line per platform. Classes are imported on first use, so
asking for one platform never loads the others' SDKs."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from switchboard.providers.base import ProviderCredentials, Voice, VoiceAIProvider, VoiceSpec
from switchboard.providers.resilience import RetryPolicy

PROVIDERS: dict[str, str] = {
    "retell": "switchboard.providers.retell:RetellProvider",
    "vapi": "switchboard.providers.vapi:VapiProvider",
    "signalwire": "switchboard.providers.signalwire:SignalWireProvider",
    "livekit": "switchboard.providers.livekit:LiveKitProvider",
}


class UnknownProvider(KeyError):
    """No platform with this code."""


def _entry(code: str) -> tuple[str, str]:
    try:
        module, _, name = PROVIDERS[code].partition(":")
    except KeyError:
        raise UnknownProvider(f"unknown voice-AI platform {code!r}; known: {', '.join(sorted(PROVIDERS))}") from None
    return module, name


def provider_class(code: str) -> type[VoiceAIProvider]:
    module, name = _entry(code)
    return getattr(import_module(module), name)


def get_provider(
    code: str,
    credentials: ProviderCredentials | None = None,
    *,
    prices: Any = None,
    retry: RetryPolicy | None = None,
    **options: Any,
) -> VoiceAIProvider:
    """An adapter for platform `code`. `credentials`: the organisation's decrypted values; fields
    it lacks are taken from the settings defaults (RETELL_API_KEY, …). `prices`: a
    `switchboard.billing.PriceBook` for platforms whose costs we compute."""
    cls = provider_class(code)
    creds = with_defaults(code, credentials or ProviderCredentials())
    return cls(creds, prices=prices, retry=retry, **options)


def with_defaults(code: str, credentials: ProviderCredentials) -> ProviderCredentials:
    """Fill what the organisation did not set from the settings (an organisation's own key wins)."""
    from switchboard.settings import get_settings

    s = get_settings()
    secret = lambda v: v.get_secret_value() if v is not None else None  # noqa: E731
    defaults: dict[str, str | None]
    base_url: str | None
    if code == "retell":
        defaults, base_url = {"api_key": secret(s.retell_api_key)}, s.retell_base_url
    elif code == "vapi":
        defaults, base_url = {"api_key": secret(s.vapi_api_key)}, s.vapi_base_url
    elif code == "signalwire":
        defaults = {
            "project_id": s.signalwire_project_id,
            "api_token": secret(s.signalwire_api_token),
            "space_url": s.signalwire_space_url,
            "signing_key": secret(s.signalwire_signing_key),
        }
        base_url = None
    elif code == "livekit":
        defaults = {
            "url": s.livekit_url,
            "api_key": s.livekit_api_key,
            "api_secret": secret(s.livekit_api_secret),
            "sip_host": s.livekit_sip_host,
        }
        base_url = None
    else:
        defaults, base_url = {}, None
    values = {k: v for k, v in defaults.items() if v}
    values.update({k: v for k, v in credentials.values.items() if v})
    return credentials.model_copy(update={"values": values, "base_url": credentials.base_url or base_url})


def preset_voices(code: str) -> list[Voice]:
    """The platform's offline preset voices (its `voices.PRESET_VOICES`, the list `list_voices()`
    answers without a key): what a voice selector offers before any credentials exist."""
    module, _ = _entry(code)
    return list(import_module(f"{module}.voices").PRESET_VOICES)


def preset_voice_spec(voice: Voice) -> VoiceSpec:
    """A preset as the canonical voice: presets carry their vendor in the id ("openai:alloy",
    SignalWire's "openai.alloy"); the spec keeps the vendor's own id, which each platform's
    compiler prefixes again as it needs. Retell ids ("11labs-Adrian") pass through."""
    vendor = voice.vendor or "openai"
    vid = voice.id
    for sep in (":", "."):
        if vid.startswith(vendor + sep):
            vid = vid[len(vendor) + 1:]
            break
    return VoiceSpec(vendor=vendor, voice_id=vid, custom=False)
