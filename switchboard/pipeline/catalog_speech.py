"""Speech vendors of the catalog (issue #15 points 1–2): Deepgram, ElevenLabs, AssemblyAI, and
the organisation's own servers (an OpenAI-compatible Whisper, a Vosk server, a Piper server).

Prices are rows of a migration (20261203001300_speech_vendor_prices.sql, each with its
effective date and public source); the entries here name only what each key is billed in
(`usd_per_unit=None`). A key priced per model family allows only the models of that family, so
one price row per key is the price of every call. The organisation's own servers have no price
row: their cost is the organisation's hardware, unknown to us, so a call that used one stays
unpriced until an operator adds its price (never $0).

Every URL here is tenant-set: the worker checks it with `switchboard.egress` before connecting.
A self-hosted entry has no default URL (there is no sensible one): until the organisation sets
it, the worker skips that vendor with a log line saying so.
"""

from __future__ import annotations

from typing import Any

from switchboard.pipeline.entry import CatalogEntry, CatalogPrice, _obj, service


def _url(title: str, schemes: str = "http(s)") -> dict[str, Any]:
    return {"type": "string", "format": "uri", "minLength": 8, "title": title, "description": f"{schemes} URL"}


_CLOUD_URL = {"type": ["string", "null"], "format": "uri", "title": "Base URL (a proxy or regional endpoint)"}
_LANGUAGE = {"type": "string", "minLength": 2, "maxLength": 10}
_OPTIONAL_KEY = _obj({"api_key": {"type": "string", "minLength": 1, "title": "API key (if the server asks for one)"}})
_OWN_PRICE = "your own server: add its price to price_book"
_UNITS = {"stt": "minute", "tts": "1k_characters"}


def _speech(key: str, name: str, description: str, *, billed: str, **rest: Any) -> CatalogEntry:
    """A speech entry billed at its migration's price (per minute heard, per 1k characters
    spoken); `billed` names where that price comes from."""
    component = key.rsplit("-", 1)[1]
    price = CatalogPrice(component=component, unit=_UNITS[component], usd_per_unit=None, source=billed)
    return service(key, name, description, prices=[price], **rest)


def _cloud(key: str, name: str, description: str, **rest: Any) -> CatalogEntry:
    """A cloud vendor's entry: an API key, and a base URL for a proxy or regional endpoint."""
    return _speech(key, name, description, base_url=_CLOUD_URL, **rest)


def _own_server(key: str, name: str, description: str, *, url: dict[str, Any], config: dict[str, Any],
                capabilities: tuple[str, ...] | list[str] = (), secrets: dict[str, Any] | None = None, **rest: Any) -> CatalogEntry:
    """One of the organisation's own servers: its URL first, no secret unless it takes one, and no
    price of ours (see above)."""
    return _speech(key, name, description, billed=_OWN_PRICE, config={"url": url} | config, secrets=secrets,
                   capabilities=[*capabilities, "self_hosted"], kind="self-hosted", **rest)


SPEECH_ENTRIES: list[CatalogEntry] = [
    _cloud(
        "deepgram-stt", "Deepgram Nova-3", "Cloud streaming transcription over Deepgram's live WebSocket (/v1/listen).",
        config={
            "model": {"type": "string", "enum": ["nova-3"]},
            "language": _LANGUAGE,
            "smart_format": {"type": "boolean", "title": "Format numbers, dates and currency"},
            "keyterms": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 100,
                         "title": "Key terms to recognise (names, products)"},
        },
        defaults={"model": "nova-3", "language": "en-US", "smart_format": False, "keyterms": []},
        capabilities=["streaming", "multilingual"],
        docs="https://developers.deepgram.com/reference/speech-to-text/listen-streaming",
        billed="deepgram.com/pricing",
    ),
    _cloud(
        "deepgram-tts", "Deepgram Aura-2", "Cloud TTS (Aura-2 voices, /v1/speak).",
        config={
            "voice": {"type": "string", "pattern": "^aura-2-[a-z]+-[a-z]{2}$", "title": "Aura-2 voice (model) name"},
            "speed": {"type": "number", "minimum": 0.7, "maximum": 1.5},
        },
        defaults={"voice": "aura-2-thalia-en", "speed": 1.0},
        capabilities=["streaming"],
        docs="https://developers.deepgram.com/reference/text-to-speech/speak-request",
        billed="deepgram.com/pricing",
    ),
    _cloud(
        "elevenlabs-tts", "ElevenLabs",
        "Cloud TTS; takes preset, custom and cloned voice ids (Flash and Turbo v2.5 models).",
        config={
            "model": {"type": "string", "enum": ["eleven_flash_v2_5", "eleven_turbo_v2_5"]},
            "voice": {"type": "string", "pattern": "^[A-Za-z0-9]{8,40}$", "title": "Voice id (preset, custom or cloned)"},
            "language": _LANGUAGE,
            "speed": {"type": "number", "minimum": 0.7, "maximum": 1.2},
        },
        defaults={"model": "eleven_flash_v2_5", "voice": "hpp4J3VqNfWAUOO0d1Us", "language": "en", "speed": 1.0},
        capabilities=["streaming", "custom_voices", "cloned_voices", "multilingual"],
        docs="https://elevenlabs.io/docs/api-reference/text-to-speech/stream",
        billed="elevenlabs.io/pricing/api",
    ),
    _cloud(
        "assemblyai-stt", "AssemblyAI Universal-Streaming", "Cloud streaming transcription (AssemblyAI's v3 streaming WebSocket).",
        config={
            "model": {"type": "string", "enum": ["universal-streaming-english", "universal-streaming-multilingual"]},
            "keyterms": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 100},
        },
        defaults={"model": "universal-streaming-english", "keyterms": []},
        capabilities=["streaming"],
        docs="https://www.assemblyai.com/docs/api-reference/streaming-api/streaming-api",
        billed="assemblyai.com/pricing",
    ),
    _own_server(
        "whisper-stt", "Whisper server (your own)",
        "Any OpenAI-compatible /v1/audio/transcriptions server, e.g. a self-hosted faster-whisper.",
        url=_url("Server base URL (…/v1)"),
        config={
            "model": {"type": "string", "minLength": 1, "maxLength": 200},
            "language": _LANGUAGE,
        },
        secrets=_OPTIONAL_KEY,
        defaults={"model": "Systran/faster-whisper-small", "language": "en"},
        capabilities=["multilingual"],
        docs="https://platform.openai.com/docs/api-reference/audio/createTranscription",
    ),
    _own_server(
        "vosk-stt", "Vosk server (your own)", "A Vosk server's WebSocket protocol (alphacep/vosk-server), e.g. ws://vosk:2700.",
        url=_url("Server URL", "ws(s)"),
        config={"sample_rate": {"type": "integer", "enum": [8000, 16000, 44100, 48000]}},
        defaults={"sample_rate": 16000},
        capabilities=["streaming"],
        docs="https://github.com/alphacep/vosk-server",
    ),
    _own_server(
        "piper-tts", "Piper server (your own)", "A Piper HTTP server (python -m piper.http_server): POST text, WAV back.",
        url=_url("Server URL"),
        config={
            "voice": {"type": "string", "minLength": 1, "maxLength": 200, "title": "Voice (as the server names it)"},
            "speaker_id": {"type": "integer", "minimum": 0},
            "length_scale": {"type": "number", "minimum": 0.25, "maximum": 4, "title": "Slowness (1 = the voice's pace)"},
        },
        docs="https://github.com/OHF-Voice/piper1-gpl/blob/main/docs/API_HTTP.md",
    ),
]
