"""The shape of a catalogue entry (a vendor service: config and secrets schemas, defaults,
prices) and the schema pieces entries share; `switchboard.pipeline.catalog` lists the entries,
and the vendors defined in modules of their own (catalog_speech, vendors/) build on these."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

ServiceType = Literal["stt", "tts", "llm"]
Unit = Literal["minute", "1m_input_tokens", "1m_output_tokens", "1k_characters"]
PRICES_EFFECTIVE = date(2026, 11, 1)


class CatalogPrice(BaseModel):
    component: Literal["stt", "llm", "tts"]
    unit: Unit
    usd_per_unit: float | None  # None: the price is a migration's row (or unknown: usage unpriced)
    source: str
    effective_from: date = PRICES_EFFECTIVE


class CatalogEntry(BaseModel):
    key: str
    type: ServiceType
    vendor: str
    name: str
    description: str
    config_schema: dict[str, Any]
    secrets_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    default_config: dict[str, Any] = {}
    capabilities: list[str] = []
    metadata: dict[str, Any] = {}
    prices: list[CatalogPrice] = []
    # Units the vendor's usage is counted in even where no price is known (prices seeded by a
    # migration, or none published): such usage is kept unpriced, never dropped as free.
    usage_units: list[Unit] = []
    # Priced per model: price_book subject "<key>:<model>" (a model without a row stays unpriced).
    price_per_model: bool = False

    @property
    def units(self) -> set[str]:
        return {p.unit for p in self.prices} | set(self.usage_units)

    def price_subject(self, model: str | None) -> str:
        return f"{self.key}:{model}" if self.price_per_model and model else self.key


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], "additionalProperties": False}


_API_KEY = _obj({"api_key": {"type": "string", "minLength": 8, "title": "API key"}}, ["api_key"])
_BASE_URL = {"type": ["string", "null"], "format": "uri", "title": "Base URL (OpenAI-compatible)"}
_TIMEOUT = {"type": "number", "minimum": 0.1, "maximum": 30, "title": "Attempt timeout (s)"}

_TOKENS: list[Unit] = ["1m_input_tokens", "1m_output_tokens"]


def service(key: str, name: str, description: str, *, config: dict[str, Any], defaults: dict[str, Any] | None = None,
            vendor: str | None = None, kind: str = "cloud", docs: str | None = None, pricing: str | None = None,
            tier: str | None = None, secrets: dict[str, Any] | None = _API_KEY, base_url: dict[str, Any] | None = None,
            timeout: float = 5.0, **rest: Any) -> CatalogEntry:
    """An entry in the shape every service shares: its type (and by default its vendor) read from
    the key ("deepgram-stt"), an API key unless `secrets` says otherwise (None: no secret), an
    optional base_url (default none) and the attempt timeout last in its config, and metadata
    naming its kind with its docs and pricing pages."""
    vendor_of_key, service_type = key.rsplit("-", 1)
    properties = config | ({"base_url": base_url} if base_url else {}) | {"attempt_timeout": _TIMEOUT}
    default_config = (defaults or {}) | ({"base_url": None} if base_url else {}) | {"attempt_timeout": timeout}
    metadata = {k: v for k, v in {"docs": docs, "kind": kind, "pricing": pricing, "tier": tier}.items() if v}
    return CatalogEntry(key=key, type=service_type, vendor=vendor or vendor_of_key, name=name, description=description,
                        config_schema=_obj(properties), default_config=default_config, metadata=metadata,
                        **({"secrets_schema": secrets} if secrets else {}), **rest)


def llm_service(key: str, name: str, description: str, *, model: dict[str, Any], default_model: str,
                base_url_title: str | None, max_tokens: int = 1000, temperature_max: float = 2,
                max_tokens_max: int = 32768, config: dict[str, Any] | None = None,
                defaults: dict[str, Any] | None = None, **rest: Any) -> CatalogEntry:
    """An LLM entry: the vendor's own `config` and `defaults` first, then model, temperature,
    max_tokens (and a base_url where the vendor takes one); by default calling functions,
    streamed, billed per token of the model used."""
    config = (config or {}) | {
        "model": model,
        "temperature": {"type": "number", "minimum": 0, "maximum": temperature_max},
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": max_tokens_max},
    }
    base_url = {"type": ["string", "null"], "format": "uri", "title": base_url_title} if base_url_title else None
    options = {"capabilities": ["function_calling", "streaming"], "usage_units": _TOKENS, "price_per_model": True} | rest
    return service(key, name, description, config=config, base_url=base_url,
                   defaults=(defaults or {}) | {"model": default_model, "temperature": 0.7, "max_tokens": max_tokens},
                   **options)
