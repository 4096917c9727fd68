"""AgentSpec → a Vapi assistant (`CreateAssistantDTO` of Vapi's OpenAPI document): the prompt as
the model's system message, the first message, voice {provider, voiceId}, a Deepgram transcriber,
tools (endCall, transferCall, apiRequest), the analysis plan, our webhook as `server`, the maximum
duration, and live call control enabled so a call can be ended through its control URL."""

from __future__ import annotations

from typing import Any

from switchboard.spec import AgentSpec, EndCallTool, HttpTool, TransferTool, VoiceSpec

LLM = {"provider": "openai", "model": "gpt-4o-mini"}
TRANSCRIBER = {"provider": "deepgram", "model": "nova-2"}
# Our vendor names → Vapi's voice providers (Vapi calls ElevenLabs "11labs").
VOICE_PROVIDERS = {
    "elevenlabs": "11labs", "openai": "openai", "cartesia": "cartesia", "deepgram": "deepgram",
    "azure": "azure", "playht": "playht", "rime": "rime-ai", "lmnt": "lmnt", "neuphonic": "neuphonic", "hume": "hume",
}
# `serverMessages` is left to Vapi's default, which includes the two we read (status-update,
# end-of-call-report); Vapi's document types the field so no list can satisfy it.
MAX_DURATION = 43_200  # Vapi's upper bound on maxDurationSeconds


def vapi_voice(voice: VoiceSpec) -> dict[str, Any]:
    provider = VOICE_PROVIDERS.get(voice.vendor, voice.vendor)
    out: dict[str, Any] = {"provider": provider, "voiceId": voice.voice_id}
    if voice.speed is not None and provider in ("11labs", "openai"):
        out["speed"] = voice.speed
    return out


def compile_tools(spec: AgentSpec) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    for tool in spec.tools:
        if isinstance(tool, EndCallTool):
            tools.append({"type": "endCall"})
        elif isinstance(tool, TransferTool):
            tools.append({
                "type": "transferCall",
                "destinations": [{"type": "number", "number": tool.number, "description": tool.description}],
            })
        elif isinstance(tool, HttpTool):
            tools.append({
                "type": "apiRequest",
                "name": tool.name,
                "description": tool.description,
                "method": tool.method,
                "url": tool.url,
                "timeoutSeconds": tool.timeout_seconds,
                "body": {"type": "object", "properties": dict(tool.parameters.get("properties") or {}),
                         "required": list(tool.parameters.get("required") or [])},
            })
    return tools


def compile_analysis(spec: AgentSpec) -> dict[str, Any]:
    wishes = spec.analysis
    plan: dict[str, Any] = {"summaryPlan": {"enabled": wishes.summary}}
    if wishes.success_criteria:
        plan["successEvaluationPlan"] = {
            "enabled": True, "rubric": "PassFail",
            "messages": [{"role": "system", "content": f"The call is successful when {wishes.success_criteria}. Answer true or false."}],
        }
    else:
        plan["successEvaluationPlan"] = {"enabled": False}
    properties: dict[str, Any] = {name: {"type": "string", "description": text} for name, text in wishes.fields.items()}
    if wishes.sentiment:  # Vapi has no sentiment of its own: extract it as structured data
        properties["sentiment"] = {"type": "string", "enum": ["Positive", "Neutral", "Negative"], "description": "The caller's sentiment."}
    if properties:
        plan["structuredDataPlan"] = {"enabled": True, "schema": {"type": "object", "properties": properties}}
    return plan


def compile_assistant(spec: AgentSpec, *, server_url: str | None, server_credential_id: str | None = None,
                      server_headers: dict[str, str] | None = None) -> dict[str, Any]:
    model: dict[str, Any] = {**LLM, "messages": [{"role": "system", "content": spec.prompt}]}
    tools = compile_tools(spec)
    if tools:
        model["tools"] = tools
    body: dict[str, Any] = {
        "name": spec.name[:40],
        "model": model,
        "voice": vapi_voice(spec.voice),
        "transcriber": {**TRANSCRIBER, "language": spec.language.split("-")[0].lower()},
        "maxDurationSeconds": min(MAX_DURATION, spec.max_duration_seconds),
        "analysisPlan": compile_analysis(spec),
        "artifactPlan": {"recordingEnabled": True},
        "monitorPlan": {"controlEnabled": True},
        "metadata": {k: v for k, v in spec.metadata.items()},
    }
    if spec.begin_message is not None:
        body["firstMessage"] = spec.begin_message
        body["firstMessageMode"] = "assistant-speaks-first"
    else:
        body["firstMessageMode"] = "assistant-speaks-first-with-model-generated-message"
    if server_url:
        server: dict[str, Any] = {"url": server_url}
        if server_credential_id:
            server["credentialId"] = server_credential_id
        if server_headers:
            server["headers"] = server_headers
        body["server"] = server
    return body
