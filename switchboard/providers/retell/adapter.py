"""Retell AI through retell-sdk (`AsyncRetell`): a Retell LLM plus a voice agent per spec; inbound
calls registered with `register-phone-call` and bridged to `sip:{call_id}@sip.retellai.com`."""

from __future__ import annotations

from typing import Any

import httpx
import retell
from retell import AsyncRetell

from switchboard import egress
from switchboard.providers.base import (
    Capabilities,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from switchboard.spec import AgentRef, AgentSpec, CallEvent, HandOff, InboundCall, OutboundCall, Voice, WebhookRequest
from switchboard.providers.common import HttpPlatformAdapter, call_metadata, require, webhook_url
from switchboard.providers.resilience import error_for_status, parse_retry_after, unreachable
from switchboard.providers.chat import ChatModule
from switchboard.providers.retell import chat as retell_chat
from switchboard.providers.retell import compile as retell_compile
from switchboard.providers.retell import webhooks
from switchboard.providers.retell import webcall as retell_webcall
from switchboard.providers.retell.voices import PRESET_VOICES, voice_from_retell

SIP_URI = "sip:{call_id}@sip.retellai.com;transport=tcp"


class RetellProvider(ChatModule, HttpPlatformAdapter):
    code = "retell"
    chat_module = retell_chat  # text conversations
    capabilities = Capabilities(post_call_analysis=True)  # the rest as Capabilities' defaults
    web_call_module = retell_webcall  # browser calls

    # --- plumbing ---------------------------------------------------------------------------
    @property
    def api_key(self) -> str | None:
        return self.credentials.get("api_key")

    @property
    def client(self) -> AsyncRetell:
        if self._client is None:
            self._client = AsyncRetell(
                api_key=require(self.api_key, self.code, "Retell API key"),
                base_url=self.credentials.base_url or None,
                max_retries=0,  # retries are ours (bounded, jittered, deadline-aware)
                timeout=self.retry.attempt_timeout,
                http_client=self.http,  # the caller's, or ours under the egress policy
            )
        return self._client

    async def aclose(self) -> None:
        self._client = None
        await super().aclose()  # closes our own http client (the SDK's shares it)

    def _classify(self, operation: str):
        def classify(exc: BaseException) -> ProviderError:
            refused = egress.refusal_in(exc)
            if refused is not None:
                return ProviderRejected(self.code, str(refused))
            if isinstance(exc, retell.APIStatusError):
                return error_for_status(
                    self.code, operation, exc.status_code, getattr(exc, "message", "") or str(exc.body),
                    retry_after=parse_retry_after(exc.response.headers.get("retry-after")),
                )
            if isinstance(exc, retell.APITimeoutError):
                error: ProviderError = ProviderTimeout(self.code, unreachable(self.code, operation))
            elif isinstance(exc, retell.APIConnectionError):
                sent = not isinstance(exc.__cause__, httpx.ConnectError)
                error = ProviderUnavailable(self.code, unreachable(self.code, operation), request_sent=sent)
            else:
                error = ProviderUnavailable(self.code, unreachable(self.code, operation))
            error.detail = f"{type(exc).__name__}: {exc.__cause__ or exc}"
            return error

        return classify

    def _webhook_url(self, spec: AgentSpec) -> str:
        return webhook_url(self.code, self._webhook_base_url, spec.metadata.get("organization_id"))

    def native_form(self, spec: AgentSpec) -> dict[str, Any]:
        return {
            "retell_llm": retell_compile.compile_llm(spec),
            "agent": retell_compile.compile_agent(spec, llm_id="<llm_id>", webhook_url=self._webhook_url(spec)),
        }

    # --- agents -----------------------------------------------------------------------------
    async def create_agent(self, spec: AgentSpec) -> AgentRef:
        llm_body = retell_compile.compile_llm(spec)
        voice_id = retell_compile.retell_voice_id(spec.voice)  # refuse a bad voice before creating anything
        llm = await self._call("create-retell-llm", lambda t: self.client.llm.create(**llm_body, timeout=t), idempotent=False)
        agent_body = retell_compile.compile_agent(spec, llm_id=llm.llm_id, webhook_url=self._webhook_url(spec))
        try:
            agent = await self._call("create-agent", lambda t: self.client.agent.create(**agent_body, timeout=t), idempotent=False)
        except ProviderError:
            # Leave nothing half-made behind: the LLM without its agent is removed again.
            try:
                await self._call("delete-retell-llm", lambda t: self.client.llm.delete(llm.llm_id, timeout=t))
            except ProviderError:
                pass
            raise
        return AgentRef(agent_id=agent.agent_id, llm_id=llm.llm_id, voice_id=voice_id, settings={"language": spec.language})

    async def update_agent(self, ref: AgentRef, spec: AgentSpec) -> AgentRef:
        if not ref.agent_id or not ref.llm_id:
            return await self.create_agent(spec)
        llm_body = retell_compile.compile_llm(spec)
        agent_body = retell_compile.compile_agent(spec, llm_id=ref.llm_id, webhook_url=self._webhook_url(spec))
        await self._call("update-retell-llm", lambda t: self.client.llm.update(ref.llm_id, **llm_body, timeout=t))
        await self._call("update-agent", lambda t: self.client.agent.update(ref.agent_id, **agent_body, timeout=t))
        return ref.model_copy(update={"voice_id": agent_body["voice_id"], "settings": {**ref.settings, "language": spec.language}})

    async def delete_agent(self, ref: AgentRef) -> None:
        for what, ident, delete in (
            ("delete-agent", ref.agent_id, self.client.agent.delete),
            ("delete-retell-llm", ref.llm_id, self.client.llm.delete),
        ):
            if not ident:
                continue
            try:
                await self._call(what, lambda t, d=delete, i=ident: d(i, timeout=t))
            except ProviderRejected as exc:
                if exc.status_code != 404:  # already gone is what we wanted
                    raise

    # --- calls ------------------------------------------------------------------------------
    async def create_call(self, ref: AgentRef, *, from_number: str, to_number: str, metadata: dict[str, Any] | None = None) -> OutboundCall:
        agent_id = require(ref.agent_id, self.code, "the Retell agent id")
        call = await self._call(
            "create-phone-call",
            lambda t: self.client.call.create_phone_call(
                from_number=from_number, to_number=to_number, override_agent_id=agent_id,
                metadata=metadata or {}, timeout=t,
            ),
            idempotent=False,
        )
        return OutboundCall(provider_call_id=call.call_id, status=call.call_status)

    async def end_call(self, provider_call_id: str) -> None:
        await self._call("stop-call", lambda t: self.client.call.stop(provider_call_id, timeout=t))

    async def hand_off_inbound(self, ref: AgentRef, spec: AgentSpec, call: InboundCall) -> HandOff:
        agent_id = require(ref.agent_id, self.code, "the Retell agent id")
        registered = await self._call(
            "register-phone-call",
            lambda t: self.client.call.register_phone_call(
                agent_id=agent_id, direction="inbound", from_number=call.from_number, to_number=call.to_number,
                metadata=call_metadata(call), timeout=t,
            ),
            idempotent=False,
        )
        return self._bridge(SIP_URI.format(call_id=registered.call_id), spec, call, provider_call_id=registered.call_id)

    # --- voices -----------------------------------------------------------------------------
    async def list_voices(self) -> list[Voice]:
        if not self.api_key:
            return list(PRESET_VOICES)
        voices = await self._call("list-voices", lambda t: self.client.voice.list(timeout=t))
        return [voice_from_retell(v) for v in voices]

    # --- webhooks ---------------------------------------------------------------------------
    def verify_webhook(self, request: WebhookRequest) -> None:
        webhooks.verify(request, self.credentials.get("webhook_api_key", "api_key"))

    def parse_webhook(self, request: WebhookRequest) -> list[CallEvent]:
        return webhooks.parse(request)

    # --- health -----------------------------------------------------------------------------
    async def _probe(self) -> None:
        await self._call("get-concurrency", lambda t: self.client.concurrency.retrieve(timeout=t))
