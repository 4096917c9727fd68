"""OpenRouter through the OpenAI plugin (its documented base_url option): one key, many models."""

from switchboard.pipeline.entry import _API_KEY, CatalogEntry, llm_config_schema

OPENROUTER_URL = "https://openrouter.ai/api/v1"

ENTRIES = [
    CatalogEntry(
        key="openrouter-llm", type="llm", vendor="openrouter", name="OpenRouter",
        description="Any model OpenRouter routes to (provider/model ids such as anthropic/claude-haiku-4.5).",
        config_schema=llm_config_schema(
            {"type": "string", "minLength": 3, "pattern": "^[^/\\s]+/[^\\s]+$", "title": "Model (provider/model)"},
            base_url_title="Base URL (OpenRouter-compatible)"),
        secrets_schema=_API_KEY,
        default_config={"model": "openai/gpt-4o-mini", "temperature": 0.7, "max_tokens": 1000, "base_url": None,
                        "attempt_timeout": 5.0},
        capabilities=["function_calling", "streaming"],
        # Prices are the routed model's and change with it (openrouter.ai/models): none is seeded,
        # so usage is kept unpriced until the operator adds a price_book row for the model.
        metadata={"docs": "https://openrouter.ai/docs/api-reference/overview", "kind": "cloud",
                  "pricing": "https://openrouter.ai/models"},
        usage_units=["1m_input_tokens", "1m_output_tokens"], price_per_model=True,
    ),
]
