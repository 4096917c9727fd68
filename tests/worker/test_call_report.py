"""The end-of-call report through the shared ingestion path: a SIP call the router registered
is completed in place (telephony priced per minute), the same report twice stores once, and the
worker's start and end events converge to the same record in either order."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from livekit.agents.testing import fake_job_context

from agent_worker.server import WorkerRuntime, entrypoint
from switchboard.billing import load_price_book
from switchboard.db import Database
from switchboard.ingest import record_call_event
from tests.worker.conftest import OFFLINE, create_org

CALLER, NUMBER = "+15551230001", "+15559870002"


async def _registered_sip_call(db: Database, org) -> uuid.UUID:
    """What the router writes before handing a SignalWire call to LiveKit."""
    async with db.as_service() as conn:
        cur = await conn.execute(
            """insert into call_records (organization_id, agent_config_id, provider_id, telephony_call_id, direction, status)
               select %s, %s, id, %s, 'inbound', 'registered' from voice_ai_providers where code = 'livekit'
               returning id""",
            (org.id, org.agent_id, f"sw-{uuid.uuid4().hex[:10]}"),
        )
        return (await cur.fetchone())["id"]


async def _call(db_url: str, vad, metadata: str):
    runtime = WorkerRuntime(database_url=db_url)
    try:
        with fake_job_context(job_metadata=metadata) as ctx:
            ctx.proc.userdata.update(vad=vad, runtime=runtime)
            call = await entrypoint(ctx)
            call.sip = {"sip.phoneNumber": CALLER, "sip.trunkPhoneNumber": NUMBER}  # the SIP participant's attributes
            if call.session.current_speech is not None:  # the greeting first, as on a phone line
                await call.session.current_speech
            await call.session.run(user_input="Where are you?")
            await call.session.aclose()
            record_id = await call.finish()
        return call, record_id
    finally:
        await runtime.aclose()


async def _row(db: Database, record_id) -> tuple[dict, dict]:
    async with db.as_service() as conn:
        rec = await (await conn.execute("select * from call_records where id = %s", (record_id,))).fetchone()
        usage = await (await conn.execute("select * from provider_usage where call_id = %s", (record_id,))).fetchone()
    return rec, usage


async def test_a_sip_call_completes_the_routers_record_and_pays_telephony(db: Database, db_url: str, vad) -> None:
    org = await create_org(db, vendors=OFFLINE)
    registered = await _registered_sip_call(db, org)
    async with db.as_service() as conn:
        telephony_id = (await (await conn.execute("select telephony_call_id from call_records where id = %s", (registered,))).fetchone())["telephony_call_id"]
    call, record_id = await _call(
        db_url, vad, org.metadata(call_record_id=str(registered), telephony_call_id=telephony_id)
    )
    assert record_id == registered
    rec, usage = await _row(db, record_id)
    assert rec["status"] == "ended" and rec["direction"] == "inbound"
    assert (rec["from_number"], rec["to_number"]) == (CALLER, NUMBER)
    assert rec["provider_call_id"] == call.room_name  # as the LiveKit adapter and webhooks name the call
    assert "User: Where are you?" in rec["transcript"] and "Agent: We are at 12 High Street." in rec["transcript"]
    async with db.as_service() as conn:
        book = await load_price_book(conn)
        count = (await (await conn.execute("select count(*) n from call_records where organization_id = %s", (org.id,))).fetchone())["n"]
    assert count == 1
    minutes = Decimal(usage["details"]["usage"]["telephony_minutes"])
    assert minutes > 0 and usage["telephony_cost"] == (minutes * book.require("livekit", "telephony", "minute")).quantize(Decimal("0.000001"))
    assert usage["platform_cost"] == (minutes * book.require("livekit", "platform", "minute")).quantize(Decimal("0.000001"))

    # the same report again (a retry after a lost reply): nothing changes, nothing doubles
    before = dict(usage)
    async with db.as_service() as conn:
        again = await record_call_event(conn, call.report(), await load_price_book(conn))
        daily = (await (await conn.execute("select calls from usage_daily where organization_id = %s", (org.id,))).fetchone())["calls"]
    assert again == record_id and daily == 1
    rec2, usage2 = await _row(db, record_id)
    assert usage2["cost_amount"] == before["cost_amount"] and usage2["updated_at"] == before["updated_at"]


async def test_start_and_end_events_converge_in_either_order(db: Database, db_url: str, vad) -> None:
    org = await create_org(db, vendors=OFFLINE)
    call, first_id = await _call(db_url, vad, org.metadata())
    started, ended = call.start_event(), call.report()
    reference, _ = await _row(db, first_id)  # written in the natural order (start, then end)

    # the same call's events replayed under a fresh room name, end first
    other_room = "call-" + uuid.uuid4().hex[:10]
    async with db.as_service() as conn:
        book = await load_price_book(conn)
        reordered = None
        for event in (ended, started):
            event = event.model_copy(update={"provider_call_id": other_room, "event_id": event.event_id + "-replay"})
            reordered = await record_call_event(conn, event, book)
    replay, _ = await _row(db, reordered)
    columns = ("status", "started_at", "ended_at", "duration_seconds", "transcript", "transcript_object", "direction",
               "disconnection_reason", "agent_config_id")
    assert {c: replay[c] for c in columns} == {c: reference[c] for c in columns}
    assert replay["status"] == "ended"


async def test_a_report_that_finds_the_database_away_is_spooled_and_stored_later(db: Database, db_url: str, vad,
                                                                                tmp_path) -> None:
    from urllib.parse import urlsplit, urlunsplit

    from tests.support.tcp_proxy import TcpProxy

    org = await create_org(db, vendors=OFFLINE)
    registered = await _registered_sip_call(db, org)
    proxy = await TcpProxy(urlsplit(db_url).port).start()
    parts = urlsplit(db_url)
    through = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    runtime = WorkerRuntime(database_url=through, write_timeout=2.0, spool_dir=tmp_path / "spool", replay_interval=0.1)
    try:
        with fake_job_context(job_metadata=org.metadata(call_record_id=str(registered))) as ctx:
            ctx.proc.userdata.update(vad=vad, runtime=runtime)
            call = await entrypoint(ctx)
            call.sip = {"sip.phoneNumber": CALLER, "sip.trunkPhoneNumber": NUMBER}
            if call.session.current_speech is not None:
                await call.session.current_speech
            await call.session.run(user_input="Where are you?")
            await call.session.aclose()
            proxy.cut()  # the database goes away as the call ends
            assert await call.finish() is None
        [spooled] = runtime.spool.pending()
        assert "Where are you?" in spooled.read_text()
        rec, _ = await _row(db, registered)
        assert rec["status"] != "ended"  # not stored yet
        proxy.restore()
        for _ in range(100):  # the runtime's replay loop stores it once the database answers
            if not runtime.spool.pending():
                break
            await asyncio.sleep(0.1)
        assert runtime.spool.pending() == []
    finally:
        await runtime.aclose()
        await proxy.stop()
    rec, usage = await _row(db, registered)
    assert rec["status"] == "ended" and "User: Where are you?" in rec["transcript"]
    assert usage is not None and usage["telephony_cost"] > 0
