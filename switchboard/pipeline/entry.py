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

def llm_config_schema(model: dict[str, Any], *, base_url_title: str | None, temperature_max: float = 2,
                      max_tokens_max: int = 32768) -> dict[str, Any]:
    """The config schema LLM vendors share: model, temperature, max_tokens, base_url, attempt_timeout."""
    properties: dict[str, Any] = {
        "model": model,
        "temperature": {"type": "number", "minimum": 0, "maximum": temperature_max},
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": max_tokens_max},
    }
    if base_url_title:
        properties["base_url"] = {"type": ["string", "null"], "format": "uri", "title": base_url_title}
    return _obj(properties | {"attempt_timeout": _TIMEOUT})
