"""Conversations with an agent by text, on a platform of the caller's choice (issue #14). The core
checks the caller's organisation and scope in its own transactions (it holds none while the
platform answers)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from edge_functions.api.deps import Caller, caller
from edge_functions.api.errors import ApiRoute, errors
from switchboard import conversations
from switchboard.conversations import Conversation, Turn
from switchboard.models import PlatformCode
from switchboard.platforms import PlatformSource

router = APIRouter(route_class=ApiRoute, tags=["conversations"])


class StartConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: PlatformCode = Field(description="livekit, retell, vapi or signalwire")


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000, description="what the caller writes")


def platforms(request: Request) -> PlatformSource:
    """The edge server's adapters (its runtime's), or, on a bare app, one source kept on the app."""
    state = request.app.state
    runtime = getattr(state, "runtime", None)
    if runtime is not None:
        return runtime.providers
    if getattr(state, "platforms", None) is None:
        from switchboard.settings import get_settings

        state.platforms = PlatformSource(state.db, get_settings())
    return state.platforms


@router.post("/agents/{agent_id}/conversations", response_model=Conversation, status_code=201,
             responses=errors(401, 403, 404, 409, 422), summary="Start a text conversation with the agent on a platform")
async def start_conversation(agent_id: UUID, body: StartConversation, who: Caller = Depends(caller),
                             source: PlatformSource = Depends(platforms)) -> Conversation:
    """Scope: write. The agent's greeting, when it speaks first, is turn 0. A platform that cannot
    be tried yet is refused (422) with what is missing ("add your Retell API key in Settings");
    one that fails or refuses the conversation answers 409 with the reason in our words."""
    return await conversations.start(who.db, who.claims, who.organization_id, agent_id, body.platform, source)


@router.get("/agents/{agent_id}/conversations/{conversation_id}", response_model=Conversation,
            responses=errors(401, 403, 404, 422), summary="A conversation with its turns")
async def get_conversation(agent_id: UUID, conversation_id: UUID, who: Caller = Depends(caller)) -> Conversation:
    """Scope: read."""
    return await conversations.get(who.db, who.claims, who.organization_id, agent_id, conversation_id)


@router.post("/agents/{agent_id}/conversations/{conversation_id}/messages", response_model=Turn,
             responses=errors(401, 403, 404, 409, 422), summary="Write to the agent; its reply, tool calls and latency")
async def send_message(agent_id: UUID, conversation_id: UUID, body: Message, who: Caller = Depends(caller),
                       source: PlatformSource = Depends(platforms)) -> Turn:
    """Scope: write. 409 when the conversation has ended or the platform failed the turn."""
    return await conversations.say(who.db, who.claims, who.organization_id, agent_id, conversation_id, body.text, source)


@router.delete("/agents/{agent_id}/conversations/{conversation_id}", status_code=204,
               responses=errors(401, 403, 404, 422), summary="End the conversation")
async def end_conversation(agent_id: UUID, conversation_id: UUID, who: Caller = Depends(caller),
                           source: PlatformSource = Depends(platforms)) -> Response:
    """Scope: write. Ending an ended conversation changes nothing."""
    await conversations.end(who.db, who.claims, who.organization_id, agent_id, conversation_id, source)
    return Response(status_code=204)
