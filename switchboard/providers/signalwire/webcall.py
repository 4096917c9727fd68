"""SignalWire web calls: a Fabric guest token (`POST /api/fabric/guests/tokens`) allowed to reach
only the agent's own Fabric address (`GET …/ai_agents/{id}/addresses`), which `@signalwire/js`
(`SignalWire({token})`, then `client.dial({to: address})`) uses to call it."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from switchboard.providers.base import ProviderRejected

from switchboard.spec import WebCall

from switchboard.spec import AgentRef
from switchboard.providers.common import require

if TYPE_CHECKING:
    from switchboard.providers.signalwire.adapter import SignalWireProvider

SDK = "@signalwire/js"
GUEST_TOKENS = "/api/fabric/guests/tokens"
TOKEN_SECONDS = 600


def _audio_address(address: dict[str, Any]) -> str | None:
    channels = address.get("channels") or {}
    return channels.get("audio") or channels.get("video") or (f"/public/{address['name']}" if address.get("name") else None)


async def create_web_call(adapter: SignalWireProvider, ref: AgentRef, *, metadata: dict[str, Any]) -> WebCall:
    del metadata  # the agent's SWML carries the ids (global_data); a guest token takes none
    agent_id = require(ref.agent_id, adapter.code, "the SignalWire AI agent id")
    listed = await adapter._rest("list-ai-agent-addresses", "GET", f"/api/fabric/resources/ai_agents/{agent_id}/addresses")
    addresses = [a for a in (listed or {}).get("data") or [] if isinstance(a, dict) and a.get("id")]
    if not addresses:
        raise ProviderRejected(adapter.code, "the agent has no Fabric address to call yet")
    address = addresses[0]
    expire_at = int(time.time()) + TOKEN_SECONDS
    token = await adapter._rest("create-guest-token", "POST", GUEST_TOKENS,
                                body={"allowed_addresses": [address["id"]], "expire_at": expire_at}, idempotent=False)
    return WebCall(
        platform=adapter.code, sdk=SDK,
        access_token=require((token or {}).get("token"), adapter.code, "a guest token in SignalWire's answer"),
        address=_audio_address(address),
        expires_at=datetime.fromtimestamp(expire_at, timezone.utc),
    )
