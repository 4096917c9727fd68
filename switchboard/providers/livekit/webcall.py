"""LiveKit web calls: our worker is dispatched to a fresh room (`CreateDispatch`, with the same
metadata as a phone call's) and the browser gets a token that may join only that room, for
`livekit-client` (`new Room().connect(url, token)`)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from livekit import api as lk

from switchboard.providers.base import ProviderRejected

from switchboard.spec import WebCall

from switchboard.spec import AgentRef
from switchboard.providers.common import require
from switchboard.providers.livekit import compile as lk_compile

if TYPE_CHECKING:
    from switchboard.providers.livekit.adapter import LiveKitProvider

SDK = "livekit-client"
ROOM_PREFIX = "web-"
TOKEN_SECONDS = 600


def client_url(url: str) -> str:
    """The URL a browser connects to: LiveKit's WebSocket scheme for an http(s) server URL."""
    if url.startswith("https://"):
        return "wss://" + url[len("https://"):]
    if url.startswith("http://"):
        return "ws://" + url[len("http://"):]
    return url


def room_token(api_key: str, api_secret: str, room: str, identity: str, *, ttl_seconds: int = TOKEN_SECONDS) -> str:
    grants = lk.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True, can_publish_data=True)
    return (lk.AccessToken(api_key, api_secret).with_identity(identity).with_name("Browser caller")
            .with_grants(grants).with_ttl(timedelta(seconds=ttl_seconds)).to_jwt())


async def create_web_call(adapter: LiveKitProvider, ref: AgentRef, *, metadata: dict[str, Any]) -> WebCall:
    del ref  # the agent is our worker: the metadata names the agent config it serves
    if not metadata.get("organization_id") or not metadata.get("agent_config_id"):
        raise ProviderRejected(adapter.code, "a web call's metadata must name organization_id and agent_config_id")
    url = client_url(require(adapter.credentials.get("url"), adapter.code, "LiveKit URL"))
    key = require(adapter.credentials.get("api_key"), adapter.code, "LiveKit API key")
    secret = require(adapter.credentials.get("api_secret"), adapter.code, "LiveKit API secret")
    room = f"{ROOM_PREFIX}{uuid.uuid4().hex[:16]}"
    await adapter._call("create-dispatch", lambda _t: adapter.api.agent_dispatch.create_dispatch(
        lk_compile.outbound_dispatch(room, metadata)), idempotent=False)
    token = room_token(key, secret, room, identity=f"browser-{uuid.uuid4().hex[:8]}")
    return WebCall(platform=adapter.code, sdk=SDK, access_token=token, url=url, call_id=room,
                   expires_at=datetime.now(timezone.utc) + timedelta(seconds=TOKEN_SECONDS))
