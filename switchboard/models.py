# Size (over 400 lines): every response model of the API in one section per area, as its OpenAPI document lists them.
"""Pydantic models returned by the core's repository functions. One section per area; rows
come from psycopg's dict_row, so field names follow the columns."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, PlainSerializer, model_validator
from pydantic_core import PydanticCustomError

from switchboard.spec import AnalysisSpec, CallLatency, ToolSpec, VoiceSpec
from switchboard.tenancy import Claims

# The longest prompt an agent may have: every platform takes it (Retell's general prompt, Vapi's
# system message and ElevenLabs' agent prompt all accept well over this), and a prompt longer
# than this is almost always a pasted document that belongs in a knowledge base.
PROMPT_MAX_CHARS = 20_000


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "is required")
    return value


Prompt = Annotated[str, Field(min_length=1, max_length=PROMPT_MAX_CHARS), AfterValidator(_not_blank)]

MemberRole = Literal["owner", "admin", "member"]


class Row(BaseModel):
    """A database row: unknown columns are ignored, so adding a column breaks no reader."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)


# --- tenancy and auth -----------------------------------------------------------------------
class Organization(Row):
    id: UUID
    name: str
    created_by: UUID | None = None
    created_at: datetime
    updated_at: datetime


class OrganizationWithRole(Organization):
    role: MemberRole


class Membership(Row):
    organization_id: UUID
    user_id: UUID
    email: str | None = None
    role: MemberRole
    created_at: datetime


class AuthSession(BaseModel):
    """What a successful sign-up or sign-in gives the caller (Supabase's session, trimmed)."""

    access_token: str = Field(repr=False)  # a credential: kept out of reprs and logs
    token_type: Literal["bearer"] = "bearer"
    user_id: UUID
    email: str
    expires_at: int  # unix seconds, as Supabase's session.expires_at
    claims: Claims = Field(repr=False)


# --- cost dashboards (switchboard.analytics) -------------------------------------------------
# Amounts are USD as floats: display aggregates of numeric columns, rounded to 6 decimals.
class SpendSummary(BaseModel):
    month_start: date
    as_of: date
    this_month: float
    calls_this_month: int
    minutes_this_month: float
    last_month: float                 # the whole previous month
    last_month_to_date: float         # the previous month up to the same day, for a fair trend
    change_vs_last_month_pct: float | None  # this month vs last_month_to_date; None without a base
    unpriced_calls_this_month: int = 0  # calls whose price is not known yet: not in this_month, not $0


class DailyCost(BaseModel):
    day: date
    cost: float
    calls: int
    minutes: float


class ProviderDailyCosts(BaseModel):
    provider_code: str
    provider_name: str
    total: float
    points: list[DailyCost]           # one per day of the range, zeros included


class DailyCostSeries(BaseModel):
    start: date
    end: date
    days: list[date]
    providers: list[ProviderDailyCosts]


class ComponentCost(BaseModel):
    component: Literal["stt", "llm", "tts", "platform", "telephony"]
    cost: float
    share: float                      # of the period's total, 0..1


class ProviderComponents(BaseModel):
    provider_code: str
    provider_name: str
    stt: float
    llm: float
    tts: float
    platform: float
    telephony: float
    total: float


class ComponentBreakdown(BaseModel):
    start: date
    end: date
    total: float
    components: list[ComponentCost]
    providers: list[ProviderComponents]


class ProviderCostPerMinute(BaseModel):
    provider_code: str
    provider_name: str
    calls: int
    minutes: float
    cost: float
    cost_per_minute: float | None      # measured; None without minutes
    list_price_per_minute: float | None  # voice_ai_providers.cost_per_minute, for comparison


class ProviderLatency(BaseModel):
    """A platform's answer latency over a window, in milliseconds: the median call's p50 and p90
    end to end, and the average of its calls' p50 of each part (None where its calls report none)."""

    provider_code: str
    provider_name: str
    calls: int  # calls with an end-to-end figure
    e2e_p50_ms: float | None = None
    e2e_p90_ms: float | None = None
    stt_avg_ms: float | None = None
    eou_avg_ms: float | None = None
    llm_avg_ms: float | None = None
    tts_avg_ms: float | None = None
    overhead_avg_ms: float | None = None


# Money is exact in the core (Decimal) and a JSON number on the wire.
Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]

ServiceType = Literal["stt", "tts", "llm"]
ProviderType = Literal["stt", "tts", "llm", "platform"]
PlatformCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_-]*$")]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next (null: no more)."""

    items: list[T]
    next_cursor: str | None = None


class ApiToken(BaseModel):
    """An access token for scripts (`Authorization: Bearer …`), perhaps pinned and narrowed."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: int = Field(description="unix seconds")
    user_id: UUID
    organization_id: UUID | None = Field(None, description="the organisation the token is pinned to, if any")
    scopes: list[str] | None = Field(None, description="the scopes the token is narrowed to, if any")

    def __repr__(self) -> str:  # the token is a credential: keep it out of logs
        return f"ApiToken(user_id={self.user_id}, expires_at={self.expires_at})"

    __str__ = __repr__


# --- the catalog: platforms and STT/TTS/LLM vendors -----------------------------------
class Price(Row):
    component: Literal["platform", "stt", "llm", "tts", "telephony"]
    unit: str
    usd_per_unit: Money
    effective_from: date
    source: str | None = None
    model: str | None = Field(None, description="The model this price is for (vendors priced per model); null: every use")


class Provider(BaseModel):
    """One entry of the catalog: a platform (`type` = platform, key = its code) or an STT/TTS/LLM
    vendor service (key such as `openai-llm`)."""

    key: str
    type: ProviderType
    vendor: str = Field(description="credential namespace: secrets are stored per vendor (one OpenAI key serves openai-stt/-llm/-tts)")
    name: str
    description: str | None = None
    enabled: bool = Field(description="offered by this installation")
    capabilities: list[str] = []
    config_schema: dict[str, Any] | None = Field(None, description="JSON schema of the organisation config; null for platforms (configured per agent)")
    secrets_schema: dict[str, Any] = Field(description="JSON schema of the secrets (write-only)")
    default_config: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    prices: list[Price] = Field([], description="unit prices in force today")


# --- per-organisation configs and secrets -----------------------------------------------------
class SecretsStatus(BaseModel):
    """What the caller may know of stored secrets: whether they are set and their last characters."""

    vendor: str
    has_secrets: bool
    hints: dict[str, str] = Field({}, description='field -> "…last4"; never the value')
    required_fields: list[str] = []


class OrgProvider(BaseModel):
    """A catalogue entry (platform or vendor service) as one organisation sees it: its overrides, the resolved config
    (defaults ⊕ overrides; secrets are never part of it) and the secrets' status."""

    provider: Provider
    configured: bool = Field(description="the organisation has its own config row")
    is_enabled: bool
    priority: int
    config: dict[str, Any] = Field(description="the organisation's overrides")
    resolved_config: dict[str, Any] = Field(description="defaults ⊕ overrides (shallow, overrides win)")
    is_primary: bool = False
    secrets: SecretsStatus | None = Field(None, description="null unless the caller has the admin:secrets scope")
    updated_at: datetime | None = None
    etag: str


class OrgConfigUpdate(BaseModel):
    """PUT body: the overrides replace the stored ones; omitted `is_enabled`/`priority` keep
    their current values (new configs: disabled, priority 0). camelCase keys (the older API's) accepted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    config: dict[str, Any] = Field(default_factory=dict)
    is_enabled: bool | None = Field(None, validation_alias=AliasChoices("is_enabled", "isEnabled"))
    priority: int | None = Field(None, ge=-1000, le=1000)


class SecretsUpdate(BaseModel):
    """PUT body: replaces the vendor's secrets (validated against the provider's secrets schema)."""

    model_config = ConfigDict(extra="forbid")

    secrets: dict[str, str]


# --- agents -----------------------------------------------------------------------------------
class ProviderConfigState(Row):
    """An agent's deployment on one platform; its sync state is kept by the sync function."""

    provider: str
    agent_id: str | None = Field(None, description="the platform's own agent id")
    llm_id: str | None = None
    voice_id: str | None = None
    is_active: bool
    is_default: bool
    sync_status: Literal["pending", "synced", "failed", "deleted"]
    sync_error: str | None = None
    synced_at: datetime | None = None
    updated_at: datetime


class Agent(Row):
    id: UUID
    name: str
    prompt: str
    begin_message: str | None = None
    voice: VoiceSpec
    language: str
    tools: list[dict[str, Any]] = Field([], description="tool specs (end_call, transfer, http); see AgentUpdate")
    analysis: dict[str, Any] = {}
    max_duration_seconds: int
    metadata: dict[str, Any] = {}
    active_provider: str | None = None
    fallback_order: list[str] = []
    traffic_split: dict[str, int] = {}
    version: int
    live_version: int | None = Field(None, description="the number of the version serving calls")
    latest_version: int | None = Field(None, description="the newest version's number (a draft when above live_version)")
    created_at: datetime
    updated_at: datetime
    etag: str


class AgentDetail(Agent):
    provider_configs: list[ProviderConfigState] = []


class AgentUpdate(BaseModel):
    """PATCH body: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    # Omitted fields keep their value; only begin_message may be set to null (no first message).
    # The others are typed without `| None`, so the document does not offer a null they refuse.
    name: str = Field(None, min_length=1, max_length=200)  # type: ignore[assignment]
    prompt: Prompt = None  # type: ignore[assignment]
    begin_message: str | None = Field(None, max_length=2000)
    voice: VoiceSpec = None  # type: ignore[assignment]
    language: str = Field(None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # type: ignore[assignment]
    tools: list[ToolSpec] = Field(None, max_length=128)  # type: ignore[assignment]
    analysis: AnalysisSpec = None  # type: ignore[assignment]
    max_duration_seconds: int = Field(None, ge=10, le=14400)  # type: ignore[assignment]
    metadata: dict[str, Any] = None  # type: ignore[assignment]


class ProviderSelection(BaseModel):
    """PUT body of an agent's platform choice. Omitted `fallback_order` / `traffic_split` keep
    their current values (minus the new active platform in the fallback order)."""

    model_config = ConfigDict(extra="forbid")

    active_provider: PlatformCode
    fallback_order: list[PlatformCode] | None = Field(None, max_length=10)
    traffic_split: dict[str, int] | None = Field(
        None, description="platform code -> weight 0..100, summing to 100; {} sends every call to the active platform"
    )


# --- calls and what they cost ----------------------------------------------------------------
CallStatus = Literal["registered", "ongoing", "ended", "error", "not_connected"]
CallDirection = Literal["inbound", "outbound", "web", "chat"]


class CallCost(Row):
    """A call's cost. "unpriced": its price is not known yet — the costs are null (not $0) until
    the price book can price the usage kept in `details`."""

    duration_seconds: int
    cost_amount: Money | None
    stt_cost: Money | None
    llm_cost: Money | None
    tts_cost: Money | None
    platform_cost: Money | None
    telephony_cost: Money | None
    currency: str
    cost_source: Literal["reported", "computed", "estimated", "unpriced"]
    details: dict[str, Any] = {}


class CallSummary(Row):
    id: UUID
    agent_id: UUID | None = None
    provider: str | None = None
    provider_call_id: str | None = None
    direction: CallDirection
    from_number: str | None = None
    to_number: str | None = None
    status: CallStatus
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    experiment_arm: str | None = None
    sentiment: str | None = None
    successful: bool | None = None
    disconnection_reason: str | None = None
    cost_amount: Money | None = None


class CallDetail(CallSummary):
    telephony_call_id: str | None = None
    transcript: str | None = None
    transcript_object: Any = None
    recording_url: str | None = None
    analysis: dict[str, Any] | None = None
    metadata: dict[str, Any] = {}
    usage: CallCost | None = None
    latency: CallLatency | None = None  # p50/p90 per part, where measured or reported
    created_at: datetime
    updated_at: datetime


class CallFilters(BaseModel):
    # Query parameters: each absent (None) or a value, never null — typed without `| None` so the
    # API's document does not offer null. In code, None still means "no such filter".

    @model_validator(mode="before")
    @classmethod
    def _none_is_absent(cls, values: Any) -> Any:
        return {k: v for k, v in values.items() if v is not None} if isinstance(values, dict) else values

    provider: str = None  # type: ignore[assignment]
    status: CallStatus = None  # type: ignore[assignment]
    direction: CallDirection = None  # type: ignore[assignment]
    agent_id: UUID = None  # type: ignore[assignment]
    arm: str = None  # type: ignore[assignment]
    started_from: datetime = None  # type: ignore[assignment]
    started_to: datetime = None  # type: ignore[assignment]
    number: str = Field(None,  # type: ignore[assignment]
                         description="a whole +E.164 number matches the caller or the callee exactly; "
                         "3 to 15 digits match the end of either (last four digits, a national number)")
    q: str = Field(None, max_length=200,  # type: ignore[assignment]
                    description="free text: a number (as `number`), our call id or the platform's (exactly), "
                    "or words said in the transcript (every word, any order; \"quoted phrase\", -word, or)")
