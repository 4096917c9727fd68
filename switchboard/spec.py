"""The domain types every part shares — the canonical agent spec (AgentSpec, its tools, voice
and analysis), what platforms are given and give back (AgentRef, InboundRequest, InboundCall,
HandOff, Voice), their normalised call events (CallEvent, CostBreakdown, CallLatency) — and the one reader of
a stored agent spec: an `agent_configs` row → `AgentSpec`. The router, the pre-call webhooks,
the platform sync and the LiveKit worker all read specs here, under one rule for invalid parts:

* a part the agent can run without — one tool, the post-call analysis, the metadata — is
  dropped with a logged warning when it is invalid, and the rest of the spec is kept;
* a part that defines the agent — name, prompt, first message, voice, language, maximum
  duration — makes the whole spec invalid: `AgentSpecInvalid`, whose message says which part
  and why (each caller answers it in its own words: an apology and a hang-up, a 4xx, a job that
  is not started), never a 500.

The database can hold what the API would refuse (older rows, hand edits, a seed): this rule is
what makes such a row safe to route.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, TypeAdapter, ValidationError, field_validator

from switchboard.errors import Refused

log = logging.getLogger(__name__)


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
# Inputs and outputs of platform operations
# ---------------------------------------------------------------------------------------------


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


LATENCY_PARTS = ("e2e", "stt", "eou", "llm", "tts", "overhead")


class LatencyStat(BaseModel):
    p50_ms: float | None = None
    p90_ms: float | None = None


class CallLatency(BaseModel):
    """How long the agent took to answer in one call: p50/p90 over its turns, in milliseconds, of
    `e2e` (the end of the caller's speech → the agent's first audio) and its parts — `stt` (the
    final transcript's delay), `eou` (the end-of-turn decision, transcript included), `llm` (time
    to first token), `tts` (time to first audio) and `overhead` (what remains: the orchestration's
    own time). A part the platform does not report stays None: unknown, never estimated."""

    turns: int | None = None
    e2e: LatencyStat | None = None
    stt: LatencyStat | None = None
    eou: LatencyStat | None = None
    llm: LatencyStat | None = None
    tts: LatencyStat | None = None
    overhead: LatencyStat | None = None

    @classmethod
    def from_turns(cls, turns: list[dict[str, float]]) -> CallLatency | None:
        """Per-turn values (milliseconds, by part; a missing part is left out) → the call's
        p50/p90, interpolated between the nearest turns (as Postgres' percentile_cont)."""
        if not turns:
            return None
        parts: dict[str, LatencyStat] = {}
        for part in LATENCY_PARTS:
            values = sorted(t[part] for t in turns if t.get(part) is not None)
            if values:
                parts[part] = LatencyStat(p50_ms=_percentile(values, 0.5), p90_ms=_percentile(values, 0.9))
        return cls(turns=len(turns), **parts) if parts else None


def _percentile(ordered: list[float], q: float) -> float:
    rank = q * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 1)


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
    latency: CallLatency | None = None  # what the call's turns took, where measured or reported
    metadata: dict[str, Any] = {}


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


class HealthStatus(BaseModel):
    ok: bool
    latency_ms: float
    detail: str | None = None


@dataclass(frozen=True)
class InboundRequest:
    """A carrier's request for what to do with a call arriving on one of our numbers, parsed
    (by the platform whose numbers they are: `providers/signalwire/inbound.py`)."""

    telephony_call_id: str
    from_number: str
    to_number: str
    answer_format: Literal["swml", "laml"] = "swml"
    metadata: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# The one reader of a stored spec
# ---------------------------------------------------------------------------------------------


AGENT_COLUMNS = ("name", "prompt", "begin_message", "voice", "language", "tools", "analysis", "max_duration_seconds", "metadata")
_TOOL: TypeAdapter[Any] = TypeAdapter(ToolSpec)


class AgentSpecInvalid(Refused, ValueError):
    """A stored agent spec cannot run: the message names the part and the reason."""

    def __init__(self, agent: object, reason: str):
        super().__init__(f"agent spec invalid: {reason}")
        self.agent = agent
        self.reason = reason


def _short(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())


def agent_spec_from_row(row: dict[str, Any]) -> AgentSpec:
    """The canonical spec from an agent_configs row (extra columns ignored; `id` or
    `agent_config_id` names the agent in warnings). Our ids go into its metadata, so what the
    adapters compile (webhook URLs, the platform agent's metadata) names the organisation whose
    keys sign its events. Raises `AgentSpecInvalid` (see the module's rule)."""
    agent = row.get("agent_config_id") or row.get("id")
    tools = []
    raw_tools = row.get("tools")
    if raw_tools is not None and not isinstance(raw_tools, list):
        log.warning("agent %s: tools ignored, they are not a list", agent)
        raw_tools = []
    for index, raw in enumerate(raw_tools or []):
        try:
            tools.append(_TOOL.validate_python(raw))
        except ValidationError as exc:
            log.warning("agent %s: tool #%d skipped, it is invalid: %s", agent, index, _short(exc))
    analysis = AnalysisSpec()
    if row.get("analysis") is not None:
        try:
            analysis = AnalysisSpec.model_validate(row["analysis"])
        except ValidationError as exc:
            log.warning("agent %s: post-call analysis ignored, it is invalid: %s", agent, _short(exc))
    metadata = row.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        log.warning("agent %s: metadata ignored, it is not an object", agent)
        metadata = None
    essential = {k: row[k] for k in AGENT_COLUMNS
                 if k not in ("tools", "analysis", "metadata") and row.get(k) is not None}
    if isinstance(essential.get("voice"), dict) and not essential["voice"]:
        del essential["voice"]  # the column's default '{}': the default voice
    try:
        spec = AgentSpec.model_validate({**essential, "tools": tools, "analysis": analysis, "metadata": metadata or {}})
    except ValidationError as exc:
        log.warning("agent %s: spec invalid: %s", agent, _short(exc))
        raise AgentSpecInvalid(agent, _short(exc)) from None
    ids = {k: str(row[k]) for k in ("organization_id", "agent_config_id") if row.get(k)}
    return spec.model_copy(update={"metadata": {**spec.metadata, **ids}}) if ids else spec
