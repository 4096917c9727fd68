"""Pydantic models returned by the core's repository functions. One section per area; rows
come from psycopg's dict_row, so field names follow the columns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from switchboard.tenancy import Claims

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

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    user_id: UUID
    email: str
    expires_at: int  # unix seconds, as Supabase's session.expires_at
    claims: Claims

    def __repr__(self) -> str:  # the token is a credential: keep it out of logs
        return f"AuthSession(user_id={self.user_id}, email={self.email!r}, expires_at={self.expires_at})"

    __str__ = __repr__


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
