"""The platform provider interface (seed 000's `VoiceAIProvider`), its canonical agent spec and
the normalised call events every platform's webhooks are parsed into.

One folder per platform under `switchboard/providers/<code>/`, each of the same shape, each
exporting one `VoiceAIProvider` subclass registered in `switchboard/providers/registry.py`.
Every network call goes through the platform's SDK or an httpx client with a timeout; failures
are raised as one of the errors below so routing can decide whether to fail over.
"""

from __future__ import annotations

import abc
from datetime import datetime
from decimal import Decimal
from types import ModuleType
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

# ---------------------------------------------------------------------------------------------
# Errors: one hierarchy for every platform (after livekit-agents' APIConnectionError/APIStatusError)
# ---------------------------------------------------------------------------------------------


class ProviderError(Exception):
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


class WebhookRejected(Exception):
    """The webhook failed authentication (signature, token, timestamp): answer 401, store nothing."""


class WebhookMalformed(Exception):
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
# The canonical agent spec: defined once, compiled into each platform's native form
# ---------------------------------------------------------------------------------------------


class VoiceSpec(BaseModel):
    """`vendor` names the TTS vendor ('elevenlabs', 'openai', 'cartesia', 'deepgram', 'azure', …);
    `voice_id` is that vendor's id. `custom` marks a custom or cloned voice."""

    vendor: str = "openai"
    voice_id: str = "alloy"
    custom: bool = False
    speed: float | None = None


class EndCallTool(BaseModel):
    type: Literal["end_call"] = "end_call"
    name: str = "end_call"
    description: str = "End the call when the conversation is complete or the caller asks to hang up."


class TransferTool(BaseModel):
    type: Literal["transfer"] = "transfer"
    name: str = "transfer_call"
    description: str = "Transfer the caller to a human."
    number: str = Field(pattern=r"^\+[1-9][0-9]{6,14}$")


class HttpTool(BaseModel):
    type: Literal["http"] = "http"
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str
    url: str
    method: Literal["GET", "POST"] = "POST"
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    timeout_seconds: float = 10.0

    @field_validator("timeout_seconds")
    @classmethod
    def _bounded_timeout(cls, value: float) -> float:
        from switchboard.egress import MAX_TIMEOUT_SECONDS

        if not value > 0:
            raise ValueError("timeout_seconds must be more than 0")
        if value > MAX_TIMEOUT_SECONDS:
            raise ValueError(f"timeout_seconds must be at most {MAX_TIMEOUT_SECONDS:g} seconds (the ceiling for outbound requests)")
        return value

    @field_validator("url")
    @classmethod
    def _egress_url(cls, value: str) -> str:
        from switchboard import egress

        try:
            return egress.check_url(value, what="url")
        except egress.EgressRefused as exc:
            raise ValueError(str(exc)) from None


ToolSpec = Annotated[EndCallTool | TransferTool | HttpTool, Field(discriminator="type")]


class AnalysisSpec(BaseModel):
    summary: bool = True
    sentiment: bool = True
    success_criteria: str | None = None  # plain words: "the caller booked an appointment"
    fields: dict[str, str] = {}  # structured data to extract: name -> description


class AgentSpec(BaseModel):
    name: str = "Voice agent"
    prompt: str
    begin_message: str | None = None
    voice: VoiceSpec = VoiceSpec()
    language: str = "en-US"
    tools: list[ToolSpec] = []
    analysis: AnalysisSpec = AnalysisSpec()
    max_duration_seconds: int = Field(1800, ge=10, le=14400)
    metadata: dict[str, Any] = {}


# ---------------------------------------------------------------------------------------------
# Inputs and outputs of provider operations
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


class AgentRef(BaseModel):
    """The platform's ids for one agent spec (stored in provider_configs)."""

    agent_id: str | None = None
    llm_id: str | None = None
    voice_id: str | None = None
    settings: dict[str, Any] = {}


class Voice(BaseModel):
    id: str
    name: str
    vendor: str | None = None
    custom: bool = False
    language: str | None = None
    gender: str | None = None
    preview_url: str | None = None


class InboundCall(BaseModel):
    """A call arriving on one of our (SignalWire) numbers, as the router saw it."""

    telephony_call_id: str
    from_number: str
    to_number: str
    answer_format: Literal["swml", "laml"] = "swml"
    organization_id: UUID
    agent_config_id: UUID
    call_record_id: UUID
    metadata: dict[str, Any] = {}


class HandOff(BaseModel):
    """How to hand the call over: SWML (a dict) or LaML (XML text), and the platform's call id
    when it issues one before the call connects (Retell's register-phone-call)."""

    provider_call_id: str | None = None
    swml: dict[str, Any] | None = None
    laml: str | None = None


class OutboundCall(BaseModel):
    provider_call_id: str
    status: str = "registered"


class WebCall(BaseModel):
    """What a browser needs to start a call with the platform's own browser SDK (`sdk`, an npm
    package): short-lived, scoped to one agent, never a secret API key. Which fields are set
    depends on the platform (each platform's `webcall.py` says which)."""

    platform: str
    sdk: str = Field(description="the npm package that starts the call in the browser")
    access_token: str | None = Field(None, description="Retell's web-call token, LiveKit's room token, SignalWire's guest token")
    url: str | None = Field(None, description="LiveKit: the server's WebSocket URL")
    public_key: str | None = Field(None, description="Vapi: the organisation's public (browser) key")
    assistant_id: str | None = Field(None, description="Vapi: the agent's assistant id")
    address: str | None = Field(None, description="SignalWire: the Fabric address to dial")
    call_id: str | None = Field(None, description="the platform's id for this call (Retell call id, LiveKit room)")
    expires_at: datetime | None = Field(None, description="when the credentials stop working, if the platform says")


class WebhookRequest(BaseModel):
    """A provider's HTTP request as received: header names lower-cased, the raw body, the full URL."""

    headers: dict[str, str]
    body: bytes
    url: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class CostBreakdown(BaseModel):
    """USD per component. `source`: what the platform reported, or what we computed from usage × prices."""

    stt: Decimal = Decimal(0)
    llm: Decimal = Decimal(0)
    tts: Decimal = Decimal(0)
    platform: Decimal = Decimal(0)
    telephony: Decimal = Decimal(0)
    source: Literal["reported", "computed", "estimated"] = "reported"

    @property
    def total(self) -> Decimal:
        return self.stt + self.llm + self.tts + self.platform + self.telephony


class CallEvent(BaseModel):
    """A platform's webhook (or the LiveKit worker's end-of-call report), normalised.

    `event_id` is the de-duplication key in the webhook inbox: stable across redeliveries of the
    same event (e.g. "<call_id>:call_ended" for Retell, which sends no event id). Fields the event
    does not carry stay None, so merging events in any order converges to the same call record.
    """

    kind: Literal["started", "ended", "analyzed", "other"]
    provider: str
    event_id: str
    event_type: str
    provider_call_id: str
    telephony_call_id: str | None = None
    organization_id: UUID | None = None  # from metadata we attached at hand-off
    agent_config_id: UUID | None = None
    call_record_id: UUID | None = None
    direction: Literal["inbound", "outbound", "web"] | None = None
    from_number: str | None = None
    to_number: str | None = None
    status: Literal["registered", "ongoing", "ended", "error", "not_connected"] | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    transcript: str | None = None
    transcript_object: list[dict[str, Any]] | None = None
    recording_url: str | None = None
    analysis: dict[str, Any] | None = None
    sentiment: str | None = None
    successful: bool | None = None
    disconnection_reason: str | None = None
    cost: CostBreakdown | None = None
    usage: dict[str, Any] | None = None  # raw usage when cost must be computed (LiveKit, SignalWire)
    metadata: dict[str, Any] = {}


class HealthStatus(BaseModel):
    ok: bool
    latency_ms: float
    detail: str | None = None


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

    @abc.abstractmethod
    async def health_check(self) -> HealthStatus: ...

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
