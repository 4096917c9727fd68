"""Outbound calls and the do-not-call list: place a call through a platform (or the agent's
routing), end a live call, and keep the numbers never to dial. Thin: parse → one core call."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from edge_functions.api.deps import Caller, caller, platform_services
from edge_functions.api.errors import ApiRoute, errors
from switchboard import outbound
from switchboard.onboarding import E164
from switchboard.outbound import CallRequest, DoNotCallEntry, EndedCall, PlacedCall

E164_PATTERN = E164.pattern
router = APIRouter(route_class=ApiRoute, tags=["calls"])
do_not_call_router = APIRouter(route_class=ApiRoute, tags=["do-not-call"])


class CallBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    agent_id: UUID
    to: str = Field(max_length=32, pattern=E164_PATTERN, description="the number to call, E.164 (+14155550123)")
    from_number: str | None = Field(None, alias="from", max_length=32, pattern=E164_PATTERN,
                                    description="the caller id: one of the organisation's numbers (default: the agent's, "
                                                "else the organisation's first)")
    platform: str | None = Field(None, max_length=32, description="a platform code (GET /api/providers?type=platform); "
                                                                   "default: the agent's routing (split, active, fallback)")


@router.post("/calls", response_model=PlacedCall, status_code=201, responses=errors(401, 403, 404, 422, 502),
             summary="Place an outbound call")
async def place_call(body: CallBody, request: Request, who: Caller = Depends(caller)) -> PlacedCall:
    """Scope: write. Refused (422/403, nothing stored) for a number that is not E.164, a caller id
    that is not the organisation's, or a number on its do-not-call list. Otherwise the call's
    record is written and the call handed to the first platform that takes it; 502 when none did
    (the record then says not_connected, with each platform's reason)."""
    platforms, breaker = platform_services(request)
    return await outbound.place_call(who.db, who.claims, who.organization_id,
                                     CallRequest(**body.model_dump()), platforms=platforms, breaker=breaker)


@router.post("/calls/{call_id}/end", response_model=EndedCall, responses=errors(401, 403, 404, 422, 502),
             summary="End a live call")
async def end_call(call_id: UUID, request: Request, who: Caller = Depends(caller)) -> EndedCall:
    """Scope: write. Asks the call's platform to hang up; the platform's webhooks record the end."""
    platforms, _ = platform_services(request)
    return await outbound.end_call(who.db, who.claims, who.organization_id, call_id, platforms=platforms)


class DoNotCallBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    e164: str = Field(max_length=32, pattern=E164_PATTERN, description="the number never to call, E.164")
    reason: str | None = Field(None, max_length=500)


class DoNotCallList(BaseModel):
    items: list[DoNotCallEntry]


@do_not_call_router.get("/do-not-call", response_model=DoNotCallList, responses=errors(401, 403, 404),
                        summary="The organisation's do-not-call list")
async def list_do_not_call(who: Caller = Depends(caller)) -> DoNotCallList:
    """Scope: read."""
    async with who.session("read") as (conn, access):
        return DoNotCallList(items=await outbound.list_numbers(conn, access.organization_id))


@do_not_call_router.post("/do-not-call", response_model=DoNotCallEntry, status_code=201,
                         responses=errors(401, 403, 404, 422), summary="Add a number to the do-not-call list")
async def add_do_not_call(body: DoNotCallBody, who: Caller = Depends(caller)) -> DoNotCallEntry:
    """Scope: write. Adding a number already listed answers its entry."""
    async with who.session("write") as (conn, access):
        return await outbound.add_number(conn, access.organization_id, access.user_id, body.e164, body.reason)


@do_not_call_router.delete("/do-not-call/{e164}", status_code=204, response_class=Response,
                           responses=errors(401, 403, 404, 422), summary="Remove a number from the do-not-call list")
async def remove_do_not_call(e164: Annotated[str, Path(pattern=E164_PATTERN, max_length=32)], who: Caller = Depends(caller)) -> Response:
    """Scope: write."""
    async with who.session("write") as (conn, access):
        await outbound.remove_number(conn, access.organization_id, e164)
    return Response(status_code=204)
