"""Agents: the canonical spec and the platform it runs on."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response

from edge_functions.api.deps import Caller, caller
from edge_functions.api.errors import ApiRoute, errors
from switchboard import agents
from switchboard.models import Agent, AgentDetail, AgentUpdate, Page, ProviderSelection
from switchboard.pagination import MAX_LIMIT

router = APIRouter(route_class=ApiRoute, tags=["agents"])
ETAG = {"ETag": {"description": "the version; send it back in If-Match to change this agent", "schema": {"type": "string"}}}
# Read as optional so that a missing one is answered 428 (Precondition Required) by the core,
# documented as what it is: required (FastAPI alone would answer its absence with a 422).
IF_MATCH = Header(None, alias="If-Match", include_in_schema=False)
REQUIRES_IF_MATCH = {"parameters": [{
    "name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
    "description": "ETag of the version this change is based on (from the last read); 428 without it, 412 when stale",
}]}


@router.get("/agents", response_model=Page[Agent], responses=errors(401, 403, 404, 422), summary="List agents")
async def list_agents(
    limit: int = Query(50, ge=1, le=MAX_LIMIT), cursor: str = Query(None, description="next_cursor of the previous page"),  # type: ignore[assignment]
    who: Caller = Depends(caller),
) -> Page[Agent]:
    """Scope: read. Oldest first."""
    async with who.session("read") as (conn, access):
        return await agents.list_agents(conn, access.organization_id, limit=limit, cursor=cursor)


@router.get("/agents/{agent_id}", response_model=AgentDetail, responses={200: {"headers": ETAG}, **errors(401, 403, 404, 422)},
            summary="One agent, with its deployment (and sync state) on each platform")
async def get_agent(agent_id: UUID, response: Response, who: Caller = Depends(caller)) -> AgentDetail:
    """Scope: read."""
    async with who.session("read") as (conn, access):
        agent = await agents.get_agent(conn, access.organization_id, agent_id)
    response.headers["ETag"] = agent.etag
    return agent


@router.patch("/agents/{agent_id}", response_model=AgentDetail,
              responses={200: {"headers": ETAG}, **errors(401, 403, 404, 412, 422, 428)}, summary="Edit an agent's spec",
              openapi_extra=REQUIRES_IF_MATCH)
async def patch_agent(agent_id: UUID, body: AgentUpdate, response: Response, who: Caller = Depends(caller),
                      if_match: str | None = IF_MATCH) -> AgentDetail:
    """Scope: write. Only the fields sent change; If-Match is required (412 when stale)."""
    async with who.session("write") as (conn, access):
        agent = await agents.update_agent(conn, access.organization_id, agent_id, body, if_match=if_match)
    response.headers["ETag"] = agent.etag
    return agent


@router.put("/agents/{agent_id}/provider", response_model=AgentDetail,
            responses={200: {"headers": ETAG}, **errors(401, 403, 404, 412, 422, 428)},
            summary="Switch the agent's platform, fallback order and traffic split", openapi_extra=REQUIRES_IF_MATCH)
async def put_agent_provider(agent_id: UUID, body: ProviderSelection, response: Response, who: Caller = Depends(caller),
                             if_match: str | None = IF_MATCH) -> AgentDetail:
    """Scope: write. Platforms must exist and be offered; split weights are 0..100 and sum to 100
    (or `{}`: every call on the active platform). Each platform named gets a deployment that the
    sync function brings up to date. If-Match is required (412 when stale)."""
    async with who.session("write") as (conn, access):
        agent = await agents.select_provider(conn, access.organization_id, agent_id, body, if_match=if_match)
    response.headers["ETag"] = agent.etag
    return agent
