"""Calls: a filtered, keyset-paginated list, and one call with what it cost."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from edge_functions.api.deps import Caller, caller
from edge_functions.api.errors import ApiRoute, errors
from switchboard import calls
from switchboard.models import CallDetail, CallFilters, CallSummary, Page
from switchboard.pagination import MAX_LIMIT

router = APIRouter(route_class=ApiRoute, tags=["calls"])


@router.get("/calls", response_model=Page[CallSummary], responses=errors(401, 403, 404, 422), summary="List calls")
async def list_calls(
    filters: Annotated[CallFilters, Query()],
    limit: int = Query(50, ge=1, le=MAX_LIMIT), cursor: str = Query(None, description="next_cursor of the previous page"),  # type: ignore[assignment]
    who: Caller = Depends(caller),
) -> Page[CallSummary]:
    """Scope: read. Newest first; filters combine (and). A page costs the same however deep it is."""
    async with who.session("read") as (conn, access):
        return await calls.list_calls(conn, access.organization_id, filters, limit=limit, cursor=cursor)


@router.get("/calls/{call_id}", response_model=CallDetail, responses=errors(401, 403, 404, 422),
            summary="One call: transcript, recording, analysis and cost breakdown")
async def get_call(call_id: UUID, who: Caller = Depends(caller)) -> CallDetail:
    """Scope: read."""
    async with who.session("read") as (conn, access):
        return await calls.get_call(conn, access.organization_id, call_id)
