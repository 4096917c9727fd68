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

from switchboard.pipeline.entry import _API_KEY, _TIMEOUT, CatalogEntry, CatalogPrice, _obj


def _billed(component: str, unit: str, source: str) -> list[CatalogPrice]:
    return [CatalogPrice(component=component, unit=unit, usd_per_unit=None, source=source)]


def _url(title: str, schemes: str = "http(s)") -> dict[str, Any]:
    return {"type": "string", "format": "uri", "minLength": 8, "title": title, "description": f"{schemes} URL"}


_CLOUD_URL = {"type": ["string", "null"], "format": "uri", "title": "Base URL (a proxy or regional endpoint)"}
_LANGUAGE = {"type": "string", "minLength": 2, "maxLength": 10}
_OPTIONAL_KEY = _obj({"api_key": {"type": "string", "minLength": 1, "title": "API key (if the server asks for one)"}})

SPEECH_ENTRIES: list[CatalogEntry] = [
    CatalogEntry(
        key="deepgram-stt", type="stt", vendor="deepgram", name="Deepgram Nova-3",
        description="Cloud streaming transcription over Deepgram's live WebSocket (/v1/listen).",
        config_schema=_obj({
            "model": {"type": "string", "enum": ["nova-3"]},
            "language": _LANGUAGE,
            "smart_format": {"type": "boolean", "title": "Format numbers, dates and currency"},
            "keyterms": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 100,
                         "title": "Key terms to recognise (names, products)"},
            "base_url": _CLOUD_URL, "attempt_timeout": _TIMEOUT,
        }),
        secrets_schema=_API_KEY,
        default_config={"model": "nova-3", "language": "en-US", "smart_format": False, "keyterms": [],
                        "base_url": None, "attempt_timeout": 5.0},
        capabilities=["streaming", "multilingual"],
        metadata={"docs": "https://developers.deepgram.com/reference/speech-to-text/listen-streaming", "kind": "cloud"},
        prices=_billed("stt", "minute", "deepgram.com/pricing"),
    ),
    CatalogEntry(
        key="deepgram-tts", type="tts", vendor="deepgram", name="Deepgram Aura-2",
        description="Cloud TTS (Aura-2 voices, /v1/speak).",
        config_schema=_obj({
            "voice": {"type": "string", "pattern": "^aura-2-[a-z]+-[a-z]{2}$", "title": "Aura-2 voice (model) name"},
            "speed": {"type": "number", "minimum": 0.7, "maximum": 1.5},
            "base_url": _CLOUD_URL, "attempt_timeout": _TIMEOUT,
        }),
        secrets_schema=_API_KEY,
        default_config={"voice": "aura-2-thalia-en", "speed": 1.0, "base_url": None, "attempt_timeout": 5.0},
        capabilities=["streaming"],
        metadata={"docs": "https://developers.deepgram.com/reference/text-to-speech/speak-request", "kind": "cloud"},
        prices=_billed("tts", "1k_characters", "deepgram.com/pricing"),
    ),
    CatalogEntry(
        key="elevenlabs-tts", type="tts", vendor="elevenlabs", name="ElevenLabs",
        description="Cloud TTS; takes preset, custom and cloned voice ids (Flash and Turbo v2.5 models).",
        config_schema=_obj({
            "model": {"type": "string", "enum": ["eleven_flash_v2_5", "eleven_turbo_v2_5"]},
            "voice": {"type": "string", "pattern": "^[A-Za-z0-9]{8,40}$", "title": "Voice id (preset, custom or cloned)"},
            "language": _LANGUAGE,
            "speed": {"type": "number", "minimum": 0.7, "maximum": 1.2},
            "base_url": _CLOUD_URL, "attempt_timeout": _TIMEOUT,
        }),
        secrets_schema=_API_KEY,
        default_config={"model": "eleven_flash_v2_5", "voice": "hpp4J3VqNfWAUOO0d1Us", "language": "en", "speed": 1.0,
                        "base_url": None, "attempt_timeout": 5.0},
        capabilities=["streaming", "custom_voices", "cloned_voices", "multilingual"],
        metadata={"docs": "https://elevenlabs.io/docs/api-reference/text-to-speech/stream", "kind": "cloud"},
        prices=_billed("tts", "1k_characters", "elevenlabs.io/pricing/api"),
    ),
    CatalogEntry(
        key="assemblyai-stt", type="stt", vendor="assemblyai", name="AssemblyAI Universal-Streaming",
        description="Cloud streaming transcription (AssemblyAI's v3 streaming WebSocket).",
        config_schema=_obj({
            "model": {"type": "string", "enum": ["universal-streaming-english", "universal-streaming-multilingual"]},
            "keyterms": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 100},
            "base_url": _CLOUD_URL, "attempt_timeout": _TIMEOUT,
        }),
        secrets_schema=_API_KEY,
        default_config={"model": "universal-streaming-english", "keyterms": [], "base_url": None, "attempt_timeout": 5.0},
        capabilities=["streaming"],
        metadata={"docs": "https://www.assemblyai.com/docs/api-reference/streaming-api/streaming-api", "kind": "cloud"},
        prices=_billed("stt", "minute", "assemblyai.com/pricing"),
    ),
    CatalogEntry(
        key="whisper-stt", type="stt", vendor="whisper", name="Whisper server (your own)",
        description="Any OpenAI-compatible /v1/audio/transcriptions server, e.g. a self-hosted faster-whisper.",
        config_schema=_obj({
            "url": _url("Server base URL (…/v1)"),
            "model": {"type": "string", "minLength": 1, "maxLength": 200},
            "language": _LANGUAGE, "attempt_timeout": _TIMEOUT,
        }),
        secrets_schema=_OPTIONAL_KEY,
        default_config={"model": "Systran/faster-whisper-small", "language": "en", "attempt_timeout": 5.0},
        capabilities=["multilingual", "self_hosted"],
        metadata={"docs": "https://platform.openai.com/docs/api-reference/audio/createTranscription", "kind": "self-hosted"},
        prices=_billed("stt", "minute", "your own server: add its price to price_book"),
    ),
    CatalogEntry(
        key="vosk-stt", type="stt", vendor="vosk", name="Vosk server (your own)",
        description="A Vosk server's WebSocket protocol (alphacep/vosk-server), e.g. ws://vosk:2700.",
        config_schema=_obj({
            "url": _url("Server URL", "ws(s)"),
            "sample_rate": {"type": "integer", "enum": [8000, 16000, 44100, 48000]},
            "attempt_timeout": _TIMEOUT,
        }),
        default_config={"sample_rate": 16000, "attempt_timeout": 5.0},
        capabilities=["streaming", "self_hosted"],
        metadata={"docs": "https://github.com/alphacep/vosk-server", "kind": "self-hosted"},
        prices=_billed("stt", "minute", "your own server: add its price to price_book"),
    ),
    CatalogEntry(
        key="piper-tts", type="tts", vendor="piper", name="Piper server (your own)",
        description="A Piper HTTP server (python -m piper.http_server): POST text, WAV back.",
        config_schema=_obj({
            "url": _url("Server URL"),
            "voice": {"type": "string", "minLength": 1, "maxLength": 200, "title": "Voice (as the server names it)"},
            "speaker_id": {"type": "integer", "minimum": 0},
            "length_scale": {"type": "number", "minimum": 0.25, "maximum": 4, "title": "Slowness (1 = the voice's pace)"},
            "attempt_timeout": _TIMEOUT,
        }),
        default_config={"attempt_timeout": 5.0},
        capabilities=["self_hosted"],
        metadata={"docs": "https://github.com/OHF-Voice/piper1-gpl/blob/main/docs/API_HTTP.md", "kind": "self-hosted"},
        prices=_billed("tts", "1k_characters", "your own server: add its price to price_book"),
    ),
]
