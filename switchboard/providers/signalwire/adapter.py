"""SignalWire AI: the agent runs as the SWML `ai` verb on our own SignalWire numbers, so an inbound
call needs no request to anyone — the router answers with answer, record_call and ai. The same
agent is kept as a Fabric AI agent (REST API) for the dashboard and for outbound calls; calls are
dialled with the Calling API and hung up with the Compatibility API."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode


from switchboard.providers.base import Capabilities, ProviderRejected
from switchboard.providers.common import HttpPlatformAdapter, call_metadata, require, webhook_url
from switchboard.providers.chat import ChatModule
from switchboard.providers.signalwire import chat as sw_chat
from switchboard.providers.signalwire import compile as sw_compile
from switchboard.providers.signalwire import webhooks
from switchboard.providers.signalwire import webcall as signalwire_webcall
from switchboard.providers.signalwire.voices import PRESET_VOICES
from switchboard.spec import AgentRef, AgentSpec, CallEvent, HandOff, InboundCall, OutboundCall, Voice, WebhookRequest

AI_AGENTS = "/api/fabric/resources/ai_agents"
CALLS = "/api/calling/calls"
COMPAT_PREFIX = "/api/laml/2010-04-01"


class SignalWireProvider(ChatModule, HttpPlatformAdapter):
    code = "signalwire"
    chat_module = sw_chat  # text conversations
    url_field = "space_url"
    capabilities = Capabilities(custom_voices=True, post_call_analysis=True)  # the rest as Capabilities' defaults
    web_call_module = signalwire_webcall  # browser calls

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._post_prompt_bases: dict[str | None, str | None] = {}
        self._compiled: dict[int, tuple[AgentSpec, dict[str, Any]]] = {}

    # --- plumbing ---------------------------------------------------------------------------
    @property
    def project(self) -> str:
        return require(self.credentials.get("project_id"), self.code, "SignalWire project id")

    def _auth(self) -> tuple[str, str]:
        return (self.project, require(self.credentials.get("api_token"), self.code, "SignalWire API token"))

    def _space(self) -> str:
        space = require(self.credentials.get("space_url"), self.code, "SignalWire space URL")
        return space if space.startswith(("http://", "https://")) else f"https://{space}"

    def rest_url(self, path: str) -> str:
        return (self.credentials.base_url or self._space()).rstrip("/") + path

    def compat_url(self, path: str) -> str:
        base = self.credentials.base_urls.get("compat") or self._space().rstrip("/") + COMPAT_PREFIX
        return base.rstrip("/") + path

    async def _rest(self, operation: str, method: str, path: str, *, body: Any = None, idempotent: bool = True) -> Any:
        return await self._request(operation, method, self.rest_url(path), json_body=body, auth=self._auth(), idempotent=idempotent)

    async def _compat(self, operation: str, method: str, path: str, *, form: dict[str, str] | None = None, idempotent: bool = True) -> Any:
        return await self._request(operation, method, self.compat_url(path), form=form, auth=self._auth(),
                                   headers={"Accept": "application/json"}, idempotent=idempotent)

    def post_prompt_url(self, ids: dict[str, str]) -> str | None:
        """Our webhook with the ids in its query and basic credentials in its authority."""
        base = self._post_prompt_base(ids.get("organization_id"))
        if base is None:
            return None
        return base + "?" + urlencode(ids) if ids else base

    def _post_prompt_base(self, organization_id: str | None) -> str | None:
        # The password is an HMAC of the signing key and the URL is parsed to place it: built
        # once per organisation (an adapter serves one organisation's keys) rather than per call.
        if organization_id in self._post_prompt_bases:
            return self._post_prompt_bases[organization_id]
        password = webhooks.post_prompt_password(self.credentials)
        base = None
        if password:
            url = webhook_url(self.code, self._webhook_base_url, organization_id)
            base = webhooks.with_credentials(url, webhooks.POST_PROMPT_USER, password)
        if len(self._post_prompt_bases) >= 256:
            self._post_prompt_bases.clear()
        self._post_prompt_bases[organization_id] = base
        return base

    def _agent_ai(self, spec: AgentSpec) -> dict[str, Any]:
        ids = {k: str(spec.metadata[k]) for k in ("organization_id", "agent_config_id") if spec.metadata.get(k)}
        return sw_compile.compile_ai(spec, post_prompt_url=self.post_prompt_url(ids), global_data=ids or None)

    def native_form(self, spec: AgentSpec) -> dict[str, Any]:
        ai = self._agent_ai(spec)
        return {"swml": sw_compile.compile_swml(spec, ai), "fabric_ai_agent": sw_compile.compile_fabric_agent(spec, ai, agent_id="<agent_id>")}

    # --- agents -----------------------------------------------------------------------------
    async def create_agent(self, spec: AgentSpec) -> AgentRef:
        ai = self._agent_ai(spec)
        body = sw_compile.compile_fabric_agent(spec, ai, agent_id=str(uuid.uuid4()))
        created = await self._rest("create-ai-agent", "POST", AI_AGENTS, body=body, idempotent=False)
        agent_id = (created or {}).get("id") or body["agent_id"]
        return AgentRef(agent_id=agent_id, voice_id=sw_compile.signalwire_voice(spec.voice), settings={"ai": _storable(ai)})

    async def update_agent(self, ref: AgentRef, spec: AgentSpec) -> AgentRef:
        if not ref.agent_id:
            return await self.create_agent(spec)
        ai = self._agent_ai(spec)
        await self._rest("update-ai-agent", "PATCH", f"{AI_AGENTS}/{ref.agent_id}", body={"name": spec.name, **ai})
        return ref.model_copy(update={"voice_id": sw_compile.signalwire_voice(spec.voice), "settings": {**ref.settings, "ai": _storable(ai)}})

    async def delete_agent(self, ref: AgentRef) -> None:
        if not ref.agent_id:
            return
        try:
            await self._rest("delete-ai-agent", "DELETE", f"{AI_AGENTS}/{ref.agent_id}")
        except ProviderRejected as exc:
            if exc.status_code != 404:
                raise

    # --- calls ------------------------------------------------------------------------------
    async def create_call(self, ref: AgentRef, *, from_number: str, to_number: str, metadata: dict[str, Any] | None = None) -> OutboundCall:
        """Dial with the Calling API, the stored agent inline as SWML."""
        stored = ref.settings.get("ai")
        if not isinstance(stored, dict):
            raise ProviderRejected(self.code, "the agent has not been synced to SignalWire yet (no ai settings)")
        ids = {k: str(v) for k, v in (metadata or {}).items() if k in ("organization_id", "agent_config_id", "call_record_id")}
        ai = {**stored, "global_data": {**stored.get("global_data", {}), **ids}}
        url = self.post_prompt_url({**{k: v for k, v in stored.get("global_data", {}).items()}, **ids})
        if url:
            ai["post_prompt_url"] = url
        swml = {"version": "1.0.0", "sections": {"main": [{"record_call": {"format": "mp3", "stereo": True}}, {"ai": ai}]}}
        body = {"command": "dial", "params": {"from": from_number, "to": to_number, "swml": swml}}
        created = await self._rest("dial", "POST", CALLS, body=body, idempotent=False)
        return OutboundCall(provider_call_id=str((created or {}).get("id")), status="registered")

    async def end_call(self, provider_call_id: str) -> None:
        await self._compat("end-call", "POST", f"/Accounts/{self.project}/Calls/{provider_call_id}", form={"Status": "completed"})

    async def hand_off_inbound(self, ref: AgentRef, spec: AgentSpec, call: InboundCall) -> HandOff:
        if call.answer_format == "laml":
            raise ProviderRejected(
                self.code,
                "SignalWire AI runs only in SWML: point this number's call handler at the SWML webhook "
                "instead of a LaML (Compatibility) one",
            )
        ids = call_metadata(call)
        url_ids = {k: ids[k] for k in ("organization_id", "agent_config_id", "call_record_id", "telephony_call_id")}
        ai = {**self._spec_ai(spec), **sw_compile.call_ai(post_prompt_url=self.post_prompt_url(url_ids), global_data=ids)}
        return HandOff(provider_call_id=call.telephony_call_id, swml=sw_compile.compile_swml(spec, ai))

    def _spec_ai(self, spec: AgentSpec) -> dict[str, Any]:
        """The call-independent part of the `ai` object, compiled once per spec object (the
        router reuses one per agent while its lookup is fresh; SWAIG tools go through the SDK's
        DataMap, far too slow to redo on every call). Keyed by identity, the entry holding the
        spec so the identity cannot be reused while it is cached; never mutated."""
        hit = self._compiled.get(id(spec))
        if hit is not None and hit[0] is spec:
            return hit[1]
        ai = sw_compile.compile_ai(spec, post_prompt_url=None)
        if len(self._compiled) >= 256:
            self._compiled.clear()
        self._compiled[id(spec)] = (spec, ai)
        return ai

    # --- voices -----------------------------------------------------------------------------
    async def list_voices(self) -> list[Voice]:
        return list(PRESET_VOICES)

    # --- webhooks ---------------------------------------------------------------------------
    def verify_webhook(self, request: WebhookRequest) -> None:
        webhooks.verify(request, self.credentials)

    def parse_webhook(self, request: WebhookRequest) -> list[CallEvent]:
        return webhooks.parse(request, self.prices)

    # --- health -----------------------------------------------------------------------------
    async def _probe(self) -> None:
        await self._compat("get-account", "GET", f"/Accounts/{self.project}")


def _storable(ai: dict[str, Any]) -> dict[str, Any]:
    """The ai object as kept in provider_configs.settings: without the post_prompt_url, whose
    credentials must not be stored where members can read them (rebuilt at call time)."""
    return {k: v for k, v in ai.items() if k != "post_prompt_url"}
