"""Vapi's pre-call webhook: `assistant-request` (answered within Vapi's 7.5 s) with the number's
agent as a transient assistant (`switchboard.precall` conducts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchboard.precall import PrecallMalformed, PrecallRequest, call_metadata, checked_field

if TYPE_CHECKING:
    from switchboard.inbound import NumberRoute

CODE = "vapi"


def parse(payload: dict[str, Any]) -> PrecallRequest:
    msg = payload.get("message")
    if not isinstance(msg, dict) or msg.get("type") != "assistant-request":
        raise PrecallMalformed("expected a Vapi assistant-request message")
    phone = msg.get("phoneNumber") or {}
    call = msg.get("call") or {}
    customer = msg.get("customer") or call.get("customer") or {}
    to = checked_field("message.phoneNumber.number", phone.get("number") if isinstance(phone, dict) else None,
                       required=True)
    frm = customer.get("number") if isinstance(customer, dict) else None
    call_id = call.get("id") if isinstance(call, dict) else None
    return PrecallRequest(CODE, checked_field("message.customer.number", frm if isinstance(frm, str) else None), to,
                          checked_field("message.call.id", call_id if isinstance(call_id, str) else None))


def answer(number: NumberRoute | None, webhook_url: str | None) -> tuple[int, dict[str, Any]]:
    if number is None:
        # Vapi speaks `error` to the caller and ends the call.
        return 200, {"error": "Sorry, this number is not in service."}
    from switchboard.providers.vapi.compile import compile_assistant

    assistant = compile_assistant(number.spec, server_url=webhook_url)
    assistant["metadata"] = {**(assistant.get("metadata") or {}), **call_metadata(number)}
    return 200, {"assistant": assistant}
