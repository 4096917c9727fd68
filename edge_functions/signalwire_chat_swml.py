"""`signalwire-chat-swml`: the SWML document of an agent for one SignalWire text conversation,
fetched by SignalWire at the signed `config_url` we gave `create_conversation`
(`switchboard.providers.signalwire.chat`). A bad, expired or missing signature is a 401 with
nothing read."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from edge_functions.runtime import runtime
from switchboard.conversations.swml import conversation_swml
from switchboard.errors import NotFound
from switchboard.providers.signalwire.chat import SWML_FUNCTION, verify_swml_url

router = APIRouter(tags=["signalwire-chat-swml"])
PATH = f"/{SWML_FUNCTION}/{{organization_id}}/{{agent_id}}/{{conversation_id}}"


@router.api_route(PATH, methods=["GET", "POST"], summary="The agent's SWML for a SignalWire text conversation",
                  responses={200: {"description": "SWML (JSON)", "content": {"application/json": {}}},
                             401: {"description": "Bad, expired or missing signature"},
                             404: {"description": "No such agent"}})
async def signalwire_chat_swml(organization_id: str, agent_id: str, conversation_id: str, request: Request,
                               expires: str | None = None, sig: str | None = None) -> JSONResponse:
    rt = runtime(request)
    if not verify_swml_url(rt.settings, organization_id, agent_id, conversation_id, expires, sig):
        return JSONResponse({"error": "the link is not valid (bad or expired signature)"}, status_code=401)
    try:
        return JSONResponse(await conversation_swml(rt.db, UUID(organization_id), UUID(agent_id)))
    except NotFound:
        return JSONResponse({"error": "no such agent"}, status_code=404)
