"""Latency per platform for the dashboard: the median call's p50/p90 end to end (from
`latency_daily`, a histogram whose 5 % buckets put a median within 2.5 % of the calls' figure)
and the average of its parts' p50 (`latency_parts_daily`), read as a member under RLS. Both
rollups follow every change — a new call, a later report with other figures, a call moved to
another day, a deleted call — and always equal a rebuild from the calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from switchboard import analytics
from switchboard.db import Database
from switchboard.ingest import record_call_event
from switchboard.spec import CallEvent, CallLatency, LatencyStat

from .conftest import make_tenant

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _event(org, provider: str, n: int, e2e: tuple[float, float], *, llm: float | None = None,
           overhead: float | None = None, kind: str = "ended", started: datetime = NOW) -> CallEvent:
    return CallEvent(
        kind=kind, provider=provider, event_id=f"{provider}-{n}:{kind}", event_type=kind, provider_call_id=f"{provider}-{n}",
        organization_id=org, status="ended", started_at=started, ended_at=started + timedelta(minutes=2),
        latency=CallLatency(turns=5, e2e=LatencyStat(p50_ms=e2e[0], p90_ms=e2e[1]),
                            llm=LatencyStat(p50_ms=llm, p90_ms=llm) if llm else None,
                            overhead=LatencyStat(p50_ms=overhead, p90_ms=overhead) if overhead else None),
    )


async def _histogram(db: Database, org) -> list[tuple]:
    """Both rollups' rows that count (sums rounded: they are floating point)."""
    async with db.as_service() as conn:
        cur = await conn.execute("select day, provider_id, measure, bucket, calls from latency_daily "
                                 "where organization_id = %s and calls <> 0 order by 1, 2, 3, 4", (org,))
        rows = [tuple(r.values()) for r in await cur.fetchall()]
        cur = await conn.execute("select day, provider_id, part, calls, round(sum_ms::numeric, 3) from latency_parts_daily "
                                 "where organization_id = %s and calls <> 0 order by 1, 2, 3", (org,))
        return rows + [tuple(r.values()) for r in await cur.fetchall()]


async def _rebuilt(db: Database, org) -> list[tuple]:
    async with db.as_owner() as conn:
        await conn.execute("select private.rebuild_latency_daily(%s)", (org,))
    return await _histogram(db, org)


async def test_each_platforms_median_call_within_its_bucket_width(db: Database) -> None:
    a, b = await make_tenant(db, "Alpha"), await make_tenant(db, "Beta")
    async with db.as_service() as conn:
        for i, p50 in enumerate((700, 750, 800, 850, 3000)):  # one slow call does not move the median
            await record_call_event(conn, _event(a.org_id, "retell", i, (p50, p50 * 1.5), llm=400))
        for i, p50 in enumerate((900, 1000, 1100)):
            await record_call_event(conn, _event(a.org_id, "livekit", i, (p50, p50 + 300), llm=300, overhead=12))
        await record_call_event(conn, _event(b.org_id, "vapi", 1, (500, 600)))
    async with db.as_user(a.member) as conn:
        rows = await analytics.latency_by_provider(conn, a.org_id, days=7)
    assert [r.provider_code for r in rows] == ["retell", "livekit"]  # fastest first; another's calls unseen
    retell, livekit = rows
    assert retell.calls == 5 and livekit.calls == 3
    assert retell.e2e_p50_ms == pytest.approx(800, rel=0.03) and retell.e2e_p90_ms == pytest.approx(1200, rel=0.03)
    assert livekit.e2e_p50_ms == pytest.approx(1000, rel=0.03) and livekit.e2e_p90_ms == pytest.approx(1300, rel=0.03)
    assert (retell.llm_avg_ms, livekit.llm_avg_ms, livekit.overhead_avg_ms) == (400, 300, 12)  # parts: averages
    assert retell.overhead_avg_ms is None and retell.eou_avg_ms is None  # not reported: no figure
    async with db.as_user(b.member) as conn:
        assert await analytics.latency_by_provider(conn, a.org_id, days=7) == []  # RLS: not its organisation


async def test_the_histogram_follows_every_change_and_equals_a_rebuild(db: Database) -> None:
    t = await make_tenant(db, "Gamma")
    async with db.as_service() as conn:
        first = await record_call_event(conn, _event(t.org_id, "retell", 1, (800, 1200), llm=400))
        await record_call_event(conn, _event(t.org_id, "retell", 2, (900, 1300)))
        # the analysed report brings other figures (a later stage overwrites) and a later start day
        await record_call_event(conn, _event(t.org_id, "retell", 1, (650, 990), llm=350, kind="analyzed"))
        await conn.execute("update call_records set started_at = started_at - interval '2 days' where id = %s", (first,))
        await record_call_event(conn, _event(t.org_id, "retell", 3, (1000, 1500)))
        await conn.execute("delete from call_records where provider_call_id = 'retell-3'")
        await conn.execute("update call_records set transcript = 'Agent: hi' where id = %s", (first,))  # no latency change
    live = await _histogram(db, t.org_id)
    assert sum(r[4] for r in live if r[2] == "e2e_p50") == 2 and [r[3] for r in live if r[2] == "llm"] == [1]
    assert live == await _rebuilt(db, t.org_id)
    async with db.as_user(t.member) as conn:
        [row] = await analytics.latency_by_provider(conn, t.org_id, days=7)
    assert row.calls == 2 and row.llm_avg_ms == 350


async def test_a_tenant_cannot_write_the_histogram(db: Database) -> None:
    a, b = await make_tenant(db, "Delta"), await make_tenant(db, "Epsilon")
    async with db.as_service() as conn:
        victim = await record_call_event(conn, _event(b.org_id, "retell", 1, (800, 1200)))
    before = await _histogram(db, b.org_id)
    for sql, args in (
        ("select private.latency_bump(c, -1) from call_records c where c.id = %s", (victim,)),
        ("insert into latency_daily (organization_id, day, provider_id, measure, bucket, calls) "
         "select %s, current_date, id, 'e2e_p50', 1, 1000 from voice_ai_providers limit 1", (b.org_id,)),
        ("insert into latency_daily (organization_id, day, provider_id, measure, bucket, calls) "
         "select %s, current_date, id, 'e2e_p50', 1, 1000 from voice_ai_providers limit 1", (a.org_id,)),
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            async with db.as_user(a.owner) as conn:
                await conn.execute(sql, args)
    assert await _histogram(db, b.org_id) == before
