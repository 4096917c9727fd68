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


# The credential fields that name where a platform is reached; an organisation that sets one
# to anything but the operator's value must bring its own keys (no operator default follows it).
URL_FIELDS: dict[str, tuple[str, ...]] = {"retell": ("base_url",), "vapi": ("base_url",),
                                          "signalwire": ("space_url", "base_url"), "livekit": ("url", "base_url")}
BYO_KEY = "bring your own key to use a custom base URL"


def _same_url(a: str | None, b: str | None) -> bool:
    def norm(u: str | None) -> str:
        u = (u or "").strip().rstrip("/").lower()
        return u if "://" in u or not u else "https://" + u
    return norm(a) == norm(b)


def with_defaults(code: str, credentials: ProviderCredentials) -> ProviderCredentials:
    """Fill what the organisation did not set from the settings (an organisation's own key wins).

    The operator's credentials are used only with the operator's URLs: when the organisation
    names its own base URL (space_url, url), none of the operator's values are filled in, and
    without keys of its own the platform is refused ("bring your own key to use a custom base
    URL"). An organisation's URL must also pass the egress policy (https, public host)."""
    from switchboard import egress
    from switchboard.providers.base import ProviderRejected
    from switchboard.settings import get_settings

    s = get_settings()
    secret = lambda v: v.get_secret_value() if v is not None else None  # noqa: E731
    defaults: dict[str, str | None]
    base_url: str | None
    if code == "retell":
        defaults, base_url = {"api_key": secret(s.retell_api_key)}, s.retell_base_url
    elif code == "vapi":
        defaults, base_url = {"api_key": secret(s.vapi_api_key), "public_key": s.vapi_public_key}, s.vapi_base_url
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
    own = {k: v for k, v in credentials.values.items() if v}
    operator_urls = {"base_url": base_url, **{k: defaults.get(k) for k in ("space_url", "url")}}
    tenant_urls = {"base_url": credentials.base_url or own.get("base_url"), "space_url": own.get("space_url"), "url": own.get("url")}
    custom = [f for f in URL_FIELDS.get(code, ()) if tenant_urls.get(f) and not _same_url(tenant_urls[f], operator_urls.get(f))]
    if custom:
        for f in custom:
            try:
                url = tenant_urls[f]
                egress.check_url(url if "://" in url else "https://" + url, what=f,
                                 schemes=("https", "wss") if code == "livekit" else ("https",))
            except egress.EgressRefused as exc:
                raise ProviderRejected(code, str(exc)) from None
        secret_fields = [k for k in defaults if k not in ("space_url", "url", "sip_host")]
        if not any(own.get(k) for k in secret_fields):
            raise ProviderRejected(code, BYO_KEY)
        # Nothing of the operator's follows an organisation's URL.
        return credentials.model_copy(update={"values": own, "base_url": tenant_urls["base_url"]})
    values = {k: v for k, v in defaults.items() if v}
    values.update(own)
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
