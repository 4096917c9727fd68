"""`voice-ai-router`: SignalWire's request for what to do with a call arriving on one of our
numbers — a SWML call webhook (JSON) or a Compatibility (LaML) form post — answered with a SWML
document or LaML that hands the call to the platform chosen by the core router.

Order matters, because every tenant (and anyone on the internet) can call this URL:

1. parse: malformed input — not JSON, bad form encoding, NUL or other control characters,
   oversize fields — is a 400 that says what is wrong (and never reaches the database);
2. signature: a request that carries no SignalWire signature is refused before anything is
   looked up; a signed one is checked with the key of the organisation owning the number (its
   `signalwire` secret field `signing_key`), else — and for a number we do not know — the
   server's SIGNALWIRE_SIGNING_KEY. Every refusal is the same 401, whatever the number, so the
   answer never tells which numbers are live;
3. only an authentic request is routed; a number we do not know gets a spoken apology and a
   hang-up, and so does anything that goes wrong past this point (logged) — never a 500.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from edge_functions import metrics
from edge_functions.runtime import request_headers, runtime
from switchboard.db import database_unavailable
from switchboard.inbound import NO_PLATFORM_MESSAGE, UNKNOWN_NUMBER_MESSAGE, apology_answer
from switchboard.logs import bind
from switchboard.providers.base import WebhookRejected
from switchboard.providers.signalwire.webhooks import SIGNATURE, TWILIO_SIGNATURE
from switchboard.spec import HandOff, InboundRequest

router = APIRouter(tags=["voice-ai-router"])
log = logging.getLogger(__name__)

MAX_ID_CHARS = 256  # call ids, project/space/node ids
MAX_NUMBER_CHARS = 256  # an E.164 number, or a SIP address
REFUSED = "bad or missing SignalWire signature"  # the one answer to every request not signed right


_ID = {"type": "string", "maxLength": MAX_ID_CHARS}
_NUMBER = {"type": "string", "maxLength": MAX_NUMBER_CHARS}
_REQUEST_BODY = {
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


class BadCallRequest(ValueError):
    pass


def _text(name: str, value: object, limit: int, *, required: bool = False) -> str:
    """A field of the call request, checked: a string, of sane length, without NUL or other
    control characters (Postgres text cannot hold NUL; nothing of ours needs the others)."""
    if value is None or value == "":
        if required:
            raise BadCallRequest(f"a call request needs {name}")
        return ""
    if not isinstance(value, str):
        raise BadCallRequest(f"{name} must be a string")
    if len(value) > limit:
        raise BadCallRequest(f"{name} is longer than {limit} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise BadCallRequest(f"{name} may not contain NUL or other control characters")
    return value


def parse_call_request(content_type: str, body: bytes) -> InboundRequest:
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


def render(answer: HandOff, status_code: int = 200) -> Response:
    if answer.laml is not None:
        return Response(answer.laml, status_code=status_code, media_type="application/xml")
    return Response(orjson.dumps(answer.swml), status_code=status_code, media_type="application/json")


@router.post(
    "/voice-ai-router",
    summary="Answer SignalWire's call request with the platform hand-off (SWML or LaML)",
    openapi_extra={"requestBody": _REQUEST_BODY},
    responses={
        200: {"description": "SWML (JSON) or LaML (XML): hand-off, or apology and hang-up",
              "content": {"application/json": {}, "application/xml": {}}},
        400: {"description": "Not a call request"},
        401: {"description": "Bad or missing SignalWire signature"},
        503: {"description": "Database unavailable"},
    },
)
async def voice_ai_router(request: Request) -> Response:
    rt = runtime(request)
    body = await request.body()
    headers = request_headers(request)
    stage = "bad_request"
    try:
        call = parse_call_request(headers.get("content-type", "").lower(), body)
        stage = "rejected"
        if not (headers.get(SIGNATURE) or headers.get(TWILIO_SIGNATURE)):
            raise WebhookRejected("signalwire: the request is not signed")  # refused before any lookup
        number = await rt.router.resolve(call.to_number)
        # The key of the number's organisation (else the server's), the server's for a number we
        # do not know: a forged request is refused the same way either way.
        signalwire = await rt.providers.get(number.organization_id if number else None, "signalwire",
                                            number.secrets_version.get("signalwire") if number else None,
                                            known_version=True)
        rt.verify_signed(signalwire, request, headers, body)
        stage = "routing"
        bind(call_id=call.telephony_call_id)
        if number is None:
            log.warning("call to a number with no agent: apology and hang-up",
                        extra={"to_number": call.to_number, "from_number": call.from_number})
            metrics.child(metrics.ROUTING_DECISIONS, "none", "unknown_number").inc()
            return render(apology_answer(call.answer_format, UNKNOWN_NUMBER_MESSAGE))
        result = await rt.router.route(call, number)
    except BadCallRequest as exc:
        metrics.child(metrics.ROUTING_DECISIONS, "none", "bad_request").inc()
        return JSONResponse({"error": str(exc)}, status_code=400)
    except WebhookRejected as exc:
        metrics.child(metrics.ROUTING_DECISIONS, "none", "rejected").inc()
        log.warning("call request refused: %s", exc)
        return JSONResponse({"error": REFUSED}, status_code=401)
    except Exception as exc:
        if database_unavailable(exc):
            metrics.child(metrics.ROUTING_DECISIONS, "none", "unavailable").inc()
            log.warning("call request not answered: the database is unavailable (%s)", type(exc).__name__)
            return JSONResponse({"error": "the database is unavailable; retry shortly"}, status_code=503,
                                headers={"Retry-After": "1"})
        if stage != "routing":  # not yet known to be authentic: the same refusal as any other
            log.exception("call request refused: checking it raised")
            metrics.child(metrics.ROUTING_DECISIONS, "none", "rejected").inc()
            return JSONResponse({"error": REFUSED}, status_code=401)
        log.exception("routing the call raised: apology and hang-up")
        metrics.child(metrics.ROUTING_DECISIONS, "none", "error").inc()
        return render(apology_answer(call.answer_format, NO_PLATFORM_MESSAGE))
    metrics.child(metrics.ROUTING_DECISIONS, result.provider or "none", result.outcome).inc()
    return render(result.answer)
