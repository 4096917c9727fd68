"""Vapi through vapi-server-sdk (`AsyncVapi`): one assistant per spec; inbound calls reach it over
the organisation's BYO SIP trunk credential (`sip:{to}@{credentialId}.sip.vapi.ai`), the number
registered once with `attach_number`; a live call is ended through its control URL."""

from __future__ import annotations

from math import ceil
from typing import Any


from switchboard.providers.base import Capabilities, ProviderError, ProviderRejected
from switchboard.providers.common import HttpPlatformAdapter, require, webhook_url
from switchboard.providers.resilience import error_for_status, parse_retry_after
from switchboard.providers.chat import ChatModule
from switchboard.providers.vapi import chat as vapi_chat
from switchboard.providers.vapi import compile as vapi_compile
from switchboard.providers.vapi import webhooks
from switchboard.providers.vapi import webcall as vapi_webcall
from switchboard.providers.vapi.voices import PRESET_VOICES
from switchboard.spec import AgentRef, AgentSpec, CallEvent, HandOff, InboundCall, OutboundCall, Voice, WebhookRequest

SIP_URI = "sip:{to}@{credential_id}.sip.vapi.ai"


class VapiProvider(ChatModule, HttpPlatformAdapter):
    code = "vapi"
    chat_module = vapi_chat  # text conversations
    capabilities = Capabilities(custom_voices=True, post_call_analysis=True)  # the rest as Capabilities' defaults
    web_call_module = vapi_webcall  # browser calls

    # --- plumbing ---------------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            from vapi import AsyncVapi  # the SDK is large; load it only when Vapi is used

            self._client = AsyncVapi(
                token=require(self.credentials.get("api_key"), self.code, "Vapi private API key"),
                base_url=(self.credentials.base_url or "https://api.vapi.ai").rstrip("/"),
                httpx_client=self.http,
            )
        return self._client

    def _classify(self, operation: str):
        def classify(exc: BaseException) -> ProviderError:
            from vapi.core.api_error import ApiError

            if isinstance(exc, ApiError) and exc.status_code is not None:
                headers = getattr(exc, "headers", None) or {}
                return error_for_status(self.code, operation, exc.status_code, str(exc.body),
                                        retry_after=parse_retry_after(headers.get("retry-after")))
            return transport(exc)

        transport = super()._classify(operation)
        return classify

    def _assistant(self, spec: AgentSpec) -> dict[str, Any]:
        secret = self.credentials.get("webhook_secret")
        header = self.credentials.get("webhook_secret_header") or "X-Vapi-Secret"
        return vapi_compile.compile_assistant(
            spec,
            server_url=webhook_url(self.code, self._webhook_base_url, spec.metadata.get("organization_id")),
            server_credential_id=self.credentials.get("webhook_credential_id"),
            # Without a Vapi credential, the organisation's secret rides along as a header.
            server_headers={header: secret} if secret and not self.credentials.get("webhook_credential_id") else None,
        )

    def native_form(self, spec: AgentSpec) -> dict[str, Any]:
        return {"assistant": self._assistant(spec)}

    # --- agents -----------------------------------------------------------------------------
    async def create_agent(self, spec: AgentSpec) -> AgentRef:
        body = _snake(self._assistant(spec))
        assistant = await self._call("create-assistant", lambda t: self.client.assistants.create(**body, request_options=_options(t)), idempotent=False)
        return AgentRef(agent_id=assistant.id, voice_id=spec.voice.voice_id, settings={"voice_provider": body["voice"]["provider"]})

    async def update_agent(self, ref: AgentRef, spec: AgentSpec) -> AgentRef:
        if not ref.agent_id:
            return await self.create_agent(spec)
        body = _snake(self._assistant(spec))
        await self._call("update-assistant", lambda t: self.client.assistants.update(ref.agent_id, **body, request_options=_options(t)))
        return ref.model_copy(update={"voice_id": spec.voice.voice_id})

    async def delete_agent(self, ref: AgentRef) -> None:
        if not ref.agent_id:
            return
        try:
            await self._call("delete-assistant", lambda t: self.client.assistants.delete(ref.agent_id, request_options=_options(t)))
        except ProviderRejected as exc:
            if exc.status_code != 404:
                raise

    async def attach_number(self, ref: AgentRef, e164: str) -> AgentRef:
        """Register `e164` on Vapi as a BYO number of the SIP trunk credential, answered by this
        assistant (once; the number's id is kept in the ref's settings)."""
        numbers = dict(ref.settings.get("phone_number_ids") or {})
        if e164 in numbers:
            return ref
        credential_id = require(self.credentials.get("sip_credential_id"), self.code, "Vapi BYO SIP trunk credential id")
        created = await self._call(
            "create-phone-number",
            lambda t: self.client.phone_numbers.create(
                request={"provider": "byo-phone-number", "number": e164, "credentialId": credential_id,
                         "assistantId": ref.agent_id, "numberE164CheckEnabled": True},
                request_options=_options(t),
            ),
            idempotent=False,
        )
        numbers[e164] = created.id
        return ref.model_copy(update={"settings": {**ref.settings, "phone_number_ids": numbers}})

    # --- calls ------------------------------------------------------------------------------
    async def create_call(self, ref: AgentRef, *, from_number: str, to_number: str, metadata: dict[str, Any] | None = None) -> OutboundCall:
        assistant_id = require(ref.agent_id, self.code, "the Vapi assistant id")
        number_id = (ref.settings.get("phone_number_ids") or {}).get(from_number)
        if not number_id:  # Vapi dials out only from a number it knows (a transient one must be Twilio)
            raise ProviderRejected(self.code, f"{from_number} is not registered on Vapi: attach it to the agent first")
        kwargs: dict[str, Any] = {"assistant_id": assistant_id, "phone_number_id": number_id, "customer": {"number": to_number}}
        if metadata:
            kwargs["assistant_overrides"] = {"metadata": {k: str(v) for k, v in metadata.items()}}
        call = await self._call("create-call", lambda t: self.client.calls.create(**kwargs, request_options=_options(t)), idempotent=False)
        return OutboundCall(provider_call_id=call.id, status="registered")

    async def end_call(self, provider_call_id: str) -> None:
        """Vapi ends a live call through the call's control URL (`monitor.controlUrl`)."""
        call = await self._call("get-call", lambda t: self.client.calls.get(provider_call_id, request_options=_options(t)))
        control = getattr(getattr(call, "monitor", None), "control_url", None)
        if not control or not str(control).startswith(("http://", "https://")):
            raise ProviderRejected(self.code, f"call {provider_call_id} has no control URL (not live, or live control disabled)")
        await self.control(str(control), {"type": "end-call"})

    async def control(self, control_url: str, command: dict[str, Any]) -> None:
        await self._request("call-control", "POST", control_url, json_body=command)

    async def hand_off_inbound(self, ref: AgentRef, spec: AgentSpec, call: InboundCall) -> HandOff:
        credential_id = require(self.credentials.get("sip_credential_id"), self.code, "Vapi BYO SIP trunk credential id")
        return self._bridge(SIP_URI.format(to=call.to_number, credential_id=credential_id), spec, call)

    # --- voices -----------------------------------------------------------------------------
    async def list_voices(self) -> list[Voice]:
        return list(PRESET_VOICES)

    # --- webhooks ---------------------------------------------------------------------------
    def verify_webhook(self, request: WebhookRequest) -> None:
        webhooks.verify(request, self.credentials)

    def credential_headers(self) -> frozenset[str]:
        return frozenset({"authorization", webhooks.secret_header(self.credentials)})

    def parse_webhook(self, request: WebhookRequest) -> list[CallEvent]:
        return webhooks.parse(request)

    # --- health -----------------------------------------------------------------------------
    async def _probe(self) -> None:
        await self._call("list-assistants", lambda t: self.client.assistants.list(limit=1, request_options=_options(t)))


def _options(timeout: float) -> dict[str, Any]:
    """The SDK's request options for one attempt: its own retries off (they are ours), the
    attempt's timeout in whole seconds as it takes them."""
    return {"max_retries": 0, "timeout_in_seconds": max(1, ceil(timeout))}


def _snake(body: dict[str, Any]) -> dict[str, Any]:
    """Top-level camelCase keys as the SDK's keyword arguments (nested values go out as given)."""
    import re

    return {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): v for k, v in body.items()}
