"""Demo data (idempotent, priced from the database) and the dashboard queries over the rollup."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import psycopg
import pytest
from typer.testing import CliRunner

from switchboard import analytics, demo
from switchboard.auth import sign_in
from switchboard.db import Database
from switchboard.orgs import list_my_organizations
from switchboard.settings import reset_settings_cache

from .conftest import make_tenant

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)

# Each usage row's components recomputed in SQL straight from price_book (the price in force on
# the call's day, else the earliest), independently of the seeding code.
_PRICE = """
  (select usd_per_unit from price_book pb where pb.subject = %s and pb.component = %s and pb.unit = %s
   order by (pb.effective_from <= u.usage_date) desc, case when pb.effective_from <= u.usage_date
            then pb.effective_from end desc nulls last, pb.effective_from limit 1)
"""


async def test_seed_is_idempotent_and_priced_from_the_price_book(db: Database, db_url: str) -> None:
    first = await demo.seed_demo(db, 1500, now=NOW, seed=1)
    second = await demo.seed_demo(db, 1200, now=NOW, seed=2)
    assert first.demo.organization_id == second.demo.organization_id
    assert first.demo.agent_config_id == second.demo.agent_config_id
    assert second.calls == 1200 + demo.other_calls_for(1200)
    with psycopg.connect(db_url) as conn:
        one = lambda q, *p: conn.execute(q, p).fetchone()[0]  # noqa: E731
        assert one("select count(*) from organizations") == 2
        assert one("select count(*) from auth.users") == 2
        assert one("select count(*) from agent_configs") == 2
        assert one("select count(*) from phone_numbers") == 2
        assert one("select count(*) from provider_configs where organization_id = %s", first.demo.organization_id) == 4
        assert one("select count(*) from call_records where organization_id = %s", first.demo.organization_id) == 1200
        assert one("select count(*) from provider_usage") == one("select count(*) from call_records") == second.calls
        spec = conn.execute("select traffic_split, fallback_order, jsonb_array_length(tools), begin_message, prompt "
                            "from agent_configs where organization_id = %s", (first.demo.organization_id,)).fetchone()
        assert spec[0] == {"retell": 50, "vapi": 50} and len(spec[1]) == 3 and spec[2] >= 2 and spec[3] and spec[4]
        # all four platforms, 90 days, outcomes and transcripts
        assert one("select count(distinct provider_id) from call_records where organization_id = %s", first.demo.organization_id) == 4
        lo, hi = conn.execute("select min(started_at), max(started_at) from call_records").fetchone()
        assert NOW - timedelta(days=90) <= lo and hi <= NOW and (hi - lo).days >= 80
        assert {r[0] for r in conn.execute("select distinct status from call_records")} == {"ended", "error", "not_connected"}
        assert one("select count(*) from call_records where status = 'ended' and (transcript is null or sentiment is null "
                   "or successful is null or disconnection_reason is null)") == 0
        assert {r[0] for r in conn.execute("select distinct experiment_arm from call_records where experiment_arm is not null")} == {"retell", "vapi"}
        # costs: every component equals price × minutes, from price_book
        mismatches = one(
            f"""
            select count(*) from provider_usage u join voice_ai_providers p on p.id = u.provider_id
            join call_records c on c.id = u.call_id
            cross join lateral (select
              case when p.code = 'livekit' then {_PRICE.replace('%s', "'openai-stt'", 1).replace('%s', "'stt'", 1).replace('%s', "'minute'", 1)}
                   else coalesce({_PRICE.replace('%s', 'p.code', 1).replace('%s', "'stt'", 1).replace('%s', "'minute'", 1)}, 0) end as stt,
              coalesce({_PRICE.replace('%s', 'p.code', 1).replace('%s', "'platform'", 1).replace('%s', "'minute'", 1)}, 0) as platform,
              case when c.direction = 'web' then 0
                   else coalesce({_PRICE.replace('%s', 'p.code', 1).replace('%s', "'telephony'", 1).replace('%s', "'minute'", 1)}, 0) end as telephony
            ) r
            where abs(u.stt_cost - round(r.stt * u.duration_seconds / 60.0, 6)) > 0.000002
               or abs(u.platform_cost - round(r.platform * u.duration_seconds / 60.0, 6)) > 0.000002
               or abs(u.telephony_cost - round(r.telephony * u.duration_seconds / 60.0, 6)) > 0.000002
               or abs(u.cost_amount - (u.stt_cost + u.llm_cost + u.tts_cost + u.platform_cost + u.telephony_cost)) > 0.000002
               or u.usage_date <> (c.started_at at time zone 'utc')::date
            """
        )
        assert mismatches == 0
        # components the price book does not list for a platform cost nothing (SignalWire bundles them)
        assert one("select count(*) from provider_usage u join voice_ai_providers p on p.id = u.provider_id "
                   "where p.code = 'signalwire' and (u.stt_cost + u.llm_cost + u.tts_cost) <> 0") == 0
        assert one("select count(*) from provider_usage u join voice_ai_providers p on p.id = u.provider_id "
                   "where p.code in ('retell', 'vapi', 'livekit') and u.duration_seconds > 60 and u.llm_cost = 0") == 0
        # a price change in the book changes what a re-seed charges
        conn.execute("update price_book set usd_per_unit = usd_per_unit * 2 where subject = 'retell' and component = 'platform'")
        conn.commit()
    await demo.seed_demo(db, 300, now=NOW, seed=3)
    with psycopg.connect(db_url) as conn:
        ratio = conn.execute(
            "select avg(u.platform_cost / (u.duration_seconds / 60.0)) from provider_usage u join voice_ai_providers p "
            "on p.id = u.provider_id where p.code = 'retell' and u.duration_seconds > 0").fetchone()[0]
        price = conn.execute("select usd_per_unit from price_book where subject = 'retell' and component = 'platform'").fetchone()[0]
        assert abs(float(ratio) - float(price)) < 0.0005
        # the rollup matches the detail and its trigger is back on
        assert conn.execute("select sum(calls), sum(cost_amount) from usage_daily").fetchone() == \
            conn.execute("select count(*)::bigint, sum(cost_amount) from provider_usage").fetchone()
        trig = conn.execute("select tgenabled from pg_trigger where tgname = 'provider_usage_rollup'").fetchone()[0]
        assert trig == "O"


async def test_demo_users_sign_in_and_see_only_their_organisation(db: Database) -> None:
    await demo.seed_demo(db, 200, now=NOW, seed=4)
    for email, password, org in ((demo.DEMO_EMAIL, demo.DEMO_PASSWORD, demo.DEMO_ORG),
                                 (demo.OTHER_EMAIL, demo.OTHER_PASSWORD, demo.OTHER_ORG)):
        session = await sign_in(db, email, password)
        async with db.as_user(session.claims) as conn:
            assert [o.name for o in await list_my_organizations(conn)] == [org]
            calls = (await (await conn.execute("select count(distinct organization_id) as n from call_records")).fetchone())["n"]
            assert calls == 1


def test_seed_cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.cli import app

    monkeypatch.setenv("DATABASE_URL", db_url)
    reset_settings_cache()
    try:
        out = CliRunner().invoke(app, ["seed", "--demo", "--calls", "400"])
        assert out.exit_code == 0, out.output
        assert "rows/s" in out.output and "demo@switchboard.local" in out.output
        assert CliRunner().invoke(app, ["seed"]).exit_code == 2
    finally:
        monkeypatch.delenv("DATABASE_URL")
        reset_settings_cache()
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from call_records c join organizations o on o.id = c.organization_id "
                            "where o.name = 'Demo Dental'").fetchone()[0] == 400


# --- analytics ---------------------------------------------------------------------------------
async def _usage(db: Database, org, code: str, day: date, seconds: int, **costs: float) -> None:
    """One call and its usage row through the normal (trigger-maintained) path."""
    async with db.as_service() as conn:
        pid = (await (await conn.execute("select id from voice_ai_providers where code = %s", (code,))).fetchone())["id"]
        call = (await (await conn.execute(
            "insert into call_records (organization_id, provider_id, status, started_at, duration_seconds) "
            "values (%s, %s, 'ended', %s, %s) returning id", (org, pid, datetime.combine(day, datetime.min.time(), timezone.utc), seconds),
        )).fetchone())["id"]
        cols = ["stt_cost", "llm_cost", "tts_cost", "platform_cost", "telephony_cost"]
        vals = [costs.get(c.removesuffix("_cost"), 0.0) for c in cols]
        await conn.execute(
            f"insert into provider_usage (organization_id, provider_id, call_id, usage_date, duration_seconds, cost_amount, {', '.join(cols)}) "
            f"values (%s, %s, %s, %s, %s, %s, {', '.join(['%s'] * 5)})", (org, pid, call, day, seconds, sum(vals), *vals),
        )


async def test_dashboard_queries_over_known_usage(db: Database, tenants) -> None:
    a, b = tenants
    today = date(2026, 3, 31)  # end of a long month after a short one
    await _usage(db, a.org_id, "retell", date(2026, 3, 31), 120, platform=0.11, llm=0.012, tts=0.03, telephony=0.03)
    await _usage(db, a.org_id, "retell", date(2026, 3, 2), 60, platform=0.055, telephony=0.015)
    await _usage(db, a.org_id, "vapi", date(2026, 3, 2), 300, platform=0.25, stt=0.05, llm=0.03, tts=0.11, telephony=0.04)
    await _usage(db, a.org_id, "vapi", date(2026, 2, 27), 60, platform=0.05)   # last month, by the 28th
    await _usage(db, a.org_id, "signalwire", date(2026, 2, 1), 60, platform=0.16)  # last month
    await _usage(db, a.org_id, "livekit", date(2025, 12, 31), 600, platform=0.1)  # out of every window
    await _usage(db, b.org_id, "retell", date(2026, 3, 31), 6000, platform=9.0)  # another tenant

    async with db.as_user(a.member) as conn:
        spend = await analytics.spend_this_month(conn, a.org_id, today=today)
        daily = await analytics.cost_per_provider_per_day(conn, a.org_id, days=30, today=today)
        parts = await analytics.component_breakdown(conn, a.org_id, days=30, today=today)
        cpm = await analytics.cost_per_minute_by_provider(conn, a.org_id, days=30, today=today)
        with pytest.raises(ValueError):
            await analytics.cost_per_provider_per_day(conn, a.org_id, days=0, today=today)

    assert spend.month_start == date(2026, 3, 1)
    assert spend.this_month == pytest.approx(0.182 + 0.07 + 0.48)
    assert spend.calls_this_month == 3 and spend.minutes_this_month == 8.0
    assert spend.last_month == pytest.approx(0.21) and spend.last_month_to_date == pytest.approx(0.21)
    assert spend.change_vs_last_month_pct == pytest.approx((0.732 - 0.21) / 0.21 * 100, abs=0.1)

    assert daily.start == date(2026, 3, 2) and daily.end == today and len(daily.days) == 30
    by = {s.provider_code: s for s in daily.providers}
    assert set(by) == {"retell", "vapi"} and daily.providers[0].provider_code == "vapi"
    assert all(len(s.points) == 30 for s in daily.providers)
    assert by["retell"].points[-1].cost == pytest.approx(0.182) and by["retell"].points[0].cost == pytest.approx(0.07)
    assert by["vapi"].points[0].cost == pytest.approx(0.48) and by["vapi"].points[0].minutes == 5.0
    assert sum(p.cost for p in by["retell"].points[1:-1]) == 0

    comp = {c.component: c for c in parts.components}
    assert parts.total == pytest.approx(0.732)
    assert comp["platform"].cost == pytest.approx(0.415) and comp["stt"].cost == pytest.approx(0.05)
    assert comp["telephony"].cost == pytest.approx(0.085)
    assert sum(c.share for c in parts.components) == pytest.approx(1.0, abs=0.001)
    assert [p.provider_code for p in parts.providers] == ["vapi", "retell"]

    rates = {r.provider_code: r for r in cpm}
    assert set(rates) == {"retell", "vapi", "signalwire", "livekit"}
    assert rates["retell"].cost_per_minute == pytest.approx(0.252 / 3) and rates["vapi"].cost_per_minute == pytest.approx(0.096)
    assert rates["livekit"].cost_per_minute is None and rates["livekit"].list_price_per_minute == pytest.approx(0.045)
    assert cpm[0].provider_code == "retell"

    # another tenant's member asking for A's dashboard gets nothing of A's
    async with db.as_user(b.owner) as conn:
        spend_b = await analytics.spend_this_month(conn, a.org_id, today=today)
        parts_b = await analytics.component_breakdown(conn, a.org_id, days=30, today=today)
    assert spend_b.this_month == 0 and parts_b.total == 0 and parts_b.providers == []


async def test_a_large_load_rebuilds_the_indexes_it_dropped(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    index_sql = ("select indexname, indexdef from pg_indexes where schemaname = 'public' "
                 "and tablename in ('call_records', 'provider_usage') order by 1")
    with psycopg.connect(db_url) as conn:
        before = conn.execute(index_sql).fetchall()
    monkeypatch.setattr(demo, "BULK_INDEX_THRESHOLD", 10)  # take the bulk path with a small load
    report = await demo.seed_demo(db, 600, now=NOW, seed=5)
    with psycopg.connect(db_url) as conn:
        assert conn.execute(index_sql).fetchall() == before
        assert conn.execute("select count(*) from call_records").fetchone()[0] == report.calls
        # the rebuilt unique index still refuses a duplicate carrier call id
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("insert into call_records (organization_id, telephony_call_id) "
                         "select organization_id, telephony_call_id from call_records where telephony_call_id is not null limit 1")


async def test_demo_seed_gives_the_health_page_its_traffic(db: Database) -> None:
    """The health page over 24 hours is not empty after `seed --demo`: one hand-off per demo call
    of the window, failed where the call errored, and re-seeding replaces rather than adds."""
    from switchboard import health_report

    await demo.seed_demo(db, 3000, now=NOW, seed=6)
    await demo.seed_demo(db, 3000, now=NOW, seed=6)
    async with db.as_service() as conn:
        cur = await conn.execute(
            "select vp.code, count(*) as calls, count(*) filter (where c.status = 'error') as errored "
            "from call_records c join voice_ai_providers vp on vp.id = c.provider_id "
            "where c.started_at >= %s and c.started_at <= %s group by vp.code", (NOW - timedelta(hours=24), NOW))
        expected = {r["code"]: r for r in await cur.fetchall()}
        report = {p.code: p for p in await health_report.platform_health(conn, hours=24, now=NOW)}
    assert expected, "the demo has calls in the last 24 hours"
    for code, r in expected.items():
        assert report[code].attempts == r["calls"], code
        assert report[code].success_rate == pytest.approx(1 - r["errored"] / r["calls"]), code
        assert 80 <= report[code].avg_latency_ms <= 400
