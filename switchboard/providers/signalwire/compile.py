"""AgentSpec → SignalWire AI: the SWML `ai` verb (prompt, post_prompt, post_prompt_url,
params {enable_accounting}, languages [{voice}], SWAIG functions), the SWML document that runs
it on a call (answer, record_call, ai), and the same agent stored as a Fabric AI agent. Shapes as
`SWML.Calling.*` and `AIAgentCreateRequest` of SignalWire's REST document define them; the
SWAIG functions are built with signalwire-sdk's DataMap and FunctionResult."""

from __future__ import annotations

from typing import Any

from signalwire.core.data_map import DataMap
from signalwire.core.function_result import FunctionResult

from switchboard.spec import AgentSpec, EndCallTool, HttpTool, TransferTool, VoiceSpec

# Our vendor names → SignalWire TTS engine ids (`<engine>.<voice id>`).
VOICE_ENGINES = {
    "elevenlabs": "elevenlabs", "openai": "openai", "cartesia": "cartesia", "deepgram": "deepgram",
    "azure": "azure", "google": "gcloud", "gcloud": "gcloud", "amazon": "polly", "polly": "polly",
    "rime": "rime", "minimax": "minimax", "fish_audio": "fish",
}
LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "ja": "Japanese", "ko": "Korean", "zh": "Chinese", "hi": "Hindi", "pl": "Polish",
    "ru": "Russian", "sv": "Swedish", "tr": "Turkish", "da": "Danish", "fi": "Finnish", "no": "Norwegian",
}


def signalwire_voice(voice: VoiceSpec) -> str:
    engine = VOICE_ENGINES.get(voice.vendor, voice.vendor)
    return f"{engine}.{voice.voice_id}"


def compile_tools(spec: AgentSpec) -> list[dict[str, Any]]:
    functions: list[dict[str, Any]] = []
    for tool in spec.tools:
        if isinstance(tool, EndCallTool):
            fn = DataMap(tool.name).description(tool.description).fallback_output(
                FunctionResult("Thank you for calling. Goodbye.").hangup()
            )
        elif isinstance(tool, TransferTool):
            # The SDK's connect() writes transfer as the string "true"; the REST document's
            # SWML Action types it boolean, so the action is written out here.
            fn = DataMap(tool.name).description(tool.description).fallback_output(
                FunctionResult("Transferring you now.").add_actions([{
                    "SWML": {"version": "1.0.0", "sections": {"main": [{"connect": {"to": tool.number}}]}},
                    "transfer": True,
                }])
            )
        elif isinstance(tool, HttpTool):
            fn = DataMap(tool.name).description(tool.description).webhook(
                tool.method, tool.url, input_args_as_params=tool.method == "POST"
            ).output(FunctionResult("The request was completed.")).fallback_output(
                FunctionResult("The request could not be completed right now.")
            )
        else:  # pragma: no cover - ToolSpec is a closed union
            continue
        function = fn.to_swaig_function()
        if isinstance(tool, HttpTool):
            function["parameters"] = {
                "type": "object",
                "properties": dict(tool.parameters.get("properties") or {}),
                **({"required": list(tool.parameters["required"])} if tool.parameters.get("required") else {}),
            }
        functions.append(function)
    return functions


def post_prompt_text(spec: AgentSpec) -> str:
    """Ask for the analysis wishes as one JSON object (SignalWire parses it into post_prompt_data.parsed)."""
    wishes = spec.analysis
    keys = []
    if wishes.summary:
        keys.append('"summary": one or two sentences on what happened')
    if wishes.sentiment:
        keys.append('"sentiment": the caller\'s sentiment, exactly one of "Positive", "Neutral", "Negative"')
    if wishes.success_criteria:
        keys.append(f'"successful": true when {wishes.success_criteria}, otherwise false')
    if wishes.fields:
        inner = ", ".join(f'"{name}": {text}' for name, text in wishes.fields.items())
        keys.append(f'"data": an object with {inner} (null when not mentioned)')
    if not keys:
        keys.append('"summary": one sentence on what happened')
    return "The call has ended. Answer with one JSON object and nothing else, with these keys: " + "; ".join(keys) + "."


def compile_ai(spec: AgentSpec, *, post_prompt_url: str | None, global_data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `ai` verb's object."""
    # hard_stop_time caps the AI session on inbound and outbound calls alike.
    params: dict[str, Any] = {"enable_accounting": True, "save_conversation": False, "hard_stop_time": f"{spec.max_duration_seconds}s"}
    if spec.begin_message:
        params["static_greeting"] = spec.begin_message
    lang = spec.language.split("-")[0].lower()
    ai: dict[str, Any] = {
        "prompt": {"text": spec.prompt},
        "post_prompt": {"text": post_prompt_text(spec)},
        "params": params,
        "languages": [{"name": LANGUAGE_NAMES.get(lang, spec.language), "code": spec.language, "voice": signalwire_voice(spec.voice)}],
    }
    functions = compile_tools(spec)
    if functions:
        ai["SWAIG"] = {"functions": functions}
    return {**ai, **call_ai(post_prompt_url=post_prompt_url, global_data=global_data)}


def call_ai(*, post_prompt_url: str | None, global_data: dict[str, Any] | None) -> dict[str, Any]:
    """The call-specific keys of the `ai` object (where its report goes, the ids it carries)."""
    out: dict[str, Any] = {}
    if post_prompt_url:
        out["post_prompt_url"] = post_prompt_url
    if global_data:
        out["global_data"] = global_data
    return out


def compile_swml(spec: AgentSpec, ai: dict[str, Any]) -> dict[str, Any]:
    """A call running the agent: answer (capped at the spec's duration), record, then the AI."""
    return {
        "version": "1.0.0",
        "sections": {
            "main": [
                {"answer": {"max_duration": min(14_400, spec.max_duration_seconds)}},
                {"record_call": {"format": "mp3", "stereo": True}},
                {"ai": ai},
            ]
        },
    }


def compile_fabric_agent(spec: AgentSpec, ai: dict[str, Any], *, agent_id: str) -> dict[str, Any]:
    """The stored agent (`AIAgentCreateRequest`: the ai object plus its name and id)."""
    return {"agent_id": agent_id, "name": spec.name, **ai}
