"""Retell's pre-call webhook: `call_inbound` (the number's `inbound_webhook_url`), answered with
the number's agent as overrides of the Retell agent and LLM (`switchboard.precall` conducts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchboard.precall import PrecallMalformed, PrecallRequest, call_metadata, checked_field

if TYPE_CHECKING:
    from switchboard.inbound import NumberRoute

CODE = "retell"
_AGENT_OVERRIDE = ("voice_id", "language", "max_call_duration_ms", "voice_speed")
_LLM_OVERRIDE = ("general_prompt", "begin_message", "model")


def parse(payload: dict[str, Any]) -> PrecallRequest:
    if payload.get("event") != "call_inbound" or not isinstance(payload.get("call_inbound"), dict):
        raise PrecallMalformed("expected a Retell call_inbound event")
    call = payload["call_inbound"]
    to = checked_field("call_inbound.to_number", call.get("to_number"), required=True)
    return PrecallRequest(CODE, checked_field("call_inbound.from_number", call.get("from_number")), to)


def answer(number: NumberRoute | None, webhook_url: str | None) -> tuple[int, dict[str, Any]]:
    if number is None:
        # An empty call_inbound object makes Retell hang up: the number has no agent here.
        return 200, {"call_inbound": {}}
    from switchboard.providers.retell.compile import compile_agent, compile_llm

    ref = number.refs.get(CODE)
    llm = compile_llm(number.spec)
    agent = compile_agent(number.spec, llm_id=(ref.llm_id if ref and ref.llm_id else ""), webhook_url=webhook_url)
    out: dict[str, Any] = {
        "metadata": call_metadata(number),
        "dynamic_variables": {"agent_name": number.spec.name},
        "agent_override": {
            "agent": {k: agent[k] for k in _AGENT_OVERRIDE if agent.get(k) is not None},
            "retell_llm": {k: llm[k] for k in _LLM_OVERRIDE if llm.get(k) is not None},
        },
    }
    if ref and ref.agent_id:
        out["override_agent_id"] = ref.agent_id
    return 200, {"call_inbound": out}
