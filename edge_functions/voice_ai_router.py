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

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from edge_functions import metrics
from edge_functions.runtime import request_headers, runtime
from switchboard.db import database_unavailable
from switchboard.providers import registry
from switchboard.providers.base import WebhookRejected
from switchboard.spec import HandOff

router = APIRouter(tags=["voice-ai-router"])
log = logging.getLogger(__name__)

REFUSED = "bad or missing SignalWire signature"  # the one answer to every request not signed right


def _carrier():
    """The folder module parsing the call requests of our numbers' carrier (SignalWire's)."""
    return registry.role_module(registry.carrier().code, "inbound")


def render(answer: HandOff, status_code: int = 200) -> Response:
    if answer.laml is not None:
        return Response(answer.laml, status_code=status_code, media_type="application/xml")
    return Response(orjson.dumps(answer.swml), status_code=status_code, media_type="application/json")


@router.post(
    "/voice-ai-router",
    summary="Answer SignalWire's call request with the platform hand-off (SWML or LaML)",
    openapi_extra={"requestBody": _carrier().REQUEST_BODY},
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
    carrier = _carrier()
    try:
        call = carrier.parse(headers.get("content-type", "").lower(), body)
        if not carrier.is_signed(headers):
            raise WebhookRejected("the call request is not signed")  # refused before any lookup
        result = await rt.router.answer(call, lambda adapter: rt.verify_signed(adapter, request, headers, body))
    except carrier.BadCallRequest as exc:
        metrics.child(metrics.ROUTING_DECISIONS, "none", "bad_request").inc()
        return JSONResponse({"error": str(exc)}, status_code=400)
    except WebhookRejected as exc:
        metrics.child(metrics.ROUTING_DECISIONS, "none", "rejected").inc()
        log.warning("call request refused: %s", exc)
        return JSONResponse({"error": REFUSED}, status_code=401)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        metrics.child(metrics.ROUTING_DECISIONS, "none", "unavailable").inc()
        log.warning("call request not answered: the database is unavailable (%s)", type(exc).__name__)
        return JSONResponse({"error": "the database is unavailable; retry shortly"}, status_code=503,
                            headers={"Retry-After": "1"})
    metrics.child(metrics.ROUTING_DECISIONS, result.provider or "none", result.outcome).inc()
    return render(result.answer)
