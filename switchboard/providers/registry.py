"""The platforms: one line per platform, naming the folder's descriptor module (`platform.py`,
a `PlatformDescriptor` that imports no SDK). Every platform list, label, credentials schema and
settings default elsewhere is derived from here; adapter classes are imported on first use, so
asking for one platform never loads the others' SDKs.

Adding a platform: a folder `switchboard/providers/<code>/` (its `platform.py` and adapter), one
line below, and a migration seeding its `voice_ai_providers` row and prices (README.md)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from switchboard.providers.base import ProviderCredentials, VoiceAIProvider
from switchboard.providers.descriptor import PlatformDescriptor, PlatformSettings
from switchboard.providers.resilience import RetryPolicy
from switchboard.spec import Voice, VoiceSpec
from switchboard.errors import NotFound

PLATFORMS: dict[str, str] = {
    "retell": "switchboard.providers.retell.platform",
    "vapi": "switchboard.providers.vapi.platform",
    "signalwire": "switchboard.providers.signalwire.platform",
    "livekit": "switchboard.providers.livekit.platform",
}


class UnknownProvider(NotFound, KeyError):
    """No platform with this code."""


def codes() -> tuple[str, ...]:
    """Every platform's code, in the registry's order."""
    return tuple(PLATFORMS)


def descriptor(code: str) -> PlatformDescriptor:
    try:
        module = PLATFORMS[code]
    except KeyError:
        raise UnknownProvider(f"unknown voice-AI platform {code!r}; known: {', '.join(sorted(PLATFORMS))}") from None
    return import_module(module).PLATFORM


def descriptors() -> list[PlatformDescriptor]:
    return [descriptor(code) for code in PLATFORMS]


def label(code: str) -> str:
    """The platform's display label; an unknown code as it is."""
    return descriptor(code).label if code in PLATFORMS else code


def with_role(role: str) -> list[PlatformDescriptor]:
    """The platforms that have a role module (`precall`, `inbound`) or flag (`vendor_chains`)."""
    return [d for d in descriptors() if getattr(d, role)]


def role_module(code: str, role: str) -> Any:
    """The folder's module for `role` ("precall", "inbound"); UnknownProvider when it has none."""
    name = getattr(descriptor(code), role)
    if not name:
        raise UnknownProvider(f"{code} has no {role}")
    return import_module(name)


def carrier() -> PlatformDescriptor:
    """The platform carrying our own numbers (its call requests reach the router)."""
    return with_role("inbound")[0]


def operator_settings(code: str, settings: Any = None) -> PlatformSettings:
    """The operator's defaults for platform `code` (its folder's settings class, read from the
    environment once per `Settings`); an organisation's own keys take precedence (`with_defaults`)."""
    from switchboard.settings import get_settings

    return (settings or get_settings()).section(descriptor(code).settings)


def _entry(code: str) -> tuple[str, str]:
    module, _, name = descriptor(code).adapter.partition(":")
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
    from pydantic import SecretStr

    from switchboard import egress
    from switchboard.providers.base import ProviderRejected

    platform = descriptor(code)
    operator = operator_settings(code)
    plain = lambda v: v.get_secret_value() if isinstance(v, SecretStr) else v  # noqa: E731
    defaults: dict[str, str | None] = {k: plain(getattr(operator, k)) for k in type(operator).model_fields if k != "base_url"}
    base_url: str | None = getattr(operator, "base_url", None)
    own = {k: v for k, v in credentials.values.items() if v}
    operator_urls = {"base_url": base_url, **{k: defaults.get(k) for k in ("space_url", "url")}}
    tenant_urls = {"base_url": credentials.base_url or own.get("base_url"), "space_url": own.get("space_url"), "url": own.get("url")}
    custom = [f for f in platform.url_fields if tenant_urls.get(f) and not _same_url(tenant_urls[f], operator_urls.get(f))]
    if custom:
        for f in custom:
            try:
                url = tenant_urls[f]
                egress.check_url(url if "://" in url else "https://" + url, what=f,
                                 schemes=platform.url_schemes)
            except egress.EgressRefused as exc:
                raise ProviderRejected(code, str(exc)) from None
        secret_fields = [k for k in defaults if k not in (*platform.url_fields, *platform.address_fields)]
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
    descriptor(code)  # UnknownProvider for a code that is not a platform
    folder = PLATFORMS[code].rpartition(".")[0]
    return list(import_module(f"{folder}.voices").PRESET_VOICES)


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
