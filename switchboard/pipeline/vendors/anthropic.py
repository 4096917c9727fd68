"""Anthropic Claude through livekit-plugins-anthropic (the Messages API, streamed)."""

from switchboard.pipeline.entry import _API_KEY, CatalogEntry, llm_config_schema

ENTRIES = [
    CatalogEntry(
        key="anthropic-llm", type="llm", vendor="anthropic", name="Anthropic Claude",
        description="Claude models through the Messages API; base_url for a compatible gateway.",
        config_schema=llm_config_schema({"type": "string", "minLength": 1, "title": "Model (e.g. claude-haiku-4-5)"},
                                        base_url_title="Base URL (Anthropic-compatible)", temperature_max=1),
        secrets_schema=_API_KEY,
        default_config={"model": "claude-haiku-4-5", "temperature": 0.7, "max_tokens": 1024, "base_url": None,
                        "attempt_timeout": 5.0},
        capabilities=["function_calling", "streaming"],
        metadata={"docs": "https://docs.anthropic.com/en/api/messages", "kind": "cloud",
                  "pricing": "https://www.anthropic.com/pricing#api"},
        usage_units=["1m_input_tokens", "1m_output_tokens"], price_per_model=True,
    ),
]
