"""What a platform folder tells the rest of the product about its platform, without importing
its SDK: the registry (`registry.py`) reads one `PLATFORM` descriptor from each folder's
`platform.py`, and every platform list, label, credentials schema and settings default in the
core, the API and the app is derived from these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """The operator's defaults for one platform, from the environment (or `.env`), like
    `switchboard.settings.Settings`; a platform's subclass names its variables as aliases
    (RETELL_API_KEY, …). Every field but `base_url` is a credential field of the same name."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")


@dataclass(frozen=True)
class DemoProfile:
    """How the platform looks in the demo data (`switchboard.demo`): its settings and voice on
    the demo agent, its share of the calls and their shape (assumed figures, never prices)."""

    settings: dict[str, Any]
    voice_id: str
    share: float
    median_seconds: int
    success_rate: float
    error_rate: float
    call_id_prefix: str = ""
    chain: dict[str, str] | None = None  # the STT/LLM/TTS catalog keys it runs (vendor-chain platforms)
    # Median per-call p50 in ms of the latency parts its webhooks report (spec.LATENCY_PARTS);
    # None: the platform reports no latency, so its demo calls have none either.
    latency_ms: dict[str, float] | None = None


@dataclass(frozen=True)
class PlatformDescriptor:
    code: str
    label: str  # on pages and in the API ("Retell AI")
    short_label: str  # inside sentences ("Retell is better")
    adapter: str  # "module:Class" of its `VoiceAIProvider`, imported on first use
    secrets_schema: dict[str, Any]  # the organisation's secret for the platform (vendor = code)
    settings: type[PlatformSettings]  # the operator's defaults
    # Credential fields naming where the platform is reached: set by an organisation to anything
    # but the operator's value, no operator key follows them (`registry.with_defaults`).
    url_fields: tuple[str, ...] = ("base_url",)
    url_schemes: tuple[str, ...] = ("https",)
    # Credential fields that are neither keys nor URLs (a SIP host): they do not count as the
    # organisation bringing its own keys.
    address_fields: tuple[str, ...] = ()
    color: str = "#888888"  # its colour in charts
    # Modules of the folder with optional roles: `precall` answers the platform's pre-call
    # webhook (`parse(body)`, `answer(number, webhook_url)`); `inbound` parses the carrier's
    # call request for our own numbers (the platform whose numbers they are).
    precall: str | None = None
    inbound: str | None = None
    # The platform runs our own STT/LLM/TTS vendor chains (per-organisation pipeline configs).
    vendor_chains: bool = False
    # A process of ours that serves the platform's calls, started by `switchboard run` when the
    # named setting is set (module run with `-m … start`).
    worker: str | None = None
    worker_setting: str | None = None
    demo: DemoProfile | None = None
    # Its official browser SDK for web calls, as the app bundles it from npm ("package@version").
    browser_sdk: str | None = None


def describe(platform_module: str, *, adapter: str, precall: bool = False, inbound: bool = False,
             **fields: Any) -> PlatformDescriptor:
    """The descriptor of the platform whose folder holds `platform_module` (its `platform.py`
    passes `__name__`), so that a folder names itself once: the code is the folder's name,
    `adapter` a class of the folder's `adapter` module, and `precall` / `inbound` say whether
    the folder has those role modules."""
    folder = platform_module.rpartition(".")[0]
    return PlatformDescriptor(
        code=folder.rpartition(".")[2], adapter=f"{folder}.adapter:{adapter}",
        precall=f"{folder}.precall" if precall else None, inbound=f"{folder}.inbound" if inbound else None,
        **fields,
    )
