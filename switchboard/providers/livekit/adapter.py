"""LiveKit through livekit-api (Twirp): our worker is the agent; LiveKit holds an inbound SIP trunk
and a dispatch rule per agent, inbound calls are bridged to `sip:{to}@{project}.sip.livekit.cloud`,
outbound calls are an explicit dispatch plus a SIP participant in a fresh room."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
from livekit import api as lk
from livekit.protocol.room import DeleteRoomRequest, ListRoomsRequest
from livekit.protocol.models import ListUpdate
from livekit.protocol.sip import DeleteSIPDispatchRuleRequest, DeleteSIPTrunkRequest

from switchboard import egress
from switchboard.billing import PriceBook
from switchboard.providers.base import (
    Capabilities,
    ProviderCredentials,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from switchboard.providers.chat import ChatModule
from switchboard.providers.common import PlatformAdapter, require
from switchboard.providers.livekit import compile as lk_compile
from switchboard.providers.livekit import chat as lk_chat
from switchboard.providers.livekit.chat import WorkerChat
from switchboard.providers.livekit import webhooks
from switchboard.providers.livekit import webcall as livekit_webcall
from switchboard.providers.livekit.voices import PRESET_VOICES, TTS_VENDORS
from switchboard.providers.resilience import RetryPolicy, error_for_status, unreachable
from switchboard.spec import AgentRef, AgentSpec, CallEvent, HandOff, InboundCall, OutboundCall, Voice, WebhookRequest

SIP_URI = "sip:{to}@{host};transport=tcp"


class LiveKitProvider(ChatModule, PlatformAdapter):
    code = "livekit"
    chat_module = lk_chat  # text conversations, through our worker
    capabilities = Capabilities(custom_voices=True)  # the rest as Capabilities' defaults
    web_call_module = livekit_webcall  # browser calls

    def __init__(
        self,
        credentials: ProviderCredentials,
        *,
        prices: PriceBook | None = None,
        retry: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
    ):
        super().__init__(credentials, prices=prices, retry=retry)
        self._session = session
        self._own_session: aiohttp.ClientSession | None = None
        self._api: lk.LiveKitAPI | None = None
        self._chat: WorkerChat | None = None

    # --- plumbing ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return require(self.credentials.base_url or self.credentials.get("url"), self.code, "LiveKit URL")

    @property
    def api(self) -> lk.LiveKitAPI:
        if self._api is None:
            url = self.url
            session = self._session
            if session is None:
                # The URL may be the tenant's: checked, then an aiohttp session whose resolver
                # answers only checked addresses and whose every hop is checked again.
                egress.check_url(url, what="url", schemes=("https", "wss"))
                session = self._own_session = egress.aiohttp_session(timeout_seconds=self.retry.attempt_timeout, what="url")
            self._api = lk.LiveKitAPI(
                url=url,
                api_key=require(self.credentials.get("api_key"), self.code, "LiveKit API key"),
                api_secret=require(self.credentials.get("api_secret"), self.code, "LiveKit API secret"),
                timeout=aiohttp.ClientTimeout(total=self.retry.attempt_timeout),
                session=session,
                failover=False,  # one server (or LiveKit Cloud's own routing); our retries decide
            )
        return self._api

    async def aclose(self) -> None:
        if self._chat is not None:
            await self._chat.aclose()
        if self._api is not None:
            await self._api.aclose()
            self._api = None
        if self._own_session is not None:
            await self._own_session.close()
            self._own_session = None

    def _classify(self, operation: str):
        def classify(exc: BaseException) -> ProviderError:
            refused = egress.refusal_in(exc)
            if refused is not None:
                return ProviderRejected(self.code, str(refused))
            if isinstance(exc, lk.TwirpError):
                return error_for_status(self.code, operation, exc.status, f"{exc.code}: {exc.message}")
            words = unreachable(self.code, operation)
            if isinstance(exc, aiohttp.ClientConnectorError):
                error: ProviderError = ProviderUnavailable(self.code, words, request_sent=False)
            elif isinstance(exc, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
                error = ProviderTimeout(self.code, words)
            else:
                error = ProviderUnavailable(self.code, words)
            error.detail = f"{type(exc).__name__}: {exc}"
            return error

        return classify

    def _voice_settings(self, spec: AgentSpec) -> dict[str, str]:
        tts = TTS_VENDORS.get(spec.voice.vendor)
        if tts is None:
            raise ProviderRejected(self.code, f"the LiveKit worker has no {spec.voice.vendor} voices; choose one of {sorted(set(TTS_VENDORS))}")
        return {"tts": tts, "voice": spec.voice.voice_id}

    def native_form(self, spec: AgentSpec) -> dict[str, Any]:
        from google.protobuf.json_format import MessageToDict

        trunk = lk_compile.inbound_trunk(spec, numbers=[str(n) for n in spec.metadata.get("phone_numbers", [])] or ["<number>"],
                                         auth_username=None, auth_password=None, allowed_addresses=[])
        rule = lk_compile.dispatch_rule(spec, trunk_id="<trunk_id>")
        return {
            "inbound_trunk": MessageToDict(trunk, preserving_proto_field_name=True),
            "dispatch_rule": MessageToDict(rule, preserving_proto_field_name=True),
            "worker": {"agent_name": lk_compile.AGENT_NAME, **self._voice_settings(spec), "spec": spec.model_dump(mode="json")},
        }

    # --- agents -----------------------------------------------------------------------------
    async def create_agent(self, spec: AgentSpec) -> AgentRef:
        voice = self._voice_settings(spec)
        numbers = [str(n) for n in spec.metadata.get("phone_numbers", [])]
        trunk_request = lk_compile.inbound_trunk(
            spec, numbers=numbers,
            auth_username=self.credentials.get("sip_username"), auth_password=self.credentials.get("sip_password"),
            allowed_addresses=[a.strip() for a in (self.credentials.get("sip_allowed_addresses") or "").split(",") if a.strip()],
        )
        trunk = await self._call("create-inbound-trunk", lambda _t: self.api.sip.create_inbound_trunk(trunk_request), idempotent=False)
        try:
            rule = await self._call(
                "create-dispatch-rule",
                lambda _t: self.api.sip.create_dispatch_rule(lk_compile.dispatch_rule(spec, trunk_id=trunk.sip_trunk_id)),
                idempotent=False,
            )
        except ProviderError:
            try:  # leave no trunk without its rule
                await self._call("delete-trunk", lambda _t: self.api.sip.delete_trunk(DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id)))
            except ProviderError:
                pass
            raise
        return AgentRef(
            agent_id=rule.sip_dispatch_rule_id,
            voice_id=f"{spec.voice.vendor}:{spec.voice.voice_id}",
            settings={"inbound_trunk_id": trunk.sip_trunk_id, "dispatch_rule_id": rule.sip_dispatch_rule_id, "numbers": numbers,
                      "max_duration_seconds": spec.max_duration_seconds, **voice},
        )

    async def update_agent(self, ref: AgentRef, spec: AgentSpec) -> AgentRef:
        trunk_id = ref.settings.get("inbound_trunk_id")
        if not ref.agent_id or not trunk_id:
            return await self.create_agent(spec)
        voice = self._voice_settings(spec)
        info = lk_compile.dispatch_rule_info(spec, trunk_id=trunk_id)
        await self._call("update-dispatch-rule", lambda _t: self.api.sip.update_dispatch_rule(ref.agent_id, info))
        await self._call("update-inbound-trunk", lambda _t: self.api.sip.update_inbound_trunk_fields(trunk_id, name=info.name))
        return ref.model_copy(update={"voice_id": f"{spec.voice.vendor}:{spec.voice.voice_id}", "settings": {**ref.settings, "max_duration_seconds": spec.max_duration_seconds, **voice}})

    async def delete_agent(self, ref: AgentRef) -> None:
        steps = []
        if ref.agent_id:
            steps.append(("delete-dispatch-rule", lambda _t: self.api.sip.delete_dispatch_rule(DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=ref.agent_id))))
        if ref.settings.get("inbound_trunk_id"):
            steps.append(("delete-trunk", lambda _t: self.api.sip.delete_trunk(DeleteSIPTrunkRequest(sip_trunk_id=ref.settings["inbound_trunk_id"]))))
        for operation, fn in steps:
            try:
                await self._call(operation, fn)
            except ProviderRejected as exc:
                if exc.status_code != 404:
                    raise

    async def attach_number(self, ref: AgentRef, e164: str) -> AgentRef:
        numbers = list(ref.settings.get("numbers") or [])
        if e164 in numbers:
            return ref
        trunk_id = require(ref.settings.get("inbound_trunk_id"), self.code, "the agent's inbound trunk (create the agent first)")
        await self._call("update-inbound-trunk", lambda _t: self.api.sip.update_inbound_trunk_fields(trunk_id, numbers=ListUpdate(add=[e164])))
        return ref.model_copy(update={"settings": {**ref.settings, "numbers": [*numbers, e164]}})

    # --- calls ------------------------------------------------------------------------------
    async def create_call(self, ref: AgentRef, *, from_number: str, to_number: str, metadata: dict[str, Any] | None = None) -> OutboundCall:
        trunk_id = require(ref.settings.get("outbound_trunk_id") or self.credentials.get("outbound_trunk_id"),
                           self.code, "a LiveKit outbound SIP trunk id")
        meta = dict(metadata or {})
        if not meta.get("organization_id") or not meta.get("agent_config_id"):
            raise ProviderRejected(self.code, "an outbound call's metadata must name organization_id and agent_config_id")
        room = f"{lk_compile.ROOM_PREFIX}{uuid.uuid4().hex[:16]}"
        await self._call("create-dispatch", lambda _t: self.api.agent_dispatch.create_dispatch(lk_compile.outbound_dispatch(room, meta)), idempotent=False)
        participant = lk_compile.outbound_participant(
            room, trunk_id=trunk_id, from_number=from_number, to_number=to_number, metadata=meta,
            max_duration_seconds=int(ref.settings.get("max_duration_seconds") or 3600),
        )
        await self._call("create-sip-participant", lambda _t: self.api.sip.create_sip_participant(participant), idempotent=False)
        return OutboundCall(provider_call_id=room, status="registered")

    async def end_call(self, provider_call_id: str) -> None:
        await self._call("delete-room", lambda _t: self.api.room.delete_room(DeleteRoomRequest(room=provider_call_id)))

    async def hand_off_inbound(self, ref: AgentRef, spec: AgentSpec, call: InboundCall) -> HandOff:
        host = require(lk_compile.sip_host(self.credentials.get("url"), self.credentials.get("sip_host")), self.code,
                       "the LiveKit SIP host (LIVEKIT_SIP_HOST)")
        return self._bridge(SIP_URI.format(to=call.to_number, host=host), spec, call)

    # --- text conversations: our worker's agent in text mode (needs no LiveKit server) ---------
    @property
    def worker_chat(self) -> WorkerChat:
        if self._chat is None:
            from switchboard.settings import get_settings

            s = get_settings()
            self._chat = WorkerChat(s.livekit_chat_url, s.resolved_chat_token())
        return self._chat

    # --- voices -----------------------------------------------------------------------------
    async def list_voices(self) -> list[Voice]:
        return list(PRESET_VOICES)

    # --- webhooks ---------------------------------------------------------------------------
    def verify_webhook(self, request: WebhookRequest) -> None:
        webhooks.verify(request, self.credentials.get("api_key"), self.credentials.get("api_secret"))

    def parse_webhook(self, request: WebhookRequest) -> list[CallEvent]:
        return webhooks.parse(request)

    # --- health -----------------------------------------------------------------------------
    async def _probe(self) -> None:
        await self._call("list-rooms", lambda _t: self.api.room.list_rooms(ListRoomsRequest()))
