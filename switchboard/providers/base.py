"""The platform adapter interface (`VoiceAIProvider`), its credentials and its errors. The
domain types it works on (AgentSpec, CallEvent, CostBreakdown, …) are in `switchboard.spec`.

One folder per platform under `switchboard/providers/<code>/`, each of the same shape, each
exporting one `VoiceAIProvider` subclass registered in `switchboard/providers/registry.py`.
Every network call goes through the platform's SDK or an httpx client with a timeout; failures
are raised as one of the errors below so routing can decide whether to fail over.
"""

from __future__ import annotations

import abc
import time
from types import ModuleType
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from switchboard.spec import (
    AgentRef,
    AgentSpec,
    CallEvent,
    HandOff,
    HealthStatus,
    InboundCall,
    OutboundCall,
    Voice,
    WebCall,
    WebhookRequest,
)

from switchboard.errors import Refused, Unauthenticated, Upstream

# ---------------------------------------------------------------------------------------------
# Errors: one hierarchy for every platform (after livekit-agents' APIConnectionError/APIStatusError)
# ---------------------------------------------------------------------------------------------


class ProviderError(Upstream):
    """A platform call failed. `retryable` says whether another attempt (or platform) may help.

    `message` is ours, fit for the tenant to read (sync_error, API errors): a status and a short
    reason ("SignalWire refused the key (401) during create-ai-agent", "could not reach the
    platform"), never the platform's body nor transport details. What the platform or the
    transport said is `detail`, for server logs only."""

    retryable: ClassVar[bool] = False
    detail: str | None = None

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        request_sent: bool | None = None,
    ):
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.status_code = status_code
        # Seconds the platform asked us to wait (Retry-After), when it said so.
        self.retry_after = retry_after
        # False when the request certainly never reached the platform (connection refused):
        # only then may a non-idempotent call (create, dial) be retried safely.
        self.request_sent = request_sent


class ProviderUnavailable(ProviderError):
    """Connection refused/reset, 5xx, 429: the platform is (perhaps briefly) not serving."""

    retryable = True


class ProviderTimeout(ProviderUnavailable):
    """No answer within the call's timeout."""


class ProviderRejected(ProviderError):
    """4xx other than 429: the request itself is wrong (bad key, invalid body); retrying won't help."""


class NotConfigured(ProviderRejected):
    """A credential or id the request needs is not set (`what` names it, in words): the fix is in
    the organisation's settings, not at the platform."""

    def __init__(self, provider: str, what: str):
        super().__init__(provider, f"{what} is not configured")
        self.what = what


class WebhookRejected(Unauthenticated):
    """The webhook failed authentication (signature, token, timestamp): answer 401, store nothing."""


class WebhookMalformed(Refused):
    """The webhook is authentic but not understood: answer 400 with this reason, keep the body."""


# ---------------------------------------------------------------------------------------------
# Capabilities
# ---------------------------------------------------------------------------------------------


class Capabilities(BaseModel):
    model_config = ConfigDict(frozen=True)

    preset_voices: bool = True
    custom_voices: bool = False
    function_calling: bool = True
    recording: bool = True
    post_call_analysis: bool = False
    webrtc: bool = True
    sip: bool = True


# ---------------------------------------------------------------------------------------------
# What an adapter is built with
# ---------------------------------------------------------------------------------------------


class ProviderCredentials(BaseModel):
    """What an adapter needs to talk to its platform: the organisation's decrypted secret values
    (or the settings defaults) and the base URL (a Prism mock in tests)."""

    values: dict[str, str] = {}
    base_url: str | None = None
    # Further APIs of the same platform with their own base URL (SignalWire's Compatibility API
    # is "compat"); a Prism mock per document in tests.
    base_urls: dict[str, str] = {}

    def get(self, *names: str) -> str | None:
        """The first of `names` that has a non-empty value."""
        for name in names:
            if self.values.get(name):
                return self.values[name]
        return None

    def __repr__(self) -> str:  # never print secret values
        return f"ProviderCredentials(fields={sorted(self.values)}, base_url={self.base_url!r})"

    __str__ = __repr__


# ---------------------------------------------------------------------------------------------
# The interface
# ---------------------------------------------------------------------------------------------


class VoiceAIProvider(abc.ABC):
    code: ClassVar[str]
    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    @abc.abstractmethod
    async def create_agent(self, spec: AgentSpec) -> AgentRef: ...

    @abc.abstractmethod
    async def update_agent(self, ref: AgentRef, spec: AgentSpec) -> AgentRef: ...

    @abc.abstractmethod
    async def delete_agent(self, ref: AgentRef) -> None: ...

    @abc.abstractmethod
    async def create_call(self, ref: AgentRef, *, from_number: str, to_number: str, metadata: dict[str, Any] | None = None) -> OutboundCall: ...

    @abc.abstractmethod
    async def end_call(self, provider_call_id: str) -> None: ...

    @abc.abstractmethod
    async def list_voices(self) -> list[Voice]: ...

    @abc.abstractmethod
    async def hand_off_inbound(self, ref: AgentRef, spec: AgentSpec, call: InboundCall) -> HandOff: ...

    @abc.abstractmethod
    def verify_webhook(self, request: WebhookRequest) -> None:
        """Raise WebhookRejected unless the request is authentic under the platform's published scheme."""

    @abc.abstractmethod
    def parse_webhook(self, request: WebhookRequest) -> list[CallEvent]:
        """Normalise an authentic webhook; raise WebhookMalformed with the reason if it cannot."""

    def credential_headers(self) -> frozenset[str]:
        """Lower-case names of the request headers that carry this adapter's webhook credentials
        as configured (a shared token in a header the organisation chose): never stored."""
        return frozenset({"authorization"})

    async def health_check(self) -> HealthStatus:
        """Whether the platform answers us now: `_probe()` timed, a failure in our words."""
        start = time.perf_counter()
        try:
            await self._probe()
        except ProviderError as exc:
            return HealthStatus(ok=False, latency_ms=(time.perf_counter() - start) * 1000, detail=exc.message)
        return HealthStatus(ok=True, latency_ms=(time.perf_counter() - start) * 1000)

    async def _probe(self) -> None:
        """The platform's cheapest authenticated request; raises a ProviderError when it fails.
        Every adapter gives one (an adapter may instead answer `health_check` itself)."""
        raise NotImplementedError(f"{type(self).__name__} has no health probe")

    # The platform folder's `webcall` module: `create_web_call(adapter, ref, *, metadata)`.
    web_call_module: ClassVar[ModuleType | None] = None

    async def create_web_call(self, ref: AgentRef, *, metadata: dict[str, Any]) -> WebCall:
        """Credentials for one browser call to the agent `ref` (see `WebCall`)."""
        if self.web_call_module is None:
            raise ProviderRejected(self.code, "this platform offers no browser calls")
        return await self.web_call_module.create_web_call(self, ref, metadata=metadata)

    def native_form(self, spec: AgentSpec) -> dict[str, Any]:
        """What this platform is given for `spec` (request bodies or messages, ids left as
        placeholders), without any request: for previews, and to show a switch re-enters nothing."""
        raise NotImplementedError

    async def attach_number(self, ref: AgentRef, e164: str) -> AgentRef:
        """Make the platform accept inbound calls for `e164` on this agent, once (Vapi: a BYO
        phone number on the SIP credential; LiveKit: the inbound trunk's numbers). Platforms that
        need nothing per number return `ref` unchanged."""
        return ref

    async def aclose(self) -> None:
        """Release HTTP sessions the adapter opened."""

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
