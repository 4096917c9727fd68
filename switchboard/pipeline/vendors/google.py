"""Google: Gemini through the Gemini API (an API key, vendor 'gemini') and Cloud Speech-to-Text /
Text-to-Speech over gRPC (a service account, vendor 'google-cloud'), all by livekit-plugins-google."""

from switchboard.pipeline.entry import _obj, llm_service, service

_SERVICE_ACCOUNT = _obj({
    "credentials_json": {"type": "string", "minLength": 20, "title": "Service account key (JSON)"},
}, ["credentials_json"])
_LOCATION = {"type": "string", "pattern": "^[a-z0-9-]+$", "title": "Location (global, us, eu, …)"}
_CLOUD = {"vendor": "google-cloud", "secrets": _SERVICE_ACCOUNT, "capabilities": ["streaming", "multilingual"]}

ENTRIES = [
    llm_service(
        "google-llm", "Google Gemini", "Gemini models through the Gemini API (generateContent, streamed).",
        model={"type": "string", "minLength": 1, "title": "Model (e.g. gemini-2.5-flash)"}, default_model="gemini-2.5-flash",
        base_url_title="Base URL (Gemini API-compatible)", max_tokens_max=65536, vendor="gemini",
        capabilities=["function_calling", "streaming", "multilingual"],
        docs="https://ai.google.dev/api/generate-content", pricing="https://ai.google.dev/gemini-api/docs/pricing",
    ),
    # Billed per model and API version with its own rounding: no price is seeded, so usage stays
    # unpriced until the operator adds "google-stt:<model>".
    service(
        "google-stt", "Google Cloud Speech-to-Text", "Cloud Speech-to-Text (gRPC) with a service account.",
        config={
            "model": {"type": "string", "minLength": 1, "title": "Model (latest_long, chirp_2, …)"},
            "language": {"type": "string", "minLength": 2, "maxLength": 10, "title": "Language (e.g. en-US)"},
            "location": _LOCATION,
        },
        defaults={"model": "latest_long", "language": "en-US", "location": "global"},
        docs="https://cloud.google.com/speech-to-text/docs", pricing="https://cloud.google.com/speech-to-text/pricing",
        usage_units=["minute"], price_per_model=True, **_CLOUD,
    ),
    service(
        "google-tts", "Google Cloud Text-to-Speech (Chirp 3 HD)", "Chirp 3 HD voices over gRPC with a service account.",
        config={
            # Chirp 3 HD voices only: the other voice types are priced differently.
            "voice": {"type": "string", "pattern": "-Chirp3-HD-", "title": "Voice (e.g. en-US-Chirp3-HD-Charon)"},
            "language": {"type": "string", "minLength": 2, "maxLength": 10},
            "speed": {"type": "number", "minimum": 0.25, "maximum": 2},
            "location": _LOCATION,
        },
        defaults={"voice": "en-US-Chirp3-HD-Charon", "language": "en-US", "speed": 1.0, "location": "global"},
        docs="https://cloud.google.com/text-to-speech/docs", pricing="https://cloud.google.com/text-to-speech/pricing",
        usage_units=["1k_characters"], **_CLOUD,
    ),
]
