"""The fifth platform's adapter: webhooks signed with HMAC-SHA256 of the body under the
organisation's `webhook_secret` (header `x-fifth-signature`), one `call.ended` event shape
carrying the usage we price from the price book."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

from switchboard.billing import CallUsage, PriceBook, price_usage_if_known
from switchboard.providers.base import (
    Capabilities,
    ProviderCredentials,
    ProviderRejected,
    VoiceAIProvider,
    WebhookMalformed,
    WebhookRejected,
)
from switchboard.providers.common import from_epoch, ids_from_metadata
from switchboard.spec import AgentRef, AgentSpec, CallEvent, HandOff, InboundCall, OutboundCall, Voice, WebhookRequest
from tests.providers.fifth.platform import CODE
from tests.providers.fifth.voices import PRESET_VOICES

SIGNATURE = "x-fifth-signature"


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FifthProvider(VoiceAIProvider):
    code = CODE
    name = "Fifth Voice"
    capabilities = Capabilities()

    def __init__(self, credentials: ProviderCredentials, *, prices: PriceBook | None = None, **_: Any):
        self.credentials = credentials
        self.prices = prices

    async def create_agent(self, spec: AgentSpec) -> AgentRef:
        return AgentRef(agent_id=f"fifth-{spec.name}")

    async def update_agent(self, ref: AgentRef, spec: AgentSpec) -> AgentRef:
        return ref

    async def delete_agent(self, ref: AgentRef) -> None:
        return None

    async def create_call(self, ref: AgentRef, *, from_number: str, to_number: str, metadata: dict[str, Any] | None = None) -> OutboundCall:
        raise ProviderRejected(CODE, "outbound calls are not offered")

    async def end_call(self, provider_call_id: str) -> None:
        raise ProviderRejected(CODE, "ending calls is not offered")

    async def list_voices(self) -> list[Voice]:
        return list(PRESET_VOICES)

    async def hand_off_inbound(self, ref: AgentRef, spec: AgentSpec, call: InboundCall) -> HandOff:
        raise ProviderRejected(CODE, "inbound calls are not offered")

    def verify_webhook(self, request: WebhookRequest) -> None:
        secret = self.credentials.get("webhook_secret")
        given = request.header(SIGNATURE) or ""
        if not secret or not hmac.compare_digest(given, sign(secret, request.body)):
            raise WebhookRejected(f"{CODE}: bad or missing signature")

    def parse_webhook(self, request: WebhookRequest) -> list[CallEvent]:
        try:
            payload = json.loads(request.body)
            call = payload["call"]
            minutes = Decimal(call["duration_seconds"]) / 60
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookMalformed(f"not a {CODE} call event ({type(exc).__name__})") from None
        usage = CallUsage(platform=CODE, platform_minutes=minutes, telephony_minutes=minutes)
        return [CallEvent(
            kind="ended", provider=CODE, event_id=f"{call['id']}:ended", event_type=payload.get("type", "call.ended"),
            provider_call_id=call["id"], status="ended", direction="inbound", duration_seconds=call["duration_seconds"],
            started_at=from_epoch(call.get("started_at")), ended_at=from_epoch(call.get("ended_at")),
            cost=price_usage_if_known(self.prices, usage), usage=usage.model_dump(mode="json"),
            **ids_from_metadata(call.get("metadata")),
        )]

    async def _probe(self) -> None:
        return None  # nothing to reach: the throwaway platform lives in this process
