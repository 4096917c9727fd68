"""`provider-webhook-router/{provider}/{organization_id}`: every platform's call webhooks.

Configure each platform to call (PUBLIC_BASE_URL +)
`/functions/v1/provider-webhook-router/<platform code>/<organization id>` — the
organisation in the path picks the key the signature is checked with (its own secret, else the
server default). `/functions/v1/provider-webhook-router/<provider>` (or `?organization_id=`)
checks with the server defaults, or the keys of the organisation the event's metadata names.

The inbox is conducted by `switchboard.inbox` (its invariants are there): a 2xx means on disk,
401 stores nothing, 400 keeps the body with the reason, 404 for an organisation that does not
exist, a redelivery is 200 "duplicate", and the database unreachable is 503 (the platform retries).
"""

import functools
from collections.abc import Awaitable, Callable
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from edge_functions.runtime import Runtime, request_headers, runtime
from edge_functions.webhook_routes import add_webhook_routes
from switchboard.inbox import Delivery
from switchboard.providers import registry

_STATUS = {"stored": 200, "duplicate": 200, "unknown_organisation": 404, "rejected": 401, "malformed": 400, "refused": 500}
_RESPONSES = {
    200: {"description": "Stored (or a duplicate of a stored event)"},
    400: {"description": "Authentic but malformed: the reason; the body is kept in the dead letters"},
    401: {"description": "Signature missing or wrong: nothing stored"},
    404: {"description": "No such organisation: nothing stored"},
    413: {"description": "Body too large"},
    503: {"description": "Database unavailable: retry"},
}


def make_router() -> APIRouter:
    """The routes, for the platforms of the registry as it is when the app is built."""
    router = APIRouter(tags=["provider-webhook-router"])
    Platform = Literal[registry.codes()]  # noqa: N806 (a type, built from the registry)

    add_webhook_routes(router, "/provider-webhook-router", Platform, receive,
                       names=("provider_webhook_for_org", "provider_webhook"),
                       summaries=("Receive a platform's call webhook for an organisation",
                                  "Receive a platform's call webhook (server-default keys)"), responses=_RESPONSES)
    return router


def fast_endpoint(rest: str) -> Callable[[Request], Awaitable[Response]] | None:
    """The handler for `<provider>/<organization id>` (the hot path, served without FastAPI's
    routing), or None for anything else — FastAPI then answers it (422 for a bad provider or id)."""
    provider, _, org = rest.partition("/")
    if provider not in registry.PLATFORMS or not org or "/" in org:
        return None
    try:
        organization_id = UUID(org)
    except ValueError:
        return None
    return functools.partial(_receive_for_org, provider, organization_id)


async def _receive_for_org(provider: str, organization_id: UUID, request: Request) -> JSONResponse:
    return await receive(runtime(request), provider, organization_id, request)


async def receive(rt: Runtime, code: str, organization_id: UUID | None, request: Request) -> JSONResponse:
    body = await request.body()  # bounded at the door (edge_functions.body_limit: 413 past 2 MiB)
    outcome = await rt.webhooks.receive(Delivery(
        code, organization_id, request_headers(request), body, rt.public_url(request),
        received_url=lambda: str(request.url), remote_addr=request.client.host if request.client else None,
    ))
    if outcome.status in ("stored", "duplicate"):
        return JSONResponse({"status": outcome.status, "event_id": outcome.event_id})
    return JSONResponse({"error": outcome.error}, status_code=_STATUS[outcome.status])


async def drain_inbox(rt: Runtime, *, older_than_seconds: float = 1.0, limit: int = 200) -> int:
    """The drain loop's tick (switchboard.inbox.WebhookInbox.drain)."""
    return await rt.webhooks.drain(older_than_seconds=older_than_seconds, limit=limit)
