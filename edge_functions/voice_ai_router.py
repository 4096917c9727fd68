"""`voice-ai-router`: SignalWire's request for what to do with a call arriving on one of our
numbers — a SWML call webhook (JSON) or a Compatibility (LaML) form post — answered with a SWML
document or LaML that hands the call to the platform chosen by the core router.

Signed with SignalWire's scheme (the organisation's `signalwire` secret field `signing_key`,
else SIGNALWIRE_SIGNING_KEY); a number we do not know gets a spoken apology and a hang-up.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from edge_functions import metrics
from edge_functions.runtime import request_headers, runtime
from switchboard.inbound import UNKNOWN_NUMBER_MESSAGE, InboundRequest, apology_answer
from switchboard.logs import bind
from switchboard.providers.base import HandOff, WebhookRejected

router = APIRouter(tags=["voice-ai-router"])
log = logging.getLogger(__name__)

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
                            "call_id": {"type": "string"}, "from": {"type": "string"}, "to": {"type": "string"},
                            "from_number": {"type": "string"}, "to_number": {"type": "string"},
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
                "properties": {"CallSid": {"type": "string"}, "From": {"type": "string"}, "To": {"type": "string"},
                               "AccountSid": {"type": "string"}, "CallStatus": {"type": "string"}},
            }
        },
    },
}


class BadCallRequest(ValueError):
    pass


def parse_call_request(content_type: str, body: bytes) -> InboundRequest:
    """The call id and numbers of a SWML (JSON) or Compatibility (form) call request."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if not form.get("CallSid") or not form.get("To"):
            raise BadCallRequest("a Compatibility call request needs CallSid and To")
        return InboundRequest(form["CallSid"], form.get("From", ""), form["To"], "laml",
                              {"account_sid": form.get("AccountSid")} if form.get("AccountSid") else {})
    if content_type.startswith("application/json") or not content_type:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise BadCallRequest("the body is not JSON") from None
        call = payload.get("call") if isinstance(payload, dict) else None
        if not isinstance(call, dict) or not isinstance(call.get("call_id"), str) or not call["call_id"]:
            raise BadCallRequest("a SWML call request needs call.call_id")
        to = call.get("to_number") or call.get("to")
        if not isinstance(to, str) or not to:
            raise BadCallRequest("a SWML call request needs call.to")
        frm = call.get("from_number") or call.get("from") or ""
        meta = {k: call[k] for k in ("project_id", "space_id", "node_id", "segment_id") if isinstance(call.get(k), str)}
        return InboundRequest(call["call_id"], str(frm), to, "swml", meta)
    raise BadCallRequest(f"unsupported content type {content_type!r}")


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
    try:
        call = parse_call_request(headers.get("content-type", "").lower(), body)
    except BadCallRequest as exc:
        metrics.child(metrics.ROUTING_DECISIONS, "none", "bad_request").inc()
        return JSONResponse({"error": str(exc)}, status_code=400)
    bind(call_id=call.telephony_call_id)
    number = await rt.router.resolve(call.to_number)
    if number is None:
        log.warning("call to a number with no agent: apology and hang-up",
                    extra={"to_number": call.to_number, "from_number": call.from_number})
        metrics.child(metrics.ROUTING_DECISIONS, "none", "unknown_number").inc()
        return render(apology_answer(call.answer_format, UNKNOWN_NUMBER_MESSAGE))

    signalwire = await rt.providers.get(number.organization_id, "signalwire",
                                        number.secrets_version.get("signalwire"), known_version=True)
    try:
        rt.verify_signed(signalwire, request, headers, body)
    except WebhookRejected as exc:
        metrics.child(metrics.ROUTING_DECISIONS, "none", "rejected").inc()
        log.warning("call request refused: %s", exc)
        return JSONResponse({"error": str(exc)}, status_code=401)

    result = await rt.router.route(call, number)
    metrics.child(metrics.ROUTING_DECISIONS, result.provider or "none", result.outcome).inc()
    return render(result.answer)

