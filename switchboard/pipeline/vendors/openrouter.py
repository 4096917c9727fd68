"""OpenRouter through the OpenAI plugin (its documented base_url option): one key, many models."""

from switchboard.pipeline.entry import llm_service

OPENROUTER_URL = "https://openrouter.ai/api/v1"

ENTRIES = [
    # Prices are the routed model's and change with it (openrouter.ai/models): none is seeded,
    # so usage is kept unpriced until the operator adds a price_book row for the model.
    llm_service(
        "openrouter-llm", "OpenRouter",
        "Any model OpenRouter routes to (provider/model ids such as anthropic/claude-haiku-4.5).",
        model={"type": "string", "minLength": 3, "pattern": "^[^/\\s]+/[^\\s]+$", "title": "Model (provider/model)"},
        default_model="openai/gpt-4o-mini", base_url_title="Base URL (OpenRouter-compatible)",
        docs="https://openrouter.ai/docs/api-reference/overview", pricing="https://openrouter.ai/models",
    ),
]
