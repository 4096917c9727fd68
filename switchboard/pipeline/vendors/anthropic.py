"""Anthropic Claude through livekit-plugins-anthropic (the Messages API, streamed)."""

from switchboard.pipeline.entry import llm_service

ENTRIES = [
    llm_service(
        "anthropic-llm", "Anthropic Claude", "Claude models through the Messages API; base_url for a compatible gateway.",
        model={"type": "string", "minLength": 1, "title": "Model (e.g. claude-haiku-4-5)"}, default_model="claude-haiku-4-5",
        base_url_title="Base URL (Anthropic-compatible)", temperature_max=1, max_tokens=1024,
        docs="https://docs.anthropic.com/en/api/messages", pricing="https://www.anthropic.com/pricing#api",
    ),
]
