"""SignalWire's request for what to do with a call arriving on one of our numbers — a SWML call
webhook (JSON) or a Compatibility (LaML) form post — parsed into an `InboundRequest`, checked
before anything is looked up: malformed input (not JSON, bad form encoding, NUL or other control
characters, oversize fields) is `BadCallRequest`, saying what is wrong."""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson

from switchboard.errors import text_problem
from switchboard.providers.signalwire.webhooks import SIGNATURE, TWILIO_SIGNATURE
from switchboard.errors import Refused
from switchboard.spec import InboundRequest

MAX_ID_CHARS = 256  # call ids, project/space/node ids
MAX_NUMBER_CHARS = 256  # an E.164 number, or a SIP address


_ID = {"type": "string", "maxLength": MAX_ID_CHARS}
_NUMBER = {"type": "string", "maxLength": MAX_NUMBER_CHARS}
REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["call"],
                "properties": {
                    "call": {
                        "type": "object",
                        "required": ["call_id", "to"],
                        "properties": {
                            "call_id": {**_ID, "minLength": 1}, "from": _NUMBER, "to": {**_NUMBER, "minLength": 1},
                            "from_number": _NUMBER, "to_number": _NUMBER,
                            "project_id": _ID, "space_id": _ID, "node_id": _ID, "segment_id": _ID,
                        },
                    },
                    "vars": {"type": "object"}, "envs": {"type": "object"}, "params": {"type": "object"},
                },
            }
        },
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["CallSid", "To"],
                "properties": {"CallSid": {**_ID, "minLength": 1}, "From": _NUMBER, "To": {**_NUMBER, "minLength": 1},
                               "AccountSid": _ID, "CallStatus": {"type": "string"}},
            }
        },
    },
}
# (Strings carry no NUL or other control characters; a request that breaks any of this is a 400.)


class BadCallRequest(Refused, ValueError):
    """The call request breaks the rules above (a 400 with the reason)."""


def _text(name: str, value: object, limit: int, *, required: bool = False) -> str:
    """A field of the call request, checked (`errors.text_problem`)."""
    if value is None or value == "":
        if required:
            raise BadCallRequest(f"a call request needs {name}")
        return ""
    problem = text_problem(name, value, limit)
    if problem:
        raise BadCallRequest(problem)
    return value


def parse(content_type: str, body: bytes) -> InboundRequest:
    """The call id and numbers of a SWML (JSON) or Compatibility (form) call request; raises
    BadCallRequest saying what is wrong."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body),
                              encoding="utf-8", errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise BadCallRequest("the body is not a URL-encoded UTF-8 form") from None
        form = dict(pairs)
        if not form.get("CallSid") or not form.get("To"):
            raise BadCallRequest("a Compatibility call request needs CallSid and To")
        sid = _text("CallSid", form["CallSid"], MAX_ID_CHARS, required=True)
        to = _text("To", form["To"], MAX_NUMBER_CHARS, required=True)
        frm = _text("From", form.get("From"), MAX_NUMBER_CHARS)
        account = _text("AccountSid", form.get("AccountSid"), MAX_ID_CHARS)
        return InboundRequest(sid, frm, to, "laml", {"account_sid": account} if account else {})
    if content_type.startswith("application/json") or not content_type:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise BadCallRequest("the body is not JSON") from None
        call = payload.get("call") if isinstance(payload, dict) else None
        if not isinstance(call, dict) or not isinstance(call.get("call_id"), str) or not call["call_id"]:
            raise BadCallRequest("a SWML call request needs call.call_id")
        call_id = _text("call.call_id", call["call_id"], MAX_ID_CHARS, required=True)
        to_key = "to_number" if call.get("to_number") else "to"
        if not isinstance(call.get(to_key), str) or not call[to_key]:
            raise BadCallRequest("a SWML call request needs call.to")
        to = _text(f"call.{to_key}", call[to_key], MAX_NUMBER_CHARS, required=True)
        from_key = "from_number" if call.get("from_number") else "from"
        frm = _text(f"call.{from_key}", call.get(from_key), MAX_NUMBER_CHARS)
        meta = {k: _text(f"call.{k}", call[k], MAX_ID_CHARS)
                for k in ("project_id", "space_id", "node_id", "segment_id") if isinstance(call.get(k), str)}
        return InboundRequest(call_id, frm, to, "swml", meta)
    raise BadCallRequest(f"unsupported content type {content_type[:100]!r}: send JSON (SWML) or a form (LaML)")


def is_signed(headers: dict[str, str]) -> bool:
    """Whether the request carries a SignalWire signature at all (an unsigned one is refused
    before any lookup; a signed one is checked with the number's organisation's key)."""
    return bool(headers.get(SIGNATURE) or headers.get(TWILIO_SIGNATURE))
