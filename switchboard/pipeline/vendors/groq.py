"""Groq through livekit-plugins-groq: OpenAI-compatible chat completions and transcriptions."""

from switchboard.pipeline.entry import _API_KEY, _TIMEOUT, CatalogEntry, _obj, llm_config_schema

GROQ_URL = "https://api.groq.com/openai/v1"
_GROQ_BASE_URL = {"type": ["string", "null"], "format": "uri", "title": "Base URL (Groq-compatible)"}

ENTRIES = [
    CatalogEntry(
        key="groq-llm", type="llm", vendor="groq", name="Groq LLM",
        description="Open models (Llama, GPT-OSS, Qwen) on Groq's LPUs: very low time to first token.",
        config_schema=llm_config_schema({"type": "string", "minLength": 1, "title": "Model (e.g. llama-3.3-70b-versatile)"},
                                        base_url_title=_GROQ_BASE_URL["title"]),
        secrets_schema=_API_KEY,
        default_config={"model": "llama-3.3-70b-versatile", "temperature": 0.7, "max_tokens": 1000, "base_url": None,
                        "attempt_timeout": 5.0},
        capabilities=["function_calling", "streaming"],
        metadata={"docs": "https://console.groq.com/docs/api-reference", "kind": "cloud", "pricing": "https://groq.com/pricing"},
        usage_units=["1m_input_tokens", "1m_output_tokens"], price_per_model=True,
    ),
    CatalogEntry(
        key="groq-stt", type="stt", vendor="groq", name="Groq Whisper",
        description="Whisper large v3 (turbo) transcription on Groq, one request per utterance.",
        config_schema=_obj({
            "model": {"type": "string", "enum": ["whisper-large-v3-turbo", "whisper-large-v3"]},
            "language": {"type": "string", "minLength": 2, "maxLength": 10},
            "base_url": _GROQ_BASE_URL, "attempt_timeout": _TIMEOUT,
        }),
        secrets_schema=_API_KEY,
        default_config={"model": "whisper-large-v3-turbo", "language": "en", "base_url": None, "attempt_timeout": 5.0},
        capabilities=["multilingual"],
        metadata={"docs": "https://console.groq.com/docs/speech-to-text", "kind": "cloud", "pricing": "https://groq.com/pricing"},
        usage_units=["minute"], price_per_model=True,
    ),
]
