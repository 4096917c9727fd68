"""Pre-call webhooks: a platform asks, before it answers a call on a number it hosts, which
agent to run — Retell's `call_inbound` (the number's `inbound_webhook_url`) and Vapi's
`assistant-request` (answered within Vapi's 7.5 s). The answer is the number's agent compiled
from the canonical spec by the platform's own compile functions, with our ids attached as the
call's metadata so its later webhooks find their organisation.

What cannot be answered is raised, for the handler to answer in words: `PrecallMalformed` (not a
pre-call request: 400), `AgentSpecInvalid` (the number's stored spec cannot run) and
`ProviderRejected` (the platform's compiler refuses the agent, e.g. a voice Retell does not
have) — both 422.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from switchboard.inbound import NumberRoute
from switchboard.spec import AgentSpecInvalid
from switchboard.errors import Refused

MAX_FIELD_CHARS = 256


class PrecallMalformed(Refused, ValueError):
    """Not a pre-call request we understand (the reason says why)."""


@dataclass(frozen=True)
class PrecallRequest:
    provider: Literal["retell", "vapi"]
    from_number: str | None
    to_number: str
    provider_call_id: str | None = None  # Vapi gives the call's id; Retell has none yet


def _field(name: str, value: object, *, required: bool = False) -> str | None:
    """A number or id of the request: a string of sane length without control characters."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value):
        raise PrecallMalformed(f"{name} is required" if required else f"{name} must be a string")
    if len(value) > MAX_FIELD_CHARS:
        raise PrecallMalformed(f"{name} is longer than {MAX_FIELD_CHARS} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise PrecallMalformed(f"{name} may not contain NUL or other control characters")
    return value


def parse_precall(provider: str, body: bytes) -> PrecallRequest:
    try:
        payload = json.loads(body)
    except ValueError:
        raise PrecallMalformed("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise PrecallMalformed("the body must be a JSON object")
    if provider == "retell":
        if payload.get("event") != "call_inbound" or not isinstance(payload.get("call_inbound"), dict):
            raise PrecallMalformed("expected a Retell call_inbound event")
        call = payload["call_inbound"]
        to = _field("call_inbound.to_number", call.get("to_number"), required=True)
        return PrecallRequest("retell", _field("call_inbound.from_number", call.get("from_number")), to)
    if provider == "vapi":
        msg = payload.get("message")
        if not isinstance(msg, dict) or msg.get("type") != "assistant-request":
            raise PrecallMalformed("expected a Vapi assistant-request message")
        phone = msg.get("phoneNumber") or {}
        call = msg.get("call") or {}
        customer = msg.get("customer") or call.get("customer") or {}
        to = _field("message.phoneNumber.number", phone.get("number") if isinstance(phone, dict) else None,
                    required=True)
        frm = customer.get("number") if isinstance(customer, dict) else None
        call_id = call.get("id") if isinstance(call, dict) else None
        return PrecallRequest("vapi", _field("message.customer.number", frm if isinstance(frm, str) else None), to,
                              _field("message.call.id", call_id if isinstance(call_id, str) else None))
    raise PrecallMalformed(f"{provider} sends no pre-call webhook")


def _metadata(number: NumberRoute) -> dict[str, str]:
    return {"organization_id": str(number.organization_id), "agent_config_id": str(number.agent_config_id)}


def answer_precall(req: PrecallRequest, number: NumberRoute | None, *, webhook_url: str | None = None) -> tuple[int, dict[str, Any]]:
    """(status, JSON answer) for the platform. Raises AgentSpecInvalid or ProviderRejected (see
    the module) when the number's agent cannot be given to it."""
    if number is not None and number.spec is None:
        raise AgentSpecInvalid(number.agent_config_id, (number.spec_error or "").removeprefix("agent spec invalid: "))
    if req.provider == "retell":
        return _answer_retell(number, webhook_url)
    return _answer_vapi(number, webhook_url)


_RETELL_AGENT_OVERRIDE = ("voice_id", "language", "max_call_duration_ms", "voice_speed")
_RETELL_LLM_OVERRIDE = ("general_prompt", "begin_message", "model")


def _answer_retell(number: NumberRoute | None, webhook_url: str | None) -> tuple[int, dict[str, Any]]:
    if number is None:
        # An empty call_inbound object makes Retell hang up: the number has no agent here.
        return 200, {"call_inbound": {}}
    from switchboard.providers.retell.compile import compile_agent, compile_llm

    ref = number.refs.get("retell")
    llm = compile_llm(number.spec)
    agent = compile_agent(number.spec, llm_id=(ref.llm_id if ref and ref.llm_id else ""), webhook_url=webhook_url)
    answer: dict[str, Any] = {
        "metadata": _metadata(number),
        "dynamic_variables": {"agent_name": number.spec.name},
        "agent_override": {
            "agent": {k: agent[k] for k in _RETELL_AGENT_OVERRIDE if agent.get(k) is not None},
            "retell_llm": {k: llm[k] for k in _RETELL_LLM_OVERRIDE if llm.get(k) is not None},
        },
    }
    if ref and ref.agent_id:
        answer["override_agent_id"] = ref.agent_id
    return 200, {"call_inbound": answer}


def _answer_vapi(number: NumberRoute | None, webhook_url: str | None) -> tuple[int, dict[str, Any]]:
    if number is None:
        # Vapi speaks `error` to the caller and ends the call.
        return 200, {"error": "Sorry, this number is not in service."}
    from switchboard.providers.vapi.compile import compile_assistant

    assistant = compile_assistant(number.spec, server_url=webhook_url)
    assistant["metadata"] = {**(assistant.get("metadata") or {}), **_metadata(number)}
    return 200, {"assistant": assistant}
