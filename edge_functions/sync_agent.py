"""`sync-agent`: Supabase database webhooks on agent_configs / provider_configs
(`{"type","table","schema","record","old_record"}`, `Authorization: Bearer <service role key>`)
push the agent spec to the platforms through the adapters (`switchboard.agent_sync`). On plain
Postgres `switchboard serve relay` posts the same payloads."""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from edge_functions import metrics
from edge_functions.runtime import Runtime, runtime
from switchboard.agent_sync import BadDbWebhook, due_provider_configs, handle_db_webhook, sync_provider_config

router = APIRouter(tags=["sync-agent"])
log = logging.getLogger(__name__)

_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["type", "table", "record"],
            "properties": {
                "type": {"type": "string", "enum": ["INSERT", "UPDATE", "DELETE"]},
                "table": {"type": "string", "enum": ["agent_configs", "provider_configs"]},
                "schema": {"type": "string", "enum": ["public"]},
                "record": {"type": ["object", "null"]},
                "old_record": {"type": ["object", "null"]},
            },
        }}},
    }
}


def authorised(authorization: str | None) -> bool:
    """The service-role key (SUPABASE_SERVICE_ROLE_KEY, or the derived local one), or any valid
    service_role JWT of this project."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return False
    token = authorization[7:].strip()
    from switchboard.auth import AuthError, service_role_token, verify_token

    if hmac.compare_digest(token.encode(), service_role_token().encode()):
        return True
    try:
        return verify_token(token).role == "service_role"
    except AuthError:
        return False


@router.post(
    "/sync-agent",
    summary="Push an agent spec to its platforms (Supabase database webhook)",
    openapi_extra=_BODY,
    responses={200: {"description": "What was done per platform"}, 400: {"description": "Not a payload we handle"},
               401: {"description": "Not the service role"}, 503: {"description": "Database unavailable"}},
)
async def sync_agent(request: Request) -> JSONResponse:
    if not authorised(request.headers.get("authorization")):
        return JSONResponse({"error": "a service-role bearer token is required"}, status_code=401)
    rt = runtime(request)
    try:
        payload = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"error": "the body is not JSON"}, status_code=400)
    try:
        outcomes = await handle_db_webhook(rt.db, rt.providers, payload)
    except BadDbWebhook as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    for o in outcomes:
        metrics.child(metrics.DB_WEBHOOKS, o.provider, o.action).inc()
    return JSONResponse({"results": [
        {"provider": o.provider, "action": o.action, "provider_config_id": str(o.provider_config_id) if o.provider_config_id else None,
         "agent_id": o.agent_id, "error": o.error} for o in outcomes
    ]})


async def retry_due_syncs(rt: Runtime) -> int:
    """The retry loop: configs whose last sync failed (after their back-off) or never ran."""
    done = 0
    for pc_id in await due_provider_configs(rt.db):
        outcome = await sync_provider_config(rt.db, rt.providers, pc_id)
        metrics.child(metrics.DB_WEBHOOKS, outcome.provider, outcome.action).inc()
        done += outcome.action in ("created", "updated", "unchanged")
    return done
