"""`webhook-inbound-call/{provider}/{organization_id}`: pre-call webhooks of numbers hosted on a
platform — Retell's `call_inbound` (set the number's `inbound_webhook_url` to this URL) and
Vapi's `assistant-request` (the number's or the account's server URL) — answered with the
number's agent compiled from the canonical spec. Signed with the platform's webhook scheme
(the organisation's key from the path, else the server default)."""

import logging
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from edge_functions import metrics
from edge_functions.runtime import Runtime, request_headers
from edge_functions.webhook_routes import add_webhook_routes
from switchboard.db import database_unavailable
from switchboard.logs import bind
from switchboard.precall import PrecallMalformed, answer_precall, parse_precall
from switchboard.providers import registry
from switchboard.providers.base import ProviderRejected, WebhookRejected
from switchboard.providers.common import webhook_url
from switchboard.spec import AgentSpecInvalid, WebhookRequest

log = logging.getLogger(__name__)

_RESPONSES = {
    200: {"description": "The agent for the call (Retell call_inbound / Vapi assistant)"},
    400: {"description": "Not a pre-call request"},
    401: {"description": "Signature missing or wrong"},
    422: {"description": "The number's agent cannot run on this platform (its spec is invalid, or the platform refuses it)"},
    503: {"description": "Database unavailable"},
}


def make_router() -> APIRouter:
    """The routes, for the registry's platforms that send a pre-call webhook (a `precall` module)."""
    router = APIRouter(tags=["webhook-inbound-call"])
    PrecallPlatform = Literal[tuple(p.code for p in registry.with_role("precall"))]  # noqa: N806

    add_webhook_routes(router, "/webhook-inbound-call", PrecallPlatform, answer,
                       names=("inbound_call_for_org", "inbound_call"),
                       summaries=("Pick the agent for a call on a platform-hosted number",
                                  "Pick the agent for a call (server-default keys)"), responses=_RESPONSES)
    return router


async def answer(rt: Runtime, code: str, organization_id: UUID | None, request: Request) -> JSONResponse:
    body = await request.body()
    headers = request_headers(request)
    try:
        adapter = await rt.providers.get(organization_id, code)
        adapter.verify_webhook(WebhookRequest(headers=headers, body=body, url=rt.public_url(request)))
        req = parse_precall(code, body)
        bind(call_id=req.provider_call_id)
        number = await rt.router.resolve(req.to_number)
        if number is not None and organization_id is not None and number.organization_id != organization_id:
            number = None  # another tenant's number: this organisation's key does not speak for it
        if number is None:
            log.warning("pre-call webhook for a number with no agent", extra={"provider": code, "to_number": req.to_number})
        status, payload = answer_precall(req, number, webhook_url=webhook_url(
            code, rt.settings.public_base_url, number.organization_id if number else None))
    except WebhookRejected as exc:
        metrics.child(metrics.WEBHOOKS, code, "precall_rejected").inc()
        log.warning("pre-call webhook refused: %s", exc)
        return JSONResponse({"error": str(exc)}, status_code=401)
    except PrecallMalformed as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    except (AgentSpecInvalid, ProviderRejected) as exc:
        # The number's agent cannot run on this platform: said in words, the platform ends the call.
        metrics.child(metrics.WEBHOOKS, code, "precall_unanswerable").inc()
        message = exc.message if isinstance(exc, ProviderRejected) else str(exc)
        log.warning("pre-call webhook not answerable: %s", message, extra={"provider": code})
        return JSONResponse({"error": f"this number's agent cannot run on {code}: {message}"}, status_code=422)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        return JSONResponse({"error": "the database is unavailable; retry shortly"}, status_code=503,
                            headers={"Retry-After": "1"})
    metrics.child(metrics.WEBHOOKS, code, "precall_answered" if number else "precall_unknown_number").inc()
    return JSONResponse(payload, status_code=status)
