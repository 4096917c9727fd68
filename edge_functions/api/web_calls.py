"""Browser calls: the credentials a browser needs to call an agent with the platform's own SDK."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from edge_functions.api.deps import Caller, caller, get_platforms
from edge_functions.api.errors import ApiRoute, errors
from switchboard import webcalls
from switchboard.spec import WebCall

router = APIRouter(route_class=ApiRoute, tags=["agents"])


class WebCallRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str = Field(max_length=40, description="the platform to call the agent on (a code of /api/providers?type=platform)")


@router.post("/agents/{agent_id}/web-calls", status_code=201, response_model=WebCall,
             responses=errors(401, 403, 404, 409, 422, 502), summary="Credentials for one browser call to the agent")
async def create_web_call(agent_id: UUID, body: WebCallRequest, who: Caller = Depends(caller),
                          platforms=Depends(get_platforms)) -> WebCall:
    """Scope: write. Short-lived credentials scoped to this agent, for the platform's browser SDK
    (`sdk`): never a secret key. 409 says what to set up first (a key, a deployment)."""
    return await webcalls.start_web_call(who.db, who.claims, who.organization_id, agent_id, body.platform, platforms)
