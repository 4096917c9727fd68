"""provider-webhook-router end to end: real app, real Postgres, signatures as the providers
make them. Stored once before the answer, merged into call_records/provider_usage, bad
signatures stored nowhere, malformed bodies kept as dead letters, database down → 503."""

from __future__ import annotations

from decimal import Decimal

import httpx

from switchboard.db import Database

from .conftest import Edge, Seeded
from .payloads import retell_call, retell_webhook


def ids(seeded: Seeded) -> dict[str, str]:
    return {"organization_id": str(seeded.organization_id), "agent_config_id": str(seeded.agent_config_id)}


async def post(edge: Edge, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await edge.client.post(f"/functions/v1/provider-webhook-router/{path}", content=body, headers=headers)


async def rows(db: Database, sql: str) -> list[dict]:
    async with db.as_service() as conn:
        return await (await conn.execute(sql)).fetchall()


async def test_retell_events_make_one_call_with_its_cost(edge: Edge, db: Database, seeded: Seeded) -> None:
    path = f"retell/{seeded.organization_id}"
    started = retell_call("call_r1", ids=ids(seeded), to_number=seeded.number, status="ongoing")
    ended = retell_call("call_r1", ids=ids(seeded), to_number=seeded.number)
    analysed = retell_call("call_r1", ids=ids(seeded), to_number=seeded.number, analysed=True)
    for event, call in (("call_started", started), ("call_ended", ended), ("call_analyzed", analysed)):
        r = await post(edge, path, *retell_webhook(event, call))
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "stored", "event_id": f"call_r1:{event}"}
    await edge.settle()
    [call] = await rows(db, "select * from call_records")
    assert call["organization_id"] == seeded.organization_id and call["provider_call_id"] == "call_r1"
    assert call["status"] == "ended" and call["duration_seconds"] == 95
    assert call["successful"] is True and call["sentiment"] == "Positive"
    [usage] = await rows(db, "select * from provider_usage")
    assert usage["provider_id"] == seeded.provider_ids["retell"]
    assert usage["cost_amount"] == Decimal("0.144200") and usage["cost_source"] == "reported"
    assert usage["tts_cost"] == Decimal("0.023800") and usage["telephony_cost"] == Decimal("0.023800")
    assert usage["usage_date"].isoformat() == "2026-11-18"  # start_timestamp 1795000000000 ms, UTC day
    inbox = await rows(db, "select status, attempts, headers from webhook_inbox order by id")
    assert [(r["status"], r["attempts"]) for r in inbox] == [("processed", 1)] * 3
    await edge.runtime.breaker.flush()
    [health] = await rows(db, "select * from provider_health_minutely")
    assert (health["provider_code"], health["kind"], health["successes"], health["failures"]) == ("retell", "webhook", 3, 0)


async def test_duplicates_are_stored_once(edge: Edge, db: Database, seeded: Seeded) -> None:
    body, headers = retell_webhook("call_ended", retell_call("call_dup", ids=ids(seeded), to_number=seeded.number))
    first = await post(edge, f"retell/{seeded.organization_id}", body, headers)
    again = await post(edge, f"retell/{seeded.organization_id}", body, headers)
    assert first.json()["status"] == "stored" and again.json()["status"] == "duplicate"
    assert again.status_code == 200  # the provider must stop retrying
    await edge.settle()
    assert len(await rows(db, "select * from webhook_inbox")) == 1
    assert len(await rows(db, "select * from call_records")) == 1
    [daily] = await rows(db, "select calls from usage_daily")
    assert daily["calls"] == 1


async def test_analyzed_before_ended_converges(edge: Edge, db: Database, seeded: Seeded) -> None:
    for call_id, order in (("call_in_order", ("call_ended", "call_analyzed")), ("call_reversed", ("call_analyzed", "call_ended"))):
        for event in order:
            call = retell_call(call_id, ids=ids(seeded), to_number=seeded.number, analysed=event == "call_analyzed")
            assert (await post(edge, f"retell/{seeded.organization_id}", *retell_webhook(event, call))).status_code == 200
            await edge.settle()
    calls = {r["provider_call_id"]: r for r in await rows(db, "select * from call_records")}
    keys = ("status", "duration_seconds", "transcript", "analysis", "sentiment", "successful", "disconnection_reason", "started_at", "ended_at")
    assert {k: calls["call_in_order"][k] for k in keys} == {k: calls["call_reversed"][k] for k in keys}
    usage = await rows(db, "select cost_amount from provider_usage")
    assert [u["cost_amount"] for u in usage] == [Decimal("0.144200")] * 2


async def test_bad_signatures_are_stored_nowhere(edge: Edge, db: Database, seeded: Seeded) -> None:
    call = retell_call("call_forged", ids=ids(seeded), to_number=seeded.number)
    body, headers = retell_webhook("call_ended", call, key="not-the-key")
    r = await post(edge, f"retell/{seeded.organization_id}", body, headers)
    assert r.status_code == 401 and "signature" in r.json()["error"]
    r = await post(edge, f"retell/{seeded.organization_id}", body, {"content-type": "application/json"})
    assert r.status_code == 401
    body, headers = retell_webhook("call_ended", call)
    r = await post(edge, f"retell/{seeded.organization_id}", body + b" ", headers)  # tampered after signing
    assert r.status_code == 401
    await edge.runtime.breaker.flush()
    for table in ("webhook_inbox", "webhook_dead_letters", "call_records", "provider_usage", "provider_health_minutely"):
        assert await rows(db, f"select 1 from {table}") == [], table


async def test_malformed_webhooks_are_refused_with_the_reason_and_kept(edge: Edge, db: Database, seeded: Seeded) -> None:
    body = b'{"event": "call_ended", "call": {"agent_id": "x"}}'
    from retell.lib.webhook_auth import symmetric
    import time

    headers = {"content-type": "application/json", "authorization": "Bearer should-not-be-kept",
               "x-retell-signature": symmetric["sign"](body.decode(), "key_edge_retell_test", int(time.time() * 1000))}
    r = await post(edge, f"retell/{seeded.organization_id}", body, headers)
    assert r.status_code == 400 and "call_id" in r.json()["error"]
    [dead] = await rows(db, "select * from webhook_dead_letters")
    assert bytes(dead["body"]) == body and "call_id" in dead["reason"]
    assert "authorization" not in dead["headers"] and dead["headers"]["x-retell-signature"]
    assert await rows(db, "select 1 from webhook_inbox") == []


async def test_an_organisations_own_key_signs_its_webhooks(edge: Edge, db: Database, seeded: Seeded) -> None:
    from switchboard.secrets import put_secret

    async with db.as_service() as conn:
        await put_secret(conn, seeded.organization_id, "retell", {"api_key": "key_org_own"})
    call = retell_call("call_own", ids=ids(seeded), to_number=seeded.number)
    r = await post(edge, f"retell/{seeded.organization_id}", *retell_webhook("call_ended", call))
    assert r.status_code == 401  # the server default no longer speaks for this organisation
    r = await post(edge, f"retell/{seeded.organization_id}", *retell_webhook("call_ended", call, key="key_org_own"))
    assert r.status_code == 200


async def test_an_event_cannot_reach_into_another_organisation(edge: Edge, db: Database, seeded: Seeded) -> None:
    from .conftest import seed_org

    other = await seed_org(edge.runtime.db)
    # Signed for `other` (server key, other's path) but claiming seeded's ids in its metadata.
    call = retell_call("call_cross", ids=ids(seeded), to_number=seeded.number)
    r = await post(edge, f"retell/{other.organization_id}", *retell_webhook("call_ended", call))
    assert r.status_code == 200
    await edge.settle()
    [record] = await rows(db, "select organization_id from call_records")
    assert record["organization_id"] == other.organization_id


async def test_database_down_answers_503(db_url: str, edge_env: None, seeded: Seeded, monkeypatch) -> None:
    from switchboard.db.local import free_port

    from edge_functions import app as edge_app
    from edge_functions.app import create_app

    monkeypatch.setattr(edge_app, "DB_REQUEST_TIMEOUT", 0.5)  # how long a request waits for a connection

    down = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"  # nothing listens there
    app = create_app(database_url=down, background_loops=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:54321") as client:
            call = retell_call("call_down", ids=ids(seeded), to_number=seeded.number)
            body, headers = retell_webhook("call_ended", call)
            r = await client.post("/functions/v1/provider-webhook-router/retell", content=body, headers=headers)
            assert r.status_code == 503 and r.headers["retry-after"] == "5"
            r = await client.post(f"/functions/v1/provider-webhook-router/retell/{seeded.organization_id}", content=body, headers=headers)
            assert r.status_code == 503
            # A forged request that names no organisation needs no database to be refused.
            anonymous, _ = retell_webhook("call_ended", retell_call("call_anon", ids={}, to_number=seeded.number))
            r = await client.post("/functions/v1/provider-webhook-router/retell", content=anonymous,
                                  headers={"x-retell-signature": "v=1,d=00"})
            assert r.status_code == 401
            assert (await client.get("/health")).status_code == 503
            from .test_router import ROUTER, swml_request

            r = await client.post(ROUTER, content=(req := swml_request(seeded.number))[0], headers=req[1])
            assert r.status_code == 503  # SignalWire tries the number's fallback URL or again


async def _vapi_org(db: Database, seeded: Seeded) -> None:
    from switchboard.secrets import put_secret

    from .payloads import VAPI_SECRET

    async with db.as_service() as conn:
        await put_secret(conn, seeded.organization_id, "vapi",
                         {"api_key": "vapi-org-key", "webhook_secret": VAPI_SECRET, "sip_credential_id": "cred-edge-1"})


async def test_vapi_reports_make_the_call_and_its_breakdown(edge: Edge, db: Database, seeded: Seeded) -> None:
    from tests.support.openapi import openapi_document
    from tests.support.prism import CONTRACTS

    from .payloads import vapi_message, vapi_webhook

    await _vapi_org(db, seeded)
    started = vapi_message("status-update", "vapi-call-1", ids=ids(seeded), to_number=seeded.number)
    report = vapi_message("end-of-call-report", "vapi-call-1", ids=ids(seeded), to_number=seeded.number)
    doc = openapi_document(CONTRACTS / "vapi-openapi.json")
    doc.validate_component("ServerMessageEndOfCallReport", report["message"], strict=False)
    doc.validate_component("ServerMessageStatusUpdate", started["message"], strict=False)
    # No organisation in the path: the metadata names it, and its own secret must verify.
    for payload in (report, started):
        r = await post(edge, "vapi", *vapi_webhook(payload))
        assert r.status_code == 200, r.text
    await edge.settle()
    [call] = await rows(db, "select * from call_records")
    assert call["organization_id"] == seeded.organization_id and call["provider_call_id"] == "vapi-call-1"
    assert call["status"] == "ended" and call["duration_seconds"] == 90 and call["successful"] is True
    assert call["disconnection_reason"] == "customer-ended-call"
    [usage] = await rows(db, "select * from provider_usage")
    assert usage["provider_id"] == seeded.provider_ids["vapi"] and usage["usage_date"].isoformat() == "2026-11-20"
    assert (usage["cost_amount"], usage["platform_cost"], usage["telephony_cost"], usage["tts_cost"]) == (
        Decimal("0.155500"), Decimal("0.075000"), Decimal("0.012000"), Decimal("0.032500"))
    # A forged claim to the organisation does not verify under its key.
    forged = vapi_message("end-of-call-report", "vapi-call-2", ids=ids(seeded), to_number=seeded.number)
    r = await post(edge, "vapi", *vapi_webhook(forged, secret="guess"))
    assert r.status_code == 401
    assert len(await rows(db, "select 1 from webhook_inbox")) == 2


async def test_signalwire_ai_report_closes_the_routed_call_with_its_priced_minutes(edge: Edge, db: Database, seeded: Seeded) -> None:
    """Route a call to SignalWire AI, then post the agent's end-of-call report to the
    post_prompt_url the hand-off gave SignalWire (unsigned; its credentials are in the URL)."""
    import json
    import uuid

    from tests.support.openapi import openapi_document
    from tests.support.prism import CONTRACTS

    from .conftest import seed_org
    from .test_router import ROUTER, swml_request

    s = await seed_org(db, active="signalwire")
    call_id = str(uuid.uuid4())
    answer = (await edge.client.post(ROUTER, content=(req := swml_request(s.number, call_id))[0], headers=req[1])).json()
    ai = next(step["ai"] for step in answer["sections"]["main"] if "ai" in step)
    url = ai["post_prompt_url"]
    assert "@" in url and "/functions/v1/provider-webhook-router/signalwire" in url
    start_us = 1_795_000_000_000_000
    report = {
        "content_type": "text/json", "content_disposition": "agent.summary", "conversation_type": "voice",
        "call_id": call_id, "app_name": "ai", "ai_session_id": str(uuid.uuid4()), "action": "post_conversation",
        "call_log": [{"role": "assistant", "content": "Hello, how can I help?"}, {"role": "user", "content": "A cleaning, please."}],
        "call_start_date": start_us, "call_answer_date": start_us, "call_end_date": start_us + 100_000_000,
        "caller_id_number": "+14155550123", "call_ended_by": "user", "global_data": ai.get("global_data", {}),
        "post_prompt_data": {"raw": "Booked a cleaning.", "parsed": [{"summary": "Booked a cleaning.", "sentiment": "positive", "successful": True}]},
        "total_minutes": 2,
    }
    openapi_document(CONTRACTS / "signalwire-rest-openapi.yaml").validate_component(
        "Webhooks.AI.AiPostPromptCallbackPayload", report, strict=False)
    r = await edge.client.post(url, content=json.dumps(report).encode(), headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    await edge.settle()
    [call] = [c for c in await rows(db, "select * from call_records") if c["organization_id"] == s.organization_id]
    assert call["telephony_call_id"] == call_id and call["status"] == "ended" and call["duration_seconds"] == 100
    assert call["successful"] is True and "cleaning" in call["transcript"]
    [usage] = await rows(db, f"select * from provider_usage where call_id = '{call['id']}'")
    assert usage["cost_source"] == "computed" and usage["cost_amount"] == Decimal("0.326000")  # 2 min × (0.16 + 0.003)
    # Without the URL's credentials the same report is refused.
    bare = url.split("@", 1)[1]
    r = await edge.client.post("http://" + bare, content=json.dumps(report).encode(), headers={"content-type": "application/json"})
    assert r.status_code == 401


async def test_livekit_room_events(edge: Edge, db: Database, seeded: Seeded) -> None:
    """LiveKit's room_started and room_finished, signed as LiveKit signs webhooks (an HS256 JWT
    whose sha256 claim covers the body). They carry no cost: until the worker's report prices
    the call, its duration at the price book's per-minute prices stands as an estimate."""
    import json

    from switchboard.providers.livekit.webhooks import sign

    from .conftest import TEST_KEYS

    key, secret = TEST_KEYS["LIVEKIT_API_KEY"], TEST_KEYS["LIVEKIT_API_SECRET"]
    room = {"sid": "RM_1", "name": "call-room-1", "creationTime": "1795255200",
            "metadata": json.dumps({"organization_id": str(seeded.organization_id)})}
    started = {"event": "room_started", "id": "EV_room_started_1", "createdAt": "1795255200", "room": room}
    finished = {"event": "room_finished", "id": "EV_room_finished_1", "createdAt": "1795255400", "room": room}
    for payload in (finished, started):  # out of order on purpose
        body = json.dumps(payload).encode()
        r = await post(edge, "livekit", body, {"content-type": "application/webhook+json", "authorization": sign(body, key, secret)})
        assert r.status_code == 200, r.text
    await edge.settle()
    [call] = await rows(db, "select * from call_records")
    assert call["organization_id"] == seeded.organization_id
    assert call["provider_call_id"] == "call-room-1" and call["status"] == "ended" and call["duration_seconds"] == 200
    [usage] = await rows(db, "select * from provider_usage")
    # 200 s at $0.01 (agent session) + $0.003 (SIP) a minute, from the price book.
    assert usage["cost_source"] == "estimated" and usage["cost_amount"] == Decimal("0.043333")
    assert usage["usage_date"].isoformat() == "2026-11-21"
    body = json.dumps(finished).encode()
    r = await post(edge, "livekit", body, {"authorization": sign(body, key, "another-secret-of-32-characters!!")})
    assert r.status_code == 401
    inbox = await rows(db, "select headers from webhook_inbox")
    assert all("authorization" not in h["headers"] for h in inbox)  # the JWT is a credential: not stored
