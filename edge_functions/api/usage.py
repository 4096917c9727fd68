"""Usage and cost summaries: the dashboard's own queries (`switchboard.analytics`), which read
the daily rollup, so they cost the same at a thousand calls or a million."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from edge_functions.api.deps import Caller, caller
from edge_functions.api.errors import ApiRoute, errors
from switchboard import analytics
from switchboard.models import ComponentBreakdown, DailyCostSeries, ProviderCostPerMinute, ProviderLatency, SpendSummary

router = APIRouter(route_class=ApiRoute, tags=["usage"])
DAYS = Query(30, ge=1, le=366, description="the window: this many days up to today (UTC)")


@router.get("/usage/summary", response_model=SpendSummary, responses=errors(401, 403, 404, 422),
            summary="Spend this month, with last month's for the trend")
async def usage_summary(who: Caller = Depends(caller)) -> SpendSummary:
    """Scope: read."""
    async with who.session("read") as (conn, access):
        return await analytics.spend_this_month(conn, access.organization_id)


@router.get("/usage/daily", response_model=DailyCostSeries, responses=errors(401, 403, 404, 422),
            summary="Cost per platform per day")
async def usage_daily(days: int = DAYS, who: Caller = Depends(caller)) -> DailyCostSeries:
    """Scope: read. One series per platform with calls in the window, zeros filled."""
    async with who.session("read") as (conn, access):
        return await analytics.cost_per_provider_per_day(conn, access.organization_id, days=days)


@router.get("/usage/components", response_model=ComponentBreakdown, responses=errors(401, 403, 404, 422),
            summary="What the money went on: STT, LLM, TTS, platform, telephony")
async def usage_components(days: int = DAYS, who: Caller = Depends(caller)) -> ComponentBreakdown:
    """Scope: read. Overall and per platform."""
    async with who.session("read") as (conn, access):
        return await analytics.component_breakdown(conn, access.organization_id, days=days)


@router.get("/usage/cost-per-minute", response_model=list[ProviderCostPerMinute], responses=errors(401, 403, 404, 422),
            summary="Measured cost per minute of each platform, beside its list price")
async def usage_cost_per_minute(days: int = DAYS, who: Caller = Depends(caller)) -> list[ProviderCostPerMinute]:
    """Scope: read. Cheapest first."""
    async with who.session("read") as (conn, access):
        return await analytics.cost_per_minute_by_provider(conn, access.organization_id, days=days)


@router.get("/usage/latency", response_model=list[ProviderLatency], responses=errors(401, 403, 404, 422),
            summary="How long each platform's agent took to answer")
async def usage_latency(days: int = DAYS, who: Caller = Depends(caller)) -> list[ProviderLatency]:
    """Scope: read. The median call's p50 and p90 end to end and its parts averaged, fastest first."""
    async with who.session("read") as (conn, access):
        return await analytics.latency_by_provider(conn, access.organization_id, days=days)
