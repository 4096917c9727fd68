"""The routing row is written behind the answer: the call does not wait for the disk, the row
lands moments later, survives a database outage (retried until it is back), and a row the
database refuses is dropped alone without holding up the others."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

from switchboard.batching import WriteBehind
from switchboard.db import Database, database_unavailable
from switchboard.health import CircuitBreaker
from switchboard.inbound import InboundRouter, call_record_id_for
from switchboard.platforms import PlatformSource
from switchboard.settings import get_settings
from switchboard.spec import InboundRequest
from tests.support.tcp_proxy import TcpProxy

from .conftest import seed_org, use_settings


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}"))


@pytest.fixture
async def line(db_url: str):
    """A database reached through a line that the test can cut."""
    proxy = await TcpProxy(urlsplit(db_url).port).start()
    db = Database(_through(db_url, proxy.port), min_size=1, max_size=4)
    await db.open()
    db.pool.timeout = 0.5  # a request gives up on the pool quickly while the line is down
    try:
        yield proxy, db
    finally:
        proxy.restore()
        await db.close()
        await proxy.stop()


async def _count(db: Database, record_ids) -> int:
    async with db.as_service() as conn:
        row = await (await conn.execute("select count(*) as n from call_records where id = any(%s)",
                                        ([str(i) for i in record_ids],))).fetchone()
    return row["n"]


async def test_the_call_is_answered_before_its_row_is_written(db: Database, db_url: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch)
    seeded = await seed_org(db, active="signalwire")
    router = InboundRouter(db, CircuitBreaker(db), PlatformSource(db, get_settings()))
    call = InboundRequest(f"call-{uuid.uuid4()}", "+14155550123", seeded.number)
    result = await router.route(call)
    assert result.outcome == "routed" and result.answer.swml is not None
    assert router.records.pending == 1  # the answer is out; the row is on its way
    await router.records.flush(timeout=10)
    assert router.records.pending == 0
    async with db.as_service() as conn:
        row = await (await conn.execute("select status, telephony_call_id, metadata from call_records where id = %s",
                                        (call_record_id_for(call.telephony_call_id),))).fetchone()
    assert row["status"] == "registered" and row["telephony_call_id"] == call.telephony_call_id
    assert row["metadata"]["routing"]["attempts"][0]["provider"] == "signalwire"


async def test_calls_are_routed_through_a_database_outage_and_their_rows_land_after_it(line, db: Database,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch)
    proxy, through = line
    seeded = await seed_org(db, active="signalwire")
    router = InboundRouter(through, CircuitBreaker(through, ttl=0.05), PlatformSource(through, get_settings()),
                           lookup_ttl=0.05)
    router.records.backoff = (0.05, 0.1)
    # A server that has been taking calls: the number, its agent and the circuits are known.
    warm = InboundRequest(f"call-{uuid.uuid4()}", "+14155550123", seeded.number)
    assert (await router.route(warm)).outcome == "routed"
    await router.records.flush(timeout=10)
    proxy.cut()
    await asyncio.sleep(0.1)  # every cached answer has expired
    calls = [InboundRequest(f"call-{uuid.uuid4()}", "+14155550123", seeded.number) for _ in range(5)]
    for call in calls:
        result = await router.route(call)  # the number and circuits as last read
        assert result.outcome == "routed" and result.provider == "signalwire"
    await asyncio.sleep(0.5)  # several failed attempts to write
    assert router.records.pending == 5
    ids = [call_record_id_for(c.telephony_call_id) for c in calls]
    assert await _count(db, ids) == 0
    proxy.restore()
    await router.records.flush(timeout=30)
    assert await _count(db, ids) == 5


async def test_a_refused_row_is_dropped_alone(db: Database) -> None:
    seeded = await seed_org(db, active="signalwire")
    dropped: list[int] = []
    router = InboundRouter(db, CircuitBreaker(db), PlatformSource(db, get_settings()), on_records_dropped=dropped.append)

    def row(status: str) -> dict:
        return {"id": str(uuid.uuid4()), "org": str(seeded.organization_id), "agent": str(seeded.agent_config_id),
                "provider": "signalwire", "pcid": None, "tcid": str(uuid.uuid4()), "from": "+1", "to": seeded.number,
                "status": status, "arm": None, "reason": None, "meta": {}}

    rows = [row("registered"), row("bogus-status"), row("registered"), row("not_connected")]
    for r in rows:
        router.records.put(r)
    await router.records.flush(timeout=10)
    assert dropped == [1]
    assert await _count(db, [r["id"] for r in rows]) == 3
    async with db.as_service() as conn:
        bad = await (await conn.execute("select 1 from call_records where id = %s", (rows[1]["id"],))).fetchone()
    assert bad is None


async def test_past_its_bound_the_queue_drops_the_oldest_rows() -> None:
    written: list[list[int]] = []
    down = True

    async def write(batch):
        if down:
            raise OSError("connection refused")
        written.append(list(batch))

    dropped: list[int] = []
    writer = WriteBehind(write, name="test rows", max_pending=3, backoff=(0.01,), on_drop=dropped.append,
                         transient=database_unavailable)
    for i in range(5):
        writer.put(i)
    await asyncio.sleep(0.05)
    assert writer.pending == 3 and sum(dropped) == 2
    down = False
    await writer.flush(timeout=5)
    assert [row for batch in written for row in batch] == [2, 3, 4]


def test_only_an_unreachable_database_is_worth_retrying() -> None:
    import psycopg
    import psycopg_pool

    assert database_unavailable(psycopg.OperationalError("server closed the connection unexpectedly"))
    assert database_unavailable(psycopg_pool.PoolTimeout("couldn't get a connection after 0.5 sec"))
    assert not database_unavailable(psycopg.errors.CheckViolation("new row violates check constraint"))
    assert not database_unavailable(psycopg.errors.UniqueViolation("duplicate key value"))
