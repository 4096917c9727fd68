"""Calls: a filtered, keyset-paginated list, its CSV export (streamed), and one call with what
it cost."""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

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


@router.get("/calls.csv", response_class=StreamingResponse, summary="Export the filtered calls as CSV",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "one row per call, newest first; header: " + ",".join(calls.CSV_COLUMNS)},
                       **errors(401, 403, 404, 422)})
async def export_calls_csv(filters: Annotated[CallFilters, Query()], who: Caller = Depends(caller)) -> StreamingResponse:
    """Scope: read. The same filters as the list; streamed page by page (constant memory at
    millions of calls). Cells that a spreadsheet would read as a formula start with `'`."""
    stack = AsyncExitStack()
    try:
        conn, access = await stack.enter_async_context(who.session("read"))
        chunks = calls.export_csv(conn, access.organization_id, filters)
        first = await anext(chunks)  # the filters are checked before a byte is sent
    except BaseException:
        await stack.__aexit__(*sys.exc_info())
        raise

    async def body():
        try:
            yield first
            async for chunk in chunks:
                yield chunk
        except BaseException:
            await stack.__aexit__(*sys.exc_info())
            raise
        else:
            await stack.aclose()

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="calls.csv"',
                                      "Cache-Control": "no-store"})


@router.get("/calls/{call_id}", response_model=CallDetail, responses=errors(401, 403, 404, 422),
            summary="One call: transcript, recording, analysis and cost breakdown")
async def get_call(call_id: UUID, who: Caller = Depends(caller)) -> CallDetail:
    """Scope: read."""
    async with who.session("read") as (conn, access):
        return await calls.get_call(conn, access.organization_id, call_id)
