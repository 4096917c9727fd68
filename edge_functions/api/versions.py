"""Agent versions: the history, one version (with what changed since another), and publish
(rolling back is publishing an earlier number)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Query

from edge_functions.api.deps import Caller, caller
from edge_functions.api.errors import ApiRoute, errors
from switchboard import versions
from switchboard.versions import AgentVersion, Change

router = APIRouter(route_class=ApiRoute, tags=["versions"])


class VersionDetail(AgentVersion):
    compared_with: int | None = None
    changes: list[Change] = []


@router.get("/agents/{agent_id}/versions", response_model=list[AgentVersion], responses=errors(401, 403, 404, 422),
            summary="The agent's versions, newest first")
async def list_versions(agent_id: UUID, who: Caller = Depends(caller)) -> list[AgentVersion]:
    """Scope: read."""
    async with who.session("read") as (conn, access):
        return await versions.list_versions(conn, access.organization_id, agent_id)


@router.get("/agents/{agent_id}/versions/{number}", response_model=VersionDetail, responses=errors(401, 403, 404, 422),
            summary="One version, with what changed since another (by default the one before it)")
async def get_version(agent_id: UUID, number: int, compare: int = Query(None, ge=1, description="the version to compare with"),  # type: ignore[assignment]
                      who: Caller = Depends(caller)) -> VersionDetail:
    """Scope: read."""
    async with who.session("read") as (conn, access):
        version = await versions.get_version(conn, access.organization_id, agent_id, number)
        other = compare if compare is not None else (number - 1 if number > 1 else None)
        base = await versions.get_version(conn, access.organization_id, agent_id, other) if other else None
    return VersionDetail(**version.model_dump(), compared_with=other,
                         changes=versions.diff_specs(base.spec, version.spec) if base else [])


@router.post("/agents/{agent_id}/versions/{number}/publish", response_model=AgentVersion,
             responses=errors(401, 403, 404, 409, 422), summary="Make a version live (and sync it to the platforms)")
async def publish_version(agent_id: UUID, number: int, who: Caller = Depends(caller)) -> AgentVersion:
    """Scope: write. Publishing an earlier number rolls back to it. A publish racing another
    publish or save of the same agent is refused with 409; the platforms are synced after."""
    async with who.session("write") as (conn, access):
        return await versions.publish(conn, access.organization_id, agent_id, number)
