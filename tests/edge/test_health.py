"""Platform health: minute buckets and the circuit breaker shared through Postgres."""

from __future__ import annotations

import asyncio

from switchboard.db import Database
from switchboard.health import CircuitBreaker, load_circuits, record_outcome, success_rates


async def _buckets(db: Database) -> list[dict]:
    async with db.as_service() as conn:
        return await (await conn.execute("select * from provider_health_minutely order by provider_code, kind")).fetchall()


async def test_outcomes_fill_minute_buckets_and_open_the_circuit(db: Database) -> None:
    async with db.as_service() as conn:
        await record_outcome(conn, "retell", "handoff", True, 40)
        await record_outcome(conn, "retell", "webhook", False, 5)
        for i in range(4):
            changed = await record_outcome(conn, "retell", "handoff", False, 100, failure_threshold=5)
            assert changed.state == "closed" and changed.consecutive_failures == i + 1
        changed = await record_outcome(conn, "retell", "handoff", False, 300, failure_threshold=5, cool_down_seconds=30)
        assert changed.state == "open" and changed.retry_at is not None
    rows = await _buckets(db)
    handoff = next(r for r in rows if r["kind"] == "handoff")
    assert (handoff["successes"], handoff["failures"], handoff["latency_ms_sum"], handoff["latency_ms_max"]) == (1, 5, 740, 300)
    rates = success_rates(rows)
    assert rates["retell"]["total"] == 7 and abs(rates["retell"]["success_rate"] - 1 / 7) < 1e-9
    async with db.as_service() as conn:
        # A webhook failure says nothing about hand-offs: it does not touch the circuit.
        assert await record_outcome(conn, "vapi", "webhook", False, 1) is None
        assert "vapi" not in await load_circuits(conn)
        # A success closes the circuit and resets the count.
        changed = await record_outcome(conn, "retell", "handoff", True, 20)
        assert changed.state == "closed" and changed.consecutive_failures == 0
        assert await record_outcome(conn, "retell", "handoff", True, 20) is None  # nothing to change


async def test_breaker_state_is_shared_between_processes(db: Database) -> None:
    a = CircuitBreaker(db, ttl=60, failure_threshold=2, cool_down_seconds=0.3)
    b = CircuitBreaker(db, ttl=60, failure_threshold=2, cool_down_seconds=0.3)
    assert await a.allow("vapi") and await b.allow("vapi")  # both cached "closed"
    await a.outcome("vapi", "handoff", False, 2000)
    await a.outcome("vapi", "handoff", False, 2000)
    assert not await a.allow("vapi")  # a knows at once
    assert await b.allow("vapi")  # b's cache is still fresh: the cheap path does not read the database
    b.invalidate()
    assert not await b.allow("vapi") and await b.blocked() == {"vapi"}
    await asyncio.sleep(0.35)
    # After the cool-down exactly one process gets the probe.
    a.invalidate()
    results = await asyncio.gather(a.allow("vapi"), b.allow("vapi"))
    assert sorted(results) == [False, True]
    prober = a if results[0] else b
    await prober.outcome("vapi", "handoff", True, 50)
    async with db.as_service() as conn:
        assert (await load_circuits(conn))["vapi"].state == "closed"
    a.invalidate(), b.invalidate()
    assert await a.allow("vapi") and await b.allow("vapi")


async def test_failed_probe_opens_the_circuit_again(db: Database) -> None:
    br = CircuitBreaker(db, ttl=0, failure_threshold=1, cool_down_seconds=0.1)
    await br.outcome("livekit", "handoff", False, 10)
    assert not await br.allow("livekit")
    await asyncio.sleep(0.15)
    assert await br.allow("livekit")  # the probe
    assert not await br.allow("livekit")  # only one at a time
    await br.outcome("livekit", "handoff", False, 10)
    async with db.as_service() as conn:
        st = (await load_circuits(conn))["livekit"]
    assert st.state == "open"


async def test_successes_are_buffered_and_flushed(db: Database) -> None:
    br = CircuitBreaker(db)
    for _ in range(10):
        await br.outcome("signalwire", "handoff", True, 3)
    await br.outcome("signalwire", "webhook", True, 1)
    assert await _buckets(db) == []  # nothing written per call
    assert await br.flush() == 2
    rows = {r["kind"]: r for r in await _buckets(db)}
    assert rows["handoff"]["successes"] == 10 and rows["handoff"]["latency_ms_sum"] == 30
    async with db.as_service() as conn:
        assert await load_circuits(conn) == {}  # successes on a closed circuit wrote no circuit row
    assert await br.flush() == 0
