"""Groq through livekit-plugins-groq: OpenAI-compatible chat completions and transcriptions."""

from switchboard.pipeline.entry import llm_service, service

GROQ_URL = "https://api.groq.com/openai/v1"
_GROQ_BASE_URL = {"type": ["string", "null"], "format": "uri", "title": "Base URL (Groq-compatible)"}
_PRICING = "https://groq.com/pricing"

ENTRIES = [
    llm_service(
        "groq-llm", "Groq LLM", "Open models (Llama, GPT-OSS, Qwen) on Groq's LPUs: very low time to first token.",
        model={"type": "string", "minLength": 1, "title": "Model (e.g. llama-3.3-70b-versatile)"},
        default_model="llama-3.3-70b-versatile", base_url_title=_GROQ_BASE_URL["title"],
        docs="https://console.groq.com/docs/api-reference", pricing=_PRICING,
    ),
    service(
        "groq-stt", "Groq Whisper", "Whisper large v3 (turbo) transcription on Groq, one request per utterance.",
        config={
            "model": {"type": "string", "enum": ["whisper-large-v3-turbo", "whisper-large-v3"]},
            "language": {"type": "string", "minLength": 2, "maxLength": 10},
        },
        base_url=_GROQ_BASE_URL,
        defaults={"model": "whisper-large-v3-turbo", "language": "en"},
        capabilities=["multilingual"],
        docs="https://console.groq.com/docs/speech-to-text", pricing=_PRICING,
        usage_units=["minute"], price_per_model=True,
    ),
]
