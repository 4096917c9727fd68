"""Ingestion that one bad request cannot break (issue #11, point 7): every tenant is a possible
attacker, so nothing one of them posts may cost another tenant an event, a price or a secret."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal

import pytest

from switchboard.db import Database
from tests.edge.conftest import (  # noqa: F401 - fixtures
    Edge,
    Seeded,
    _fresh_settings_after_each_test,
    edge,
    edge_env,
    seed_org,
    seeded,
)
from tests.edge.payloads import retell_call, retell_webhook, vapi_message, vapi_webhook

ROUTER = "/functions/v1/provider-webhook-router"


async def rows(db: Database, sql: str, *args) -> list[dict]:
    async with db.as_service() as conn:
        return await (await conn.execute(sql, args or None)).fetchall()


def retell_event(org: uuid.UUID | str, call_id: str, number: str = "+15550001234") -> tuple[bytes, dict[str, str]]:
    return retell_webhook("call_ended", retell_call(call_id, ids={"organization_id": str(org)}, to_number=number))


async def test_unknown_organisation_is_404_and_stores_nothing(edge: Edge, db: Database, seeded: Seeded) -> None:
    unknown = uuid.uuid4()
    for spelled in (str(unknown), unknown.hex, str(uuid.UUID(int=0)), str(unknown).upper()):
        r = await edge.client.post(f"{ROUTER}/retell/{spelled}", content=(req := retell_event(unknown, "c_unknown"))[0],
                                   headers=req[1])
        assert r.status_code == 404, (spelled, r.status_code, r.text)
    # A malformed body for an unknown organisation is not kept either: it was never theirs to send.
    r = await edge.client.post(f"{ROUTER}/retell/{unknown}", content=b"{}", headers=retell_event(unknown, "x")[1])
    assert r.status_code == 404
    await edge.settle()
    for table in ("webhook_inbox", "webhook_dead_letters", "call_records"):
        assert await rows(db, f"select 1 from {table}") == [], table
    # The organisation's own id, however it is spelled, still works.
    r = await edge.client.post(f"{ROUTER}/retell/{seeded.organization_id.hex}",
                               content=(req := retell_event(seeded.organization_id, "c_known"))[0], headers=req[1])
    assert r.status_code == 200, r.text


async def test_burst_with_unknown_org_events_loses_no_valid_event(edge: Edge, db: Database) -> None:
    from edge_functions.provider_webhook_router import drain_inbox

    orgs = [await seed_org(db) for _ in range(6)]
    valid = [(o, f"burst_{i}") for i in range(330) for o in [orgs[i % len(orgs)]]]
    bogus = [(uuid.uuid4(), f"bogus_{i}") for i in range(60)]
    requests = [(o.organization_id, cid, True) for o, cid in valid] + [(org, cid, False) for org, cid in bogus]
    requests.sort(key=lambda r: hash(r[1]))  # interleaved

    async def send(org, call_id, _ok):
        body, headers = retell_event(org, call_id)
        return await edge.client.post(f"{ROUTER}/retell/{org}", content=body, headers=headers)

    answers = await asyncio.gather(*(send(*r) for r in requests))
    by_kind = {True: [], False: []}
    for (_, cid, ok), r in zip(requests, answers):
        by_kind[ok].append((cid, r.status_code))
    assert {s for _, s in by_kind[True]} == {200}, [x for x in by_kind[True] if x[1] != 200][:5]
    assert {s for _, s in by_kind[False]} == {404}
    await edge.settle()
    await drain_inbox(edge.runtime, older_than_seconds=0)
    inbox = await rows(db, "select event_id, status from webhook_inbox")
    assert len(inbox) == len(valid) and {r["status"] for r in inbox} == {"processed"}
    calls = {r["provider_call_id"] for r in await rows(db, "select provider_call_id from call_records")}
    assert calls == {cid for _, cid in valid}


@pytest.mark.parametrize("pipeline", [True, False], ids=["pipeline", "plain"])
async def test_one_refused_row_does_not_fail_its_batch(db: Database, seeded: Seeded, pipeline: bool) -> None:
    from switchboard.batching import GroupWriter
    from switchboard.ingest import InboxItem, store_webhooks

    def item(event_id: str, org) -> InboxItem:
        return InboxItem("retell", event_id, "call_ended", {"content-type": "application/json"}, b"{}", org, None)

    # Directly: one result per row, the refused one an exception, the others stored.
    async with db.as_service(pipeline=pipeline) as conn:
        results = await store_webhooks(conn, [item("a", seeded.organization_id), item("b", uuid.uuid4()),
                                              item("c", None), item("a", seeded.organization_id)])
    assert results[0] is True and results[2] is True and results[3] is False
    assert isinstance(results[1], Exception)

    # Through the group commit: only the refused row's caller sees the error.
    async def write(items):
        async with db.as_service(pipeline=pipeline) as conn:
            return await store_webhooks(conn, items)

    writer = GroupWriter(write)
    outcomes = await asyncio.gather(*(writer.submit(item(f"g{i}", uuid.uuid4() if i == 7 else seeded.organization_id))
                                      for i in range(40)), return_exceptions=True)
    assert [i for i, o in enumerate(outcomes) if o is not True] == [7]
    stored = {r["event_id"] for r in await rows(db, "select event_id from webhook_inbox")}
    assert stored == {"a", "c"} | {f"g{i}" for i in range(40) if i != 7}


async def test_credential_header_never_stored(edge: Edge, db: Database, seeded: Seeded) -> None:
    from switchboard.secrets import put_secret

    secret = "acme-vapi-token-8d1f"
    async with db.as_service() as conn:
        await put_secret(conn, seeded.organization_id, "vapi",
                         {"api_key": "vapi-org-key", "webhook_secret": secret, "webhook_secret_header": "X-Acme-Auth"})
    ids = {"organization_id": str(seeded.organization_id)}
    payload = vapi_message("end-of-call-report", "vapi-hdr-1", ids=ids, to_number=seeded.number)
    body, _ = vapi_webhook(payload)
    headers = {"content-type": "application/json", "x-acme-auth": secret}
    r = await edge.client.post(f"{ROUTER}/vapi/{seeded.organization_id}", content=body, headers=headers)
    assert r.status_code == 200, r.text
    r = await edge.client.post(f"{ROUTER}/vapi", content=body, headers=headers)  # organisation from the metadata
    assert r.status_code == 200, r.text
    malformed = json.dumps({"message": {"type": "end-of-call-report"}}).encode()
    r = await edge.client.post(f"{ROUTER}/vapi/{seeded.organization_id}", content=malformed, headers=headers)
    assert r.status_code == 400
    await edge.settle()
    stored = await rows(db, "select headers from webhook_inbox") + await rows(db, "select headers from webhook_dead_letters")
    assert len(stored) == 2
    for row in stored:
        assert "x-acme-auth" not in row["headers"] and secret not in json.dumps(row["headers"]), row["headers"]


async def _unload_prices(edge: Edge, monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard import billing

    async def unreadable(conn, on=None):
        raise RuntimeError("price book unreadable")

    monkeypatch.setattr(billing, "load_price_book", unreadable)
    edge.runtime.prices = None
    edge.runtime.providers.prices = None
    await edge.runtime.providers.aclose()  # adapters built with the old book are gone too


def _livekit_room_finished(org: uuid.UUID, room: str) -> tuple[bytes, dict[str, str]]:
    from switchboard.providers.livekit.webhooks import sign

    from tests.edge.conftest import TEST_KEYS

    meta = json.dumps({"organization_id": str(org)})
    payload = {"event": "room_finished", "id": f"EV_{room}", "createdAt": "1795255400",
               "room": {"sid": f"RM_{room}", "name": room, "creationTime": "1795255200", "metadata": meta}}
    body = json.dumps(payload).encode()
    return body, {"content-type": "application/webhook+json",
                  "authorization": sign(body, TEST_KEYS["LIVEKIT_API_KEY"], TEST_KEYS["LIVEKIT_API_SECRET"])}


async def test_nothing_processed_before_prices_loaded(edge: Edge, db: Database, seeded: Seeded,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from edge_functions.provider_webhook_router import drain_inbox

    await _unload_prices(edge, monkeypatch)
    body, headers = _livekit_room_finished(seeded.organization_id, "room-early")
    r = await edge.client.post(f"{ROUTER}/livekit/{seeded.organization_id}", content=body, headers=headers)
    assert r.status_code == 200, r.text
    await edge.settle()
    await drain_inbox(edge.runtime, older_than_seconds=0)  # the price book still cannot be read
    [row] = await rows(db, "select status, attempts from webhook_inbox")
    assert (row["status"], row["attempts"]) == ("pending", 0)
    assert await rows(db, "select 1 from provider_usage") == []

    monkeypatch.undo()  # the price book is readable again: the next drain loads it, then processes
    await drain_inbox(edge.runtime, older_than_seconds=0)
    [row] = await rows(db, "select status from webhook_inbox")
    assert row["status"] == "processed"
    [usage] = await rows(db, "select cost_amount, cost_source from provider_usage")
    # 200 s at $0.01 + $0.003 a minute: the price book's estimate, never $0
    assert (usage["cost_amount"], usage["cost_source"]) == (Decimal("0.043333"), "estimated")


async def test_unpriced_usage_is_priced_later_not_zero(db: Database, seeded: Seeded) -> None:
    from datetime import UTC, datetime, timedelta

    from switchboard.analytics import spend_this_month
    from switchboard.billing import load_price_book
    from switchboard.ingest import record_call_event, reprice_unpriced
    from switchboard.spec import CallEvent

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    usage = {"platform": "livekit", "platform_minutes": "2", "telephony_minutes": "2",
             "components": [{"component": "llm", "subject": "acme-llm", "input_tokens": 1_000_000, "output_tokens": 500_000}]}
    worker_report = CallEvent(kind="ended", provider="livekit", event_id="r1:report", event_type="worker_report",
                              provider_call_id="room-unpriced", organization_id=seeded.organization_id, status="ended",
                              started_at=start, ended_at=start + timedelta(seconds=120), usage=usage)
    no_book = CallEvent(kind="ended", provider="livekit", event_id="r2:room_finished", event_type="room_finished",
                        provider_call_id="room-no-book", organization_id=seeded.organization_id, status="ended",
                        started_at=start, ended_at=start + timedelta(seconds=200))
    async with db.as_service() as conn:
        book = await load_price_book(conn)
        await record_call_event(conn, worker_report, book)  # acme-llm has no price yet
        await record_call_event(conn, no_book, None)  # no price book at all
    usage_rows = await rows(db, "select cost_amount, cost_source, details from provider_usage")
    assert [(u["cost_amount"], u["cost_source"]) for u in usage_rows] == [(None, "unpriced")] * 2
    # The dashboard says so rather than showing $0 for them.
    async with db.as_service() as conn:
        spend = await spend_this_month(conn, seeded.organization_id)
    assert spend.calls_this_month == 2 and spend.this_month == 0 and spend.unpriced_calls_this_month == 2

    async with db.as_service() as conn:
        await conn.execute(
            "insert into price_book (subject, component, unit, usd_per_unit, effective_from, source) values "
            "('acme-llm', 'llm', '1m_input_tokens', 0.40, '2026-01-01', 'test'),"
            "('acme-llm', 'llm', '1m_output_tokens', 1.60, '2026-01-01', 'test')")
        book = await load_price_book(conn)
        assert await reprice_unpriced(conn, book) == 2
    priced = {r["provider_call_id"]: r for r in await rows(
        db, "select c.provider_call_id, u.* from provider_usage u join call_records c on c.id = u.call_id")}
    # 2 min × ($0.01 + $0.003) + 1M × $0.40/M + 0.5M × $1.60/M
    assert (priced["room-unpriced"]["cost_amount"], priced["room-unpriced"]["cost_source"]) == (Decimal("1.226000"), "computed")
    assert priced["room-unpriced"]["llm_cost"] == Decimal("1.200000")
    assert (priced["room-no-book"]["cost_amount"], priced["room-no-book"]["cost_source"]) == (Decimal("0.043333"), "estimated")
    async with db.as_service() as conn:
        spend = await spend_this_month(conn, seeded.organization_id)
    assert spend.this_month == pytest.approx(1.269333) and spend.unpriced_calls_this_month == 0


async def test_event_naming_another_orgs_agent_merges_without_it(db: Database) -> None:
    """A tenant signs its own events, so it can put any agent id in them: another
    organisation's agent is taken as none (the call is recorded, linked to nothing of B's),
    on the first event and on a later one alike, and the event does not fail."""
    from datetime import UTC, datetime

    from switchboard.ingest import record_call_event
    from switchboard.spec import CallEvent
    from tests.foundation.conftest import make_tenant

    a, b = await make_tenant(db, "Alpha"), await make_tenant(db, "Beta")
    async with db.as_service() as conn:
        agents = {}
        for t in (a, b):
            cur = await conn.execute(
                "insert into public.agent_configs (organization_id, name, prompt) values (%s, 'Agent', 'Hi') "
                "returning id", (t.org_id,))
            agents[t.org_id] = (await cur.fetchone())["id"]
        common = dict(provider="retell", provider_call_id="c-foreign", organization_id=a.org_id)
        started = CallEvent(kind="started", event_id="c-foreign:started", event_type="call_started", status="ongoing",
                            started_at=datetime.now(UTC), agent_config_id=agents[b.org_id], **common)
        call_id = await record_call_event(conn, started)
        ended = started.model_copy(update={"kind": "ended", "event_id": "c-foreign:ended", "status": "ended"})
        assert await record_call_event(conn, ended) == call_id
        row = await (await conn.execute("select organization_id, agent_config_id, status from public.call_records "
                                        "where id = %s", (call_id,))).fetchone()
        assert row == {"organization_id": a.org_id, "agent_config_id": None, "status": "ended"}
        # Its own agent is still linked.
        own = ended.model_copy(update={"event_id": "c-foreign:analyzed", "kind": "analyzed",
                                       "agent_config_id": agents[a.org_id]})
        await record_call_event(conn, own)
        row = await (await conn.execute("select agent_config_id from public.call_records where id = %s",
                                        (call_id,))).fetchone()
        assert row["agent_config_id"] == agents[a.org_id]
