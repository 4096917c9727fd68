"""Usage and cost summaries: the dashboard's numbers through the API equal SQL sums over the
same calls, for the caller's organisation only."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from tests.api.conftest import World


async def _sql(db, query: str, *args):
    async with db.as_service() as conn:
        return await (await conn.execute(query, args)).fetchone()


async def test_summary_equals_the_sum_of_this_months_calls(client: httpx.AsyncClient, world: World, db) -> None:
    r = await client.get("/api/usage/summary", headers=world.member_a.headers())
    assert r.status_code == 200
    body = r.json()
    month = datetime.now(timezone.utc).date().replace(day=1)
    row = await _sql(db, "select coalesce(sum(cost_amount), 0) as cost, count(*) as calls from provider_usage "
                         "where organization_id = %s and usage_date >= %s", world.org_a, month)
    assert body["this_month"] == pytest.approx(float(row["cost"])) and body["calls_this_month"] == row["calls"]
    assert body["month_start"] == month.isoformat()
    other = (await client.get("/api/usage/summary", headers=world.owner_b.headers())).json()
    assert other["calls_this_month"] == 1


async def test_daily_components_and_cost_per_minute(client: httpx.AsyncClient, world: World, db) -> None:
    h = world.member_a.headers()
    daily = (await client.get("/api/usage/daily", params={"days": 7}, headers=h)).json()
    assert len(daily["days"]) == 7 and daily["end"] == datetime.now(timezone.utc).date().isoformat()
    total = await _sql(db, "select sum(cost_amount) as cost from provider_usage where organization_id = %s and usage_date >= %s",
                       world.org_a, date.fromisoformat(daily["start"]))
    assert sum(s["total"] for s in daily["providers"]) == pytest.approx(float(total["cost"]))
    assert {s["provider_code"] for s in daily["providers"]} == {"retell", "vapi", "signalwire", "livekit"}
    parts = (await client.get("/api/usage/components", headers=h)).json()
    by = {c["component"]: c["cost"] for c in parts["components"]}
    assert by == pytest.approx({"stt": 0.05, "llm": 0.10, "tts": 0.15, "platform": 0.25, "telephony": 0.067})
    per_minute = (await client.get("/api/usage/cost-per-minute", headers=h)).json()
    retell = next(p for p in per_minute if p["provider_code"] == "retell")
    assert retell["calls"] == 2 and retell["minutes"] == 3.0 and retell["cost_per_minute"] == round(0.2468 / 3, 6)
    assert retell["list_price_per_minute"] == 0.091


async def test_latency_per_platform_for_the_callers_organisation(client: httpx.AsyncClient, world: World, db) -> None:
    from switchboard.ingest import record_call_event
    from switchboard.spec import CallEvent, CallLatency, LatencyStat

    started = datetime.now(timezone.utc) - timedelta(hours=1)
    async with db.as_service() as conn:
        await record_call_event(conn, CallEvent(
            kind="ended", provider="retell", event_id="lat-api:ended", event_type="call_ended", provider_call_id="lat-api",
            organization_id=world.org_a, status="ended", started_at=started, ended_at=started + timedelta(minutes=1),
            latency=CallLatency(turns=3, e2e=LatencyStat(p50_ms=900, p90_ms=1300), llm=LatencyStat(p50_ms=410, p90_ms=600))))
    [retell] = (await client.get("/api/usage/latency", params={"days": 7}, headers=world.member_a.headers())).json()
    assert retell["provider_code"] == "retell" and retell["calls"] == 1 and retell["llm_avg_ms"] == 410
    assert retell["e2e_p50_ms"] == pytest.approx(900, rel=0.03) and retell["e2e_p90_ms"] == pytest.approx(1300, rel=0.03)
    assert retell["eou_avg_ms"] is None  # not reported
    assert (await client.get("/api/usage/latency", headers=world.owner_b.headers())).json() == []


@pytest.mark.parametrize("days", [0, 400, "week"])
async def test_the_window_is_checked(client: httpx.AsyncClient, world: World, days) -> None:
    r = await client.get("/api/usage/daily", params={"days": days}, headers=world.member_a.headers())
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "days"
