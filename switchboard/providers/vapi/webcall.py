"""Vapi web calls: `@vapi-ai/web` starts the call itself (`new Vapi(publicKey).start(assistantId)`
posts to Vapi's `/call/web`), so the browser needs only the organisation's public key — made for
browsers, unlike the private API key — and the agent's assistant id. No request from us."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchboard.spec import WebCall

from switchboard.spec import AgentRef
from switchboard.providers.common import require

if TYPE_CHECKING:
    from switchboard.providers.vapi.adapter import VapiProvider

SDK = "@vapi-ai/web"


async def create_web_call(adapter: VapiProvider, ref: AgentRef, *, metadata: dict[str, Any]) -> WebCall:
    del metadata  # the assistant's server URL receives the call's events; nothing to pass here
    return WebCall(
        platform=adapter.code, sdk=SDK,
        public_key=require(adapter.credentials.get("public_key"), adapter.code, "the Vapi public key"),
        assistant_id=require(ref.agent_id, adapter.code, "the Vapi assistant id"),
    )
