"""`provider-webhook-router/{provider}/{organization_id}`: every platform's call webhooks.

Configure each platform to call (PUBLIC_BASE_URL +)
`/functions/v1/provider-webhook-router/<retell|vapi|signalwire|livekit>/<organization id>` — the
organisation in the path picks the key the signature is checked with (its own secret, else the
server default). `/functions/v1/provider-webhook-router/<provider>` (or `?organization_id=`)
checks with the server defaults only.

Order of work, so that a 2xx always means "on disk":
1. verify the signature with the platform's published scheme → 401 and nothing stored if bad;
2. parse it into normalised events → 400 with the reason, the body kept in the dead letters;
3. store the raw event in the inbox (unique per platform event, synchronous_commit on) and
   commit → 200 (a redelivery: 200 "duplicate", stored once);
4. after answering, merge the events into call_records/provider_usage (`switchboard.ingest`);
   a row a crash left pending is picked up by the drain loop of any replica.
The database unreachable at 2 or 3 → 503, so the platform retries.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Literal, get_args
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from edge_functions import metrics
from edge_functions.runtime import Runtime, request_headers, runtime
from switchboard.ingest import InboxItem, claim_event, claim_pending, process_inbox_row, store_dead_letter
from switchboard.logs import bind, call_context
from switchboard.providers.base import CallEvent, WebhookMalformed, WebhookRejected, WebhookRequest

router = APIRouter(tags=["provider-webhook-router"])
log = logging.getLogger(__name__)

Platform = Literal["retell", "vapi", "signalwire", "livekit"]
MAX_BODY_BYTES = 2 * 1024 * 1024

_RESPONSES = {
    200: {"description": "Stored (or a duplicate of a stored event)"},
    400: {"description": "Authentic but malformed: the reason; the body is kept in the dead letters"},
    401: {"description": "Signature missing or wrong: nothing stored"},
    413: {"description": "Body too large"},
    503: {"description": "Database unavailable: retry"},
}
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


def inbox_event_id(events: list[CallEvent], body: bytes) -> str:
    """The de-duplication key: the platform event's id, or a hash of the body when the request
    carries several events or none we record."""
    if len(events) == 1:
        return events[0].event_id
    return "sha256:" + hashlib.sha256(body).hexdigest()


@router.post("/provider-webhook-router/{provider}/{organization_id}", summary="Receive a platform's call webhook for an organisation",
             responses=_RESPONSES, openapi_extra=_BODY)
async def provider_webhook_for_org(provider: Platform, organization_id: UUID, request: Request) -> JSONResponse:
    return await receive(runtime(request), provider, organization_id, request)


@router.post("/provider-webhook-router/{provider}", summary="Receive a platform's call webhook (server-default keys)",
             responses=_RESPONSES, openapi_extra=_BODY)
async def provider_webhook(provider: Platform, request: Request,
                           organization_id: UUID | None = Query(None, description="The organisation whose keys sign it")) -> JSONResponse:
    return await receive(runtime(request), provider, organization_id, request)


def fast_endpoint(rest: str) -> Callable[[Request], Awaitable[Response]] | None:
    """The handler for `<provider>/<organization id>` (the hot path, served without FastAPI's
    routing), or None for anything else — FastAPI then answers it (422 for a bad provider or id)."""
    provider, _, org = rest.partition("/")
    if provider not in _PLATFORMS or not org or "/" in org:
        return None
    try:
        organization_id = UUID(org)
    except ValueError:
        return None
    return functools.partial(_receive_for_org, provider, organization_id)


_PLATFORMS = frozenset(get_args(Platform))


async def _receive_for_org(provider: str, organization_id: UUID, request: Request) -> JSONResponse:
    return await receive(runtime(request), provider, organization_id, request)


async def receive(rt: Runtime, code: str, organization_id: UUID | None, request: Request) -> JSONResponse:
    t0 = time.perf_counter()
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        metrics.child(metrics.WEBHOOKS, code, "too_large").inc()
        return JSONResponse({"error": f"body over {MAX_BODY_BYTES} bytes"}, status_code=413)
    headers = request_headers(request)
    key_org = organization_id if organization_id is not None else await _claimed_organisation(rt, code, headers, body)
    adapter = await rt.providers.get(key_org, code)
    try:
        wreq = rt.verify_signed(adapter, request, headers, body)
    except WebhookRejected as rejected:
        # Not counted in the platform's health: a forged request is not the platform's outcome.
        metrics.child(metrics.WEBHOOKS, code, "rejected").inc()
        log.warning("webhook refused: %s", rejected, extra={"provider": code})
        return JSONResponse({"error": str(rejected)}, status_code=401)

    try:
        events = adapter.parse_webhook(wreq)
    except Exception as exc:  # WebhookMalformed, or a payload our parser did not expect
        reason = str(exc) if isinstance(exc, WebhookMalformed) else f"unreadable payload ({type(exc).__name__}: {exc})"
        async with rt.db.as_service() as conn:
            await store_dead_letter(conn, code, reason, headers, body, request.client.host if request.client else None)
        metrics.child(metrics.WEBHOOKS, code, "malformed").inc()
        await rt.breaker.outcome(code, "webhook", False, (time.perf_counter() - t0) * 1000)
        log.warning("webhook malformed: %s", reason, extra={"provider": code})
        return JSONResponse({"error": reason}, status_code=400)

    if organization_id is not None:
        # The path's organisation is the one whose key signed it: it speaks for that tenant only.
        events = [e.model_copy(update={"organization_id": organization_id}) for e in events]
    event_id = inbox_event_id(events, body)
    first = events[0] if events else None
    bind(call_id=first.provider_call_id if first else None, event_id=event_id, provider=code)
    new = await rt.inbox.submit(InboxItem(
        code, event_id, first.event_type if first else _event_type(body), headers, body,
        organization_id or (first.organization_id if first else None), first.provider_call_id if first else None,
    ))
    # Committed (synchronous_commit on): from here the event survives a crash of this process.
    metrics.child(metrics.WEBHOOKS, code, "stored" if new else "duplicate").inc()
    await rt.breaker.outcome(code, "webhook", True, (time.perf_counter() - t0) * 1000)
    if new:
        rt.spawn(_process(rt, code, event_id, events))
    return JSONResponse({"status": "stored" if new else "duplicate", "event_id": event_id})


async def _claimed_organisation(rt: Runtime, code: str, headers: dict[str, str], body: bytes) -> UUID | None:
    """Without an organisation in the path: the one the event's metadata names (we attached it at
    hand-off). Only a hint for choosing the key: the signature must then verify under that
    organisation's key, so a forged claim fails like any bad signature."""
    try:
        events = (await rt.providers.get(None, code)).parse_webhook(WebhookRequest(headers=headers, body=body, url=""))
    except Exception:
        return None
    return events[0].organization_id if events else None


def _event_type(body: bytes) -> str | None:
    import json

    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if isinstance(payload, dict):
        for key in ("event", "type"):
            if isinstance(payload.get(key), str):
                return payload[key]
        msg = payload.get("message")
        if isinstance(msg, dict) and isinstance(msg.get("type"), str):
            return msg["type"]
    return None


_NOT_DURABLE = "set local synchronous_commit = off"  # processing: the inbox row is the durable truth


async def _process(rt: Runtime, code: str, event_id: str, events: list[CallEvent]) -> None:
    """Merge a just-stored event (after the answer went out). When every processing slot is busy
    the event stays pending for the drain loop, which merges rows in batches: under a burst,
    answering (and storing) comes first.

    Processing commits without waiting for the disk: a crash can lose a merge, but then it also
    loses the row's `processed` mark (same transaction), so the drain merges it again."""
    if rt.processing.locked():
        metrics.child(metrics.WEBHOOKS, code, "deferred").inc()
        return
    with call_context(call_id=events[0].provider_call_id if events else None, event_id=event_id, provider=code):
        ok = False
        try:
            async with rt.processing, rt.db.as_service() as conn:
                await conn.execute(_NOT_DURABLE)
                row = await claim_event(conn, code, event_id)
                if row is None:
                    return  # another process has it, or it is done
                ok = await process_inbox_row(conn, row, lambda _row: events, rt.prices)
        except Exception as exc:  # left pending/failed in the inbox: the drain loop retries it
            log.warning("processing deferred: %s", type(exc).__name__)
        metrics.child(metrics.WEBHOOKS, code, "processed" if ok else "failed").inc()


async def drain_inbox(rt: Runtime, *, older_than_seconds: float = 1.0, limit: int = 200) -> int:
    """Process inbox rows still pending (deferred under load, or left by a crash) or failed with
    attempts left, `limit` per transaction until none is left. Returns how many succeeded."""
    done = 0
    while True:
        ok, claimed = await _drain_batch(rt, older_than_seconds, limit)
        done += ok
        if claimed < limit:
            return done


async def _drain_batch(rt: Runtime, older_than_seconds: float, limit: int) -> tuple[int, int]:
    done = 0
    async with rt.db.as_service() as conn:
        await conn.execute(_NOT_DURABLE)
        rows = await claim_pending(conn, limit=limit, older_than_seconds=older_than_seconds)
        for row in rows:
            adapter = await rt.providers.get(row["organization_id"], row["provider"])

            def parse(r, adapter=adapter):
                events = adapter.parse_webhook(WebhookRequest(headers=dict(r["headers"]), body=bytes(r["body"]), url=""))
                if r["organization_id"] is not None:
                    events = [e.model_copy(update={"organization_id": r["organization_id"]}) for e in events]
                return events

            ok = await process_inbox_row(conn, row, parse, rt.prices)
            metrics.child(metrics.WEBHOOKS, row["provider"], "processed" if ok else "failed").inc()
            done += ok
    if rows:
        log.info("drained the webhook inbox", extra={"rows": len(rows), "processed": done})
    return done, len(rows)
