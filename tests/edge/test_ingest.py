"""Ingestion: one idempotent, order-independent path from CallEvents to call_records and
provider_usage, and the webhook inbox around it (real Postgres)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from switchboard.db import Database
from switchboard.ingest import (
    IngestError,
    claim_pending,
    process_inbox_row,
    record_call_event,
    InboxItem,
    store_dead_letter,
    store_webhooks,
    strip_credentials,
)
from switchboard.spec import CallEvent, CostBreakdown

from .conftest import Seeded, seed_org

START = datetime(2026, 11, 21, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 04:30 UTC on the 22nd


def retell_events(seeded: Seeded, call_id: str = "call_abc") -> dict[str, CallEvent]:
    common = dict(provider="retell", provider_call_id=call_id, organization_id=seeded.organization_id,
                  agent_config_id=seeded.agent_config_id, direction="inbound", from_number="+15550001111",
                  to_number=seeded.number)
    return {
        "started": CallEvent(kind="started", event_id=f"{call_id}:call_started", event_type="call_started",
                             status="ongoing", started_at=START, **common),
        "ended": CallEvent(kind="ended", event_id=f"{call_id}:call_ended", event_type="call_ended", status="ended",
                           started_at=START, ended_at=START + timedelta(seconds=95), transcript="Agent: Hello",
                           disconnection_reason="user_hangup",
                           cost=CostBreakdown(platform=Decimal("0.087"), tts=Decimal("0.024"), llm=Decimal("0.01"),
                                              telephony=Decimal("0.024")), **common),
        "analyzed": CallEvent(kind="analyzed", event_id=f"{call_id}:call_analyzed", event_type="call_analyzed",
                              status="ended", started_at=START, ended_at=START + timedelta(seconds=95),
                              transcript="Agent: Hello\nUser: I need a cleaning", analysis={"call_summary": "booked"},
                              sentiment="Positive", successful=True, **common),
    }


COMPARED = ("organization_id", "agent_config_id", "provider_id", "provider_call_id", "status", "started_at", "ended_at",
            "duration_seconds", "transcript", "analysis", "sentiment", "successful", "disconnection_reason",
            "from_number", "to_number", "direction")


async def _call_rows(db: Database) -> list[dict]:
    async with db.as_service() as conn:
        return await (await conn.execute("select * from call_records order by created_at")).fetchall()


async def _usage_rows(db: Database) -> list[dict]:
    async with db.as_service() as conn:
        return await (await conn.execute("select * from provider_usage")).fetchall()


async def _daily(db: Database) -> list[dict]:
    async with db.as_service() as conn:
        return await (await conn.execute("select * from usage_daily")).fetchall()


async def _ingest(db: Database, event: CallEvent):
    async with db.as_service() as conn:
        return await record_call_event(conn, event)


async def test_every_order_of_retell_events_converges_to_the_same_row(db: Database, seeded: Seeded) -> None:
    finals = []
    for n, order in enumerate(itertools.permutations(["started", "ended", "analyzed"])):
        events = retell_events(seeded, call_id=f"call_{n}")
        for name in order:
            await _ingest(db, events[name])
        async with db.as_service() as conn:
            row = await (await conn.execute("select * from call_records where provider_call_id = %s", (f"call_{n}",))).fetchone()
        finals.append({k: row[k] for k in COMPARED if k != "provider_call_id"})
    assert all(f == finals[0] for f in finals), finals
    final = finals[0]
    assert final["status"] == "ended"
    assert final["duration_seconds"] == 95
    assert final["transcript"] == "Agent: Hello\nUser: I need a cleaning"  # the analysed transcript wins
    assert final["analysis"] == {"call_summary": "booked"} and final["successful"] is True
    assert final["disconnection_reason"] == "user_hangup"  # only call_ended carried it; never blanked
    usage = await _usage_rows(db)
    assert len(usage) == 6
    assert {u["usage_date"].isoformat() for u in usage} == {"2026-11-22"}
    assert {u["cost_amount"] for u in usage} == {Decimal("0.145")}
    daily = await _daily(db)
    assert [(d["calls"], d["cost_amount"], d["duration_seconds"]) for d in daily] == [(6, Decimal("0.870"), 570)]


async def test_duplicate_events_change_nothing(db: Database, seeded: Seeded) -> None:
    events = retell_events(seeded)
    for _ in range(3):
        await _ingest(db, events["ended"])
    await _ingest(db, events["analyzed"])
    await _ingest(db, events["ended"])
    assert len(await _call_rows(db)) == 1
    assert len(await _usage_rows(db)) == 1
    daily = await _daily(db)
    assert [(d["calls"], d["cost_amount"]) for d in daily] == [(1, Decimal("0.145"))]


async def test_status_never_moves_back(db: Database, seeded: Seeded) -> None:
    events = retell_events(seeded)
    await _ingest(db, events["ended"])
    await _ingest(db, events["started"])
    [row] = await _call_rows(db)
    assert row["status"] == "ended"


async def test_event_links_to_the_row_the_router_created(db: Database, seeded: Seeded) -> None:
    async with db.as_service() as conn:
        row = await (await conn.execute(
            """insert into call_records (organization_id, agent_config_id, provider_id, telephony_call_id, status,
                 experiment_arm, to_number)
               values (%s, %s, %s, 'sw-call-1', 'registered', 'vapi', %s) returning id""",
            (seeded.organization_id, seeded.agent_config_id, seeded.provider_ids["vapi"], seeded.number),
        )).fetchone()
    ended = CallEvent(kind="ended", provider="vapi", event_id="vapi-call-9:end-of-call-report", event_type="end-of-call-report",
                      provider_call_id="vapi-call-9", call_record_id=row["id"], status="ended", started_at=START,
                      ended_at=START + timedelta(seconds=60),
                      cost=CostBreakdown(stt=Decimal("0.01"), llm=Decimal("0.02"), tts=Decimal("0.03"),
                                         platform=Decimal("0.05"), telephony=Decimal("0.008")))
    call_id = await _ingest(db, ended)
    assert call_id == row["id"]
    [call] = await _call_rows(db)
    assert call["provider_call_id"] == "vapi-call-9" and call["experiment_arm"] == "vapi"
    assert call["status"] == "ended" and call["duration_seconds"] == 60
    [usage] = await _usage_rows(db)
    assert usage["provider_id"] == seeded.provider_ids["vapi"] and usage["cost_amount"] == Decimal("0.118")
    # A later event that only knows the carrier's id lands on the same row too.
    other = CallEvent(kind="other", provider="signalwire", event_id="sw-call-1:x", event_type="calling.call.state",
                      provider_call_id="sw-seg-1", telephony_call_id="sw-call-1", recording_url="https://r/1.mp3")
    assert await _ingest(db, other) == row["id"]


async def test_reported_cost_is_not_replaced_by_a_computed_one(db: Database, seeded: Seeded) -> None:
    events = retell_events(seeded)
    await _ingest(db, events["ended"])
    computed = events["analyzed"].model_copy(update={"cost": CostBreakdown(platform=Decimal("9"), source="computed")})
    await _ingest(db, computed)
    [usage] = await _usage_rows(db)
    assert usage["cost_amount"] == Decimal("0.145") and usage["cost_source"] == "reported"


async def test_a_computed_cost_comes_from_the_price_book(db: Database, seeded: Seeded) -> None:
    class Prices:  # the price book's call-cost interface
        def cost_for_call(self, provider, *, duration_seconds, usage, on):
            assert provider == "livekit" and on.isoformat() == "2026-11-22"
            return CostBreakdown(platform=Decimal("0.01") * duration_seconds / 60, llm=Decimal(usage["llm_tokens"]) / 10**6,
                                 source="computed")

    ev = CallEvent(kind="ended", provider="livekit", event_id="room-1:ended", event_type="session_report",
                   provider_call_id="room-1", organization_id=seeded.organization_id, status="ended",
                   started_at=START, ended_at=START + timedelta(seconds=120), usage={"llm_tokens": 5000})
    async with db.as_service() as conn:
        await record_call_event(conn, ev, Prices())
    [usage] = await _usage_rows(db)
    assert usage["cost_amount"] == Decimal("0.025") and usage["cost_source"] == "computed"
    assert usage["details"] == {"usage": {"llm_tokens": 5000}}


async def test_an_event_with_no_call_and_no_organisation_is_refused(db: Database) -> None:
    ev = CallEvent(kind="ended", provider="retell", event_id="x:call_ended", event_type="call_ended", provider_call_id="x")
    with pytest.raises(IngestError):
        await _ingest(db, ev)
    assert await _call_rows(db) == []


async def test_concurrent_first_events_make_one_row(db: Database, seeded: Seeded) -> None:
    events = retell_events(seeded)

    async def one(name: str) -> None:
        async with db.as_service() as conn:
            await record_call_event(conn, events[name])
            await asyncio.sleep(0.05)  # hold the transaction open so the others must wait or retry

    await asyncio.gather(one("started"), one("ended"), one("analyzed"))
    rows = await _call_rows(db)
    assert len(rows) == 1 and rows[0]["status"] == "ended" and rows[0]["analysis"] == {"call_summary": "booked"}


async def test_an_organisation_sees_only_its_calls(db: Database, seeded: Seeded) -> None:
    other = await seed_org(db)
    await _ingest(db, retell_events(seeded)["ended"])
    await _ingest(db, retell_events(other, call_id="call_other")["ended"])
    rows = await _call_rows(db)
    assert {r["organization_id"] for r in rows} == {seeded.organization_id, other.organization_id}


# --- the inbox ------------------------------------------------------------------------------


async def test_inbox_stores_each_event_once_without_credentials(db: Database, seeded: Seeded) -> None:
    headers = {"Authorization": "Bearer sk-live-123", "X-Vapi-Secret": "s3cret", "Content-Type": "application/json",
               "x-retell-signature": "v=1,d=ab"}
    async with db.as_service() as conn:
        assert await store_webhooks(conn, [InboxItem("retell", "call_1:call_ended", "call_ended", headers, b'{"a":1}',
                                                     seeded.organization_id, "call_1")]) == [True]
    async with db.as_service() as conn:
        assert await store_webhooks(conn, [InboxItem("retell", "call_1:call_ended", "call_ended", headers, b'{"a":1}',
                                                     seeded.organization_id, "call_1")]) == [False]
        rows = await (await conn.execute("select * from webhook_inbox")).fetchall()
    assert len(rows) == 1
    assert rows[0]["headers"] == {"content-type": "application/json", "x-retell-signature": "v=1,d=ab"}
    assert bytes(rows[0]["body"]) == b'{"a":1}' and rows[0]["status"] == "pending"
    assert strip_credentials({"X-Api-Token": "t", "X-Custom-Password": "p", "Accept": "*/*"}) == {"accept": "*/*"}


async def test_a_batch_says_which_of_its_events_are_new(db: Database, seeded: Seeded) -> None:
    from switchboard.ingest import InboxItem, store_webhooks

    def item(event_id: str, org=None, body: bytes = b"{}") -> InboxItem:
        return InboxItem("vapi", event_id, "end-of-call-report", {"content-type": "application/json"}, body, org, None)

    async with db.as_service(pipeline=True) as conn:
        assert await store_webhooks(conn, [item("e1")]) == [True]
    async with db.as_service(pipeline=True) as conn:  # no organisation in any row; a copy inside the batch
        new = await store_webhooks(conn, [item("e2", body=b"\x00\xff"), item("e1"), item("e2"), item("e3")])
    assert new == [True, False, False, True]
    async with db.as_service() as conn:
        rows = {r["event_id"]: r for r in await (await conn.execute("select * from webhook_inbox")).fetchall()}
    assert set(rows) == {"e1", "e2", "e3"} and bytes(rows["e2"]["body"]) == b"\x00\xff"
    assert rows["e3"]["organization_id"] is None


async def test_dead_letters_keep_the_body_and_reason(db: Database) -> None:
    async with db.as_service() as conn:
        await store_dead_letter(conn, "vapi", "message.type missing", {"Authorization": "x"}, b"{}", "127.0.0.1")
        [row] = await (await conn.execute("select * from webhook_dead_letters")).fetchall()
    assert row["reason"] == "message.type missing" and bytes(row["body"]) == b"{}" and row["headers"] == {}


async def test_inbox_rows_are_processed_or_failed_with_attempts(db: Database, seeded: Seeded) -> None:
    events = retell_events(seeded)
    async with db.as_service() as conn:
        await store_webhooks(conn, [InboxItem("retell", events[name].event_id, events[name].event_type, {}, b"{}",
                                              seeded.organization_id, "call_abc") for name in ("ended", "analyzed")])
    calls = {"n": 0}

    def parse(row):
        calls["n"] += 1
        if row["event_type"] == "call_analyzed" and calls["n"] <= 2:
            raise ValueError("transient")
        return [events[row["event_type"].removeprefix("call_")]]

    async with db.as_service() as conn:
        rows = await claim_pending(conn)
        assert [r["event_type"] for r in rows] == ["call_ended", "call_analyzed"]
        results = [await process_inbox_row(conn, r, parse) for r in rows]
    assert results == [True, False]
    async with db.as_service() as conn:
        state = {r["event_type"]: (r["status"], r["attempts"], r["error"])
                 for r in await (await conn.execute("select * from webhook_inbox")).fetchall()}
        assert state == {"call_ended": ("processed", 1, None), "call_analyzed": ("failed", 1, "ValueError: transient")}
        [call] = await (await conn.execute("select analysis from call_records")).fetchall()
        assert call["analysis"] is None  # the failed event left nothing behind
    async with db.as_service() as conn:
        rows = await claim_pending(conn)
        assert [r["event_type"] for r in rows] == ["call_analyzed"]
        assert await process_inbox_row(conn, rows[0], parse) is True
    async with db.as_service() as conn:
        assert await claim_pending(conn) == []
        [call] = await (await conn.execute("select analysis from call_records")).fetchall()
        assert call["analysis"] == {"call_summary": "booked"}
