"""The STT / TTS / LLM catalogue: one definition per vendor service (config JSON
schema, secrets schema, defaults, capabilities, prices). Definitions are code; at migrate time
they are synced into `providers` and `price_book`, and everything else reads the database.

Adding a vendor: one `CatalogEntry` here (built by `service` / `llm_service` of
switchboard.pipeline.entry, which write the shape entries share), plus one factory entry in the worker.
Resolution rules: resolved config = default_config ⊕ organisation overrides ⊕
secrets (shallow, later wins); enabled providers ordered by priority descending, then name.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from switchboard.pipeline.entry import (  # the entries' shape and shared schema pieces
    _BASE_URL, CatalogEntry, CatalogPrice, llm_service, service,
)

_ON_THE_WORKER = "runs on the worker"
_ALWAYS = {"vendor": "local", "kind": "local", "tier": "always-available", "secrets": None}

CATALOG: list[CatalogEntry] = [
    service(
        "openai-stt", "OpenAI Speech-to-Text",
        "Cloud transcription (gpt-4o-mini-transcribe, whisper-1); any OpenAI-compatible base URL.",
        config={
            "model": {"type": "string", "enum": ["gpt-4o-mini-transcribe", "gpt-4o-transcribe", "whisper-1"]},
            "language": {"type": "string", "minLength": 2, "maxLength": 10},
        },
        base_url=_BASE_URL,
        defaults={"model": "gpt-4o-mini-transcribe", "language": "en"},
        capabilities=["streaming", "multilingual"],
        docs="https://platform.openai.com/docs/guides/speech-to-text",
        prices=[CatalogPrice(component="stt", unit="minute", usd_per_unit=0.003, source="openai.com/api/pricing")],
    ),
    service(
        "pocketsphinx-stt", "PocketSphinx (offline)",
        "Offline speech recognition with the English model shipped in the wheel; always available, no key.",
        config={
            "language": {"type": "string", "enum": ["en-us"]},
            "keyphrases": {"type": "array", "items": {"type": "string"}, "title": "Optional grammar (exact phrases)"},
        },
        defaults={"language": "en-us", "keyphrases": []},
        capabilities=["offline"], **_ALWAYS,
        prices=[CatalogPrice(component="stt", unit="minute", usd_per_unit=0.0, source=_ON_THE_WORKER)],
    ),
    llm_service(
        "openai-llm", "OpenAI (or compatible) LLM",
        "GPT models, or any OpenAI-compatible endpoint: Groq, OpenRouter, a local vLLM.",
        model={"type": "string", "minLength": 1}, default_model="gpt-4o-mini", base_url_title=_BASE_URL["title"],
        docs="https://platform.openai.com/docs/models",
        usage_units=[], price_per_model=False,
        prices=[
            CatalogPrice(component="llm", unit="1m_input_tokens", usd_per_unit=0.15, source="openai.com/api/pricing (gpt-4o-mini)"),
            CatalogPrice(component="llm", unit="1m_output_tokens", usd_per_unit=0.60, source="openai.com/api/pricing (gpt-4o-mini)"),
        ],
    ),
    service(
        "local-llm", "Local rule-based responder",
        "Always-available last resort: answers from the agent's prompt with simple rules; no key, no network.",
        config={"fallback_reply": {"type": "string"}},
        defaults={"fallback_reply": "Sorry, I am having trouble right now. Could you say that again?"}, timeout=1.0,
        capabilities=["offline", "function_calling"], **_ALWAYS,
        prices=[
            CatalogPrice(component="llm", unit="1m_input_tokens", usd_per_unit=0.0, source=_ON_THE_WORKER),
            CatalogPrice(component="llm", unit="1m_output_tokens", usd_per_unit=0.0, source=_ON_THE_WORKER),
        ],
    ),
    service(
        "cartesia-tts", "Cartesia Sonic", "Low-latency cloud TTS; takes custom and cloned voice ids.",
        config={
            "model": {"type": "string", "enum": ["sonic-2", "sonic-3", "sonic-turbo"]},
            "voice": {"type": "string", "minLength": 1, "title": "Voice id (preset or cloned)"},
            "language": {"type": "string", "minLength": 2, "maxLength": 10},
            "speed": {"type": "number", "minimum": 0.5, "maximum": 2},
        },
        defaults={"model": "sonic-2", "voice": "f786b574-daa5-4673-aa0c-cbe3e8534c02", "language": "en", "speed": 1.0},
        capabilities=["streaming", "custom_voices", "cloned_voices"],
        docs="https://docs.cartesia.ai",
        prices=[CatalogPrice(component="tts", unit="1k_characters", usd_per_unit=0.038, source="cartesia.ai/pricing")],
    ),
    service(
        "openai-tts", "OpenAI Text-to-Speech", "Cloud TTS with preset voices.",
        config={
            "model": {"type": "string", "enum": ["gpt-4o-mini-tts", "tts-1", "tts-1-hd"]},
            "voice": {"type": "string", "enum": ["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer"]},
            "speed": {"type": "number", "minimum": 0.25, "maximum": 4},
        },
        base_url=_BASE_URL,
        defaults={"model": "gpt-4o-mini-tts", "voice": "alloy", "speed": 1.0},
        capabilities=["streaming"],
        docs="https://platform.openai.com/docs/guides/text-to-speech",
        prices=[CatalogPrice(component="tts", unit="1k_characters", usd_per_unit=0.015, source="openai.com/api/pricing")],
    ),
    service(
        "espeak-tts", "eSpeak NG (offline)", "Offline formant speech synthesis; always available, no key.",
        config={
            "voice": {"type": "string", "minLength": 1},
            "rate": {"type": "integer", "minimum": 80, "maximum": 450, "title": "Words per minute"},
        },
        defaults={"voice": "en-us", "rate": 175},
        capabilities=["offline"], **_ALWAYS,
        prices=[CatalogPrice(component="tts", unit="1k_characters", usd_per_unit=0.0, source=_ON_THE_WORKER)],
    ),
]

# The vendors defined in their own modules (switchboard.pipeline.catalog_speech,
# switchboard.pipeline.vendors); they build on the models above, so they are imported here.
from switchboard.pipeline.catalog_speech import SPEECH_ENTRIES  # noqa: E402
from switchboard.pipeline.vendors import ENTRIES as _VENDOR_ENTRIES  # noqa: E402

CATALOG.extend(SPEECH_ENTRIES)
CATALOG.extend(_VENDOR_ENTRIES)

BY_KEY: dict[str, CatalogEntry] = {e.key: e for e in CATALOG}


# --- resolution rules ---------------------------------------------------------------------
def merge_config(defaults: dict[str, Any], overrides: dict[str, Any], secrets: dict[str, Any] | None = None) -> dict[str, Any]:
    """defaults ⊕ overrides ⊕ secrets, shallow, later wins."""
    return {**defaults, **overrides, **(secrets or {})}


def order_by_priority(items: list[Any], *, priority=lambda x: x.priority, name=lambda x: x.name, enabled=lambda x: x.is_enabled) -> list[Any]:
    """Enabled items by priority descending, then name ascending (case-insensitive, so the admin
    app, the API and the worker agree); the first is the primary."""
    return sorted((i for i in items if enabled(i)), key=lambda i: (-priority(i), name(i).casefold()))


# --- sync into the database ---------------------------------------------------------------
def sync_catalog_at(url: str) -> None:
    """Bring the database's catalog (`providers`, their `price_book` rows) up to this code's
    definitions, in one transaction: what `switchboard db migrate` does after the migrations."""
    with psycopg.connect(url) as conn, conn.transaction():
        sync_catalog(conn)


def sync_catalog(conn: psycopg.Connection) -> None:
    for e in CATALOG:
        conn.execute(
            """
            insert into public.providers (key, type, vendor, name, description, config_schema,
              secrets_schema, default_config, capabilities, metadata)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (key) do update set type = excluded.type, vendor = excluded.vendor,
              name = excluded.name, description = excluded.description,
              config_schema = excluded.config_schema, secrets_schema = excluded.secrets_schema,
              default_config = excluded.default_config, capabilities = excluded.capabilities,
              metadata = excluded.metadata, is_active = true
            """,
            (e.key, e.type, e.vendor, e.name, e.description, Jsonb(e.config_schema), Jsonb(e.secrets_schema),
             Jsonb(e.default_config), Jsonb(e.capabilities), Jsonb(e.metadata)),
        )
        for p in e.prices:
            if p.usd_per_unit is None:
                continue
            conn.execute(
                """
                insert into public.price_book (subject, component, unit, usd_per_unit, effective_from, source)
                values (%s, %s, %s, %s, %s, %s)
                on conflict (subject, component, unit, effective_from) do update
                  set usd_per_unit = excluded.usd_per_unit, source = excluded.source
                """,
                (e.key, p.component, p.unit, p.usd_per_unit, p.effective_from, p.source),
            )
    conn.execute("update public.providers set is_active = false where key <> all(%s)", ([e.key for e in CATALOG],))
