"""AgentSpec → Retell: a Retell LLM (prompt, first message, tools) and a voice agent bound to it
(voice, language, webhook, post-call analysis). Bodies as `POST /create-retell-llm` and
`POST /create-agent` of Retell's OpenAPI document define them."""

from __future__ import annotations

from typing import Any

from switchboard.providers.base import ProviderRejected
from switchboard.spec import AgentSpec, EndCallTool, HttpTool, TransferTool, VoiceSpec

# Retell voice ids name their vendor ("11labs-Adrian", "openai-Alloy", "cartesia-Cleo").
RETELL_VOICE_PREFIXES = {
    "elevenlabs": "11labs",
    "openai": "openai",
    "deepgram": "deepgram",
    "cartesia": "cartesia",
    "minimax": "minimax",
    "fish_audio": "fish_audio",
    "retell": "retell",
    "platform": "platform",
}
MIN_CALL_MS, MAX_CALL_MS = 60_000, 7_200_000  # Retell's limits on max_call_duration_ms
WEBHOOK_EVENTS = ["call_started", "call_ended", "call_analyzed"]


def retell_voice_id(voice: VoiceSpec) -> str:
    """The Retell voice id for a canonical voice. A Retell id (or a custom voice imported in the
    Retell dashboard) passes through; an OpenAI preset becomes "openai-Alloy"; other vendors'
    raw ids cannot be used until imported into Retell, which the error says."""
    vid = voice.voice_id.strip()
    if voice.custom or vid.startswith("custom_voice_") or any(vid.startswith(p + "-") for p in RETELL_VOICE_PREFIXES.values()):
        return vid
    if voice.vendor == "openai":
        return f"openai-{vid[:1].upper()}{vid[1:]}"
    prefix = RETELL_VOICE_PREFIXES.get(voice.vendor)
    if prefix and vid.replace("_", "").replace(" ", "").isalpha():
        # A preset named by its Retell name ("Adrian" on elevenlabs → "11labs-Adrian").
        return f"{prefix}-{vid}"
    raise ProviderRejected(
        "retell",
        f"voice {voice.vendor}/{voice.voice_id} is not a Retell voice: add it in Retell's voice library "
        "and use the Retell voice id it gets (for example 11labs-Adrian)",
    )


def compile_tools(spec: AgentSpec) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    for tool in spec.tools:
        if isinstance(tool, EndCallTool):
            tools.append({"type": "end_call", "name": tool.name, "description": tool.description})
        elif isinstance(tool, TransferTool):
            tools.append({
                "type": "transfer_call",
                "name": tool.name,
                "description": tool.description,
                "transfer_destination": {"type": "predefined", "number": tool.number},
                "transfer_option": {"type": "cold_transfer"},
            })
        elif isinstance(tool, HttpTool):
            tools.append({
                "type": "custom",
                "name": tool.name,
                "description": tool.description,
                "url": tool.url,
                "method": tool.method,
                "parameters": _object_schema(tool.parameters),
                "speak_during_execution": False,
                "speak_after_execution": True,
                "timeout_ms": int(tool.timeout_seconds * 1000),
            })
    return tools


def compile_llm(spec: AgentSpec) -> dict[str, Any]:
    """The Retell LLM (`RetellLlmRequest`)."""
    body: dict[str, Any] = {"general_prompt": spec.prompt, "general_tools": compile_tools(spec)}
    if spec.begin_message is not None:
        body["begin_message"] = spec.begin_message
    return body


def compile_agent(spec: AgentSpec, *, llm_id: str, webhook_url: str | None) -> dict[str, Any]:
    """The voice agent (`AgentRequest`) answering with the Retell LLM `llm_id`."""
    body: dict[str, Any] = {
        "response_engine": {"type": "retell-llm", "llm_id": llm_id},
        "voice_id": retell_voice_id(spec.voice),
        "agent_name": spec.name,
        "language": spec.language,
        "max_call_duration_ms": min(MAX_CALL_MS, max(MIN_CALL_MS, spec.max_duration_seconds * 1000)),
        "post_call_analysis_data": compile_analysis(spec),
    }
    if spec.voice.speed is not None:
        body["voice_speed"] = min(2.0, max(0.5, spec.voice.speed))
    if webhook_url:
        body["webhook_url"] = webhook_url
        body["webhook_events"] = WEBHOOK_EVENTS
    return body


def compile_analysis(spec: AgentSpec) -> list[dict[str, Any]]:
    """Retell always analyses summary, sentiment and success; the wishes tune or extend that."""
    items: list[dict[str, Any]] = []
    if spec.analysis.success_criteria:
        items.append({
            "type": "system-presets", "name": "call_successful",
            "description": f"The call is successful when {spec.analysis.success_criteria}.",
        })
    if not spec.analysis.summary:
        items.append({"type": "system-presets", "name": "call_summary", "description": "A one-line summary.", "required": False})
    if not spec.analysis.sentiment:
        items.append({"type": "system-presets", "name": "user_sentiment", "description": "The caller's sentiment.", "required": False})
    for name, description in spec.analysis.fields.items():
        items.append({"type": "string", "name": name, "description": description})
    return items


def _object_schema(parameters: dict[str, Any]) -> dict[str, Any]:
    """Retell's tool parameters must be a JSON-schema object with `properties`."""
    schema = {"type": "object", "properties": dict(parameters.get("properties") or {})}
    if parameters.get("required"):
        schema["required"] = list(parameters["required"])
    return schema
