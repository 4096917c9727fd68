"""Retell web calls: `POST /v2/create-web-call` for the agent gives an access token that
`retell-client-js-sdk` (`RetellWebClient.startCall({accessToken})`) uses within 30 seconds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from retell.types import WebCallResponse

from switchboard.spec import WebCall

from switchboard.spec import AgentRef
from switchboard.providers.common import require

if TYPE_CHECKING:
    from switchboard.providers.retell.adapter import RetellProvider

SDK = "retell-client-js-sdk"
TOKEN_SECONDS = 30  # Retell's documented lifetime of an unused web-call token


async def create_web_call(adapter: RetellProvider, ref: AgentRef, *, metadata: dict[str, Any]) -> WebCall:
    agent_id = require(ref.agent_id, adapter.code, "the Retell agent id")
    # The published contract's /v2 operation, through the SDK's client (its helper posts to /v3).
    call = await adapter._call(
        "create-web-call",
        lambda t: adapter.client.post("/v2/create-web-call", body={"agent_id": agent_id, "metadata": metadata},
                                      cast_to=WebCallResponse, options={"timeout": t}),
        idempotent=False,
    )
    return WebCall(platform=adapter.code, sdk=SDK, access_token=call.access_token, call_id=call.call_id,
                   expires_at=datetime.now(timezone.utc) + timedelta(seconds=TOKEN_SECONDS))
