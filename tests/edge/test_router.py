"""voice-ai-router end to end: SignalWire's signed call requests (SWML JSON and Compatibility
form posts) through the real app and Postgres, the Retell hand-off against a Prism mock of
Retell's published API, failover when the primary answers 500 or hangs, the A/B split, open
circuits, unknown numbers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections import Counter
from urllib.parse import urlencode

import pytest

from edge_functions import metrics
from switchboard.db import Database
from switchboard.routing import choose_arm, plan_route

from .conftest import PUBLIC_BASE, TEST_KEYS, FailingPlatform, running_edge, seed_org, use_settings

ROUTER = "/functions/v1/voice-ai-router"
KEY = TEST_KEYS["SIGNALWIRE_SIGNING_KEY"]


def swml_request(to: str, call_id: str | None = None, *, key: str = KEY) -> tuple[bytes, dict[str, str]]:
    """A SWML call request (Webhooks.Calling.InboundCallWebhookPayload) signed as SignalWire
    signs JSON: hex HMAC-SHA1 and HMAC-SHA256 of URL + body with the signing key."""
    call_id = call_id or str(uuid.uuid4())
    body = json.dumps({
        "call": {"call_id": call_id, "node_id": str(uuid.uuid4()), "segment_id": call_id, "call_state": "created",
                 "direction": "inbound", "type": "phone", "from": "+14155550123", "to": to,
                 "from_number": "+14155550123", "to_number": to, "headers": [],
                 "project_id": TEST_KEYS["SIGNALWIRE_PROJECT_ID"], "space_id": str(uuid.uuid4())},
        "vars": {}, "envs": {}, "params": {},
    }).encode()
    url = PUBLIC_BASE + ROUTER
    return body, {
        "content-type": "application/json",
        "x-signalwire-signature": hmac.new(key.encode(), url.encode() + body, hashlib.sha1).hexdigest(),
        "x-signalwire-sha256-signature": hmac.new(key.encode(), url.encode() + body, hashlib.sha256).hexdigest(),
    }


def laml_request(to: str, call_sid: str | None = None, *, key: str = KEY) -> tuple[bytes, dict[str, str]]:
    """A Compatibility (LaML) voice request, signed with the Twilio scheme SignalWire uses:
    base64 HMAC-SHA1 of URL + the sorted form pairs."""
    form = {"CallSid": call_sid or f"CA{uuid.uuid4().hex}", "AccountSid": TEST_KEYS["SIGNALWIRE_PROJECT_ID"],
            "From": "+14155550123", "To": to, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
    url = PUBLIC_BASE + ROUTER
    signed = url + "".join(k + v for k, v in sorted(form.items()))
    signature = base64.b64encode(hmac.new(key.encode(), signed.encode(), hashlib.sha1).digest()).decode()
    return urlencode(form).encode(), {"content-type": "application/x-www-form-urlencoded", "x-signalwire-signature": signature}


async def records(db: Database) -> list[dict]:
    async with db.as_service() as conn:
        return await (await conn.execute(
            "select cr.*, p.code from call_records cr left join voice_ai_providers p on p.id = cr.provider_id order by created_at"
        )).fetchall()


async def vapi_credentials(db: Database, org) -> None:
    from switchboard.secrets import put_secret

    async with db.as_service() as conn:
        await put_secret(conn, org, "vapi", {"api_key": "vapi-org-key", "sip_credential_id": "cred-edge-1"})


@pytest.fixture
async def platforms_edge(db_url: str, retell_prism, monkeypatch: pytest.MonkeyPatch):
    use_settings(monkeypatch, RETELL_BASE_URL=retell_prism.url)
    async with running_edge(db_url) as e:
        yield e


def test_the_call_request_payload_is_signalwires() -> None:
    from tests.support.openapi import openapi_document
    from tests.support.prism import CONTRACTS

    body, _ = swml_request("+15550001234")
    doc = openapi_document(CONTRACTS / "signalwire-rest-openapi.yaml")
    doc.validate_component("Webhooks.Calling.InboundCallWebhookPayload", json.loads(body))


async def test_a_call_lands_on_each_of_the_four_platforms(platforms_edge, db: Database) -> None:
    seeded = {code: await seed_org(db, active=code) for code in ("retell", "vapi", "signalwire", "livekit")}
    await vapi_credentials(db, seeded["vapi"].organization_id)
    answers = {}
    for code, s in seeded.items():
        r = await platforms_edge.client.post(ROUTER, content=(req := swml_request(s.number))[0], headers=req[1])
        assert r.status_code == 200, (code, r.text)
        answers[code] = r.json()
    assert "sip.retellai.com" in json.dumps(answers["retell"])
    assert f"{seeded['vapi'].number}@cred-edge-1.sip.vapi.ai" in json.dumps(answers["vapi"])
    assert f"{seeded['livekit'].number}@{TEST_KEYS['LIVEKIT_SIP_HOST']}" in json.dumps(answers["livekit"])
    main = answers["signalwire"]["sections"]["main"]
    ai = next(step["ai"] for step in main if "ai" in step)
    assert "front desk of a dental practice" in json.dumps(ai["prompt"])
    rows = {r["code"]: r for r in await records(db)}
    assert set(rows) == {"retell", "vapi", "signalwire", "livekit"}
    for code, row in rows.items():
        assert row["organization_id"] == seeded[code].organization_id and row["status"] == "registered"
        assert row["telephony_call_id"] and row["experiment_arm"] is None
    assert rows["retell"]["provider_call_id"]  # Retell's register-phone-call issued it
    assert rows["retell"]["provider_call_id"] in json.dumps(answers["retell"])


async def test_a_compatibility_request_gets_laml(platforms_edge, db: Database) -> None:
    s = await seed_org(db, active="retell")
    body, headers = laml_request(s.number, "CAlaml0001")
    r = await platforms_edge.client.post(ROUTER, content=body, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    assert "<Dial>" in r.text and "sip.retellai.com" in r.text
    [row] = await records(db)
    assert row["telephony_call_id"] == "CAlaml0001" and row["code"] == "retell"


@pytest.mark.parametrize("mode", ["500", "hang"])
async def test_the_primary_failing_fails_over_within_the_budget(db_url: str, db: Database, mode: str, monkeypatch) -> None:
    async with FailingPlatform(mode) as down:
        use_settings(monkeypatch, RETELL_BASE_URL=down.url)
        async with running_edge(db_url) as edge:
            s = await seed_org(db, active="retell", fallback=["vapi", "signalwire"])
            await vapi_credentials(db, s.organization_id)
            before = metrics.HANDOFF_FAILURES.labels("retell")._value.get()
            t0 = time.perf_counter()
            r = await edge.client.post(ROUTER, content=(req := swml_request(s.number))[0], headers=req[1])
            elapsed = time.perf_counter() - t0
            assert r.status_code == 200 and "sip.vapi.ai" in r.text
            assert elapsed < 2.0 + 0.3, elapsed  # the 2 s budget (and a little for the test client)
            assert down.requests >= 1  # Retell really was asked
            [row] = await records(db)
            assert row["code"] == "vapi" and row["status"] == "registered"
            attempts = row["metadata"]["routing"]["attempts"]
            assert [(a["provider"], a["ok"]) for a in attempts] == [("retell", False), ("vapi", True)]
            assert metrics.HANDOFF_FAILURES.labels("retell")._value.get() == before + 1
            await edge.runtime.breaker.flush()
            async with db.as_service() as conn:
                health = {(h["provider_code"], h["kind"]): (h["successes"], h["failures"]) for h in
                          await (await conn.execute("select * from provider_health_minutely")).fetchall()}
                circuit = await (await conn.execute("select * from provider_circuits where provider_code = 'retell'")).fetchone()
            assert health[("retell", "handoff")] == (0, 1) and health[("vapi", "handoff")] == (1, 0)
            assert circuit["consecutive_failures"] == 1


async def test_an_open_circuit_is_skipped(platforms_edge, db: Database) -> None:
    s = await seed_org(db, active="retell", fallback=["signalwire"])
    async with db.as_service() as conn:
        await conn.execute("insert into provider_circuits (provider_code, state, consecutive_failures, opened_at, retry_at) "
                           "values ('retell', 'open', 5, now(), now() + interval '5 minutes')")
    platforms_edge.runtime.breaker.invalidate()
    r = await platforms_edge.client.post(ROUTER, content=(req := swml_request(s.number))[0], headers=req[1])
    assert r.status_code == 200
    [row] = await records(db)
    assert row["code"] == "signalwire"
    assert [a["provider"] for a in row["metadata"]["routing"]["attempts"]] == ["signalwire"]


async def test_a_50_50_split(platforms_edge, db: Database) -> None:
    s = await seed_org(db, active="signalwire", split={"signalwire": 50, "vapi": 50})
    await vapi_credentials(db, s.organization_id)
    # 10,000 simulated calls through the agent's routing as the router loads it from the database.
    number = await platforms_edge.runtime.router.resolve(s.number)
    arms = Counter(plan_route(f"sim-{uuid.uuid4()}", number.routing, available=set(number.refs)).arm for _ in range(10_000))
    assert abs(arms["signalwire"] / 10_000 - 0.5) <= 0.03 and arms["signalwire"] + arms["vapi"] == 10_000
    # And real calls: each lands on its call's arm, recorded as the experiment arm.
    call_ids = [str(uuid.uuid4()) for _ in range(120)]
    for cid in call_ids:
        r = await platforms_edge.client.post(ROUTER, content=(req := swml_request(s.number, cid))[0], headers=req[1])
        assert r.status_code == 200
    rows = await records(db)
    assert len(rows) == 120
    for row in rows:
        expected = choose_arm(row["telephony_call_id"], {"signalwire": 50, "vapi": 50})
        assert row["experiment_arm"] == expected and row["code"] == expected
    assert {r["code"] for r in rows} == {"signalwire", "vapi"}


async def test_a_redelivered_call_request_keeps_one_record(platforms_edge, db: Database) -> None:
    s = await seed_org(db, active="signalwire")
    req = swml_request(s.number, "same-call-id")
    for _ in range(2):
        assert (await platforms_edge.client.post(ROUTER, content=req[0], headers=req[1])).status_code == 200
    assert len(await records(db)) == 1


async def test_an_unknown_number_gets_an_apology_and_a_hang_up(platforms_edge, db: Database, caplog) -> None:
    r = await platforms_edge.client.post(ROUTER, content=(req := swml_request("+15559999999"))[0], headers=req[1])
    main = r.json()["sections"]["main"]
    assert r.status_code == 200 and main[0]["play"]["url"].startswith("say:") and main[-1] == {"hangup": {}}
    r = await platforms_edge.client.post(ROUTER, content=(req := laml_request("+15559999999"))[0], headers=req[1])
    assert "<Say>" in r.text and "<Hangup/>" in r.text
    assert await records(db) == []
    assert any("no agent" in rec.getMessage() for rec in caplog.records)


async def test_bad_signatures_and_bad_requests_are_refused(platforms_edge, db: Database) -> None:
    s = await seed_org(db, active="signalwire")
    body, headers = swml_request(s.number, key="wrong-key")
    assert (await platforms_edge.client.post(ROUTER, content=body, headers=headers)).status_code == 401
    body, headers = laml_request(s.number, key="wrong-key")
    assert (await platforms_edge.client.post(ROUTER, content=body, headers=headers)).status_code == 401
    body, headers = swml_request(s.number)
    del headers["x-signalwire-signature"], headers["x-signalwire-sha256-signature"]
    assert (await platforms_edge.client.post(ROUTER, content=body, headers=headers)).status_code == 401
    r = await platforms_edge.client.post(ROUTER, content=b'{"call": {}}', headers={"content-type": "application/json"})
    assert r.status_code == 400 and "call_id" in r.json()["error"]
    assert await records(db) == []


async def test_an_organisations_own_signing_key(platforms_edge, db: Database) -> None:
    from switchboard.secrets import put_secret

    s = await seed_org(db, active="signalwire")
    async with db.as_service() as conn:
        await put_secret(conn, s.organization_id, "signalwire", {"signing_key": "PSKorg_own"})
    req = swml_request(s.number)
    assert (await platforms_edge.client.post(ROUTER, content=req[0], headers=req[1])).status_code == 401
    req = swml_request(s.number, key="PSKorg_own")
    assert (await platforms_edge.client.post(ROUTER, content=req[0], headers=req[1])).status_code == 200


async def test_repeated_failures_open_the_circuit_and_no_platform_means_an_apology(db_url: str, db: Database, monkeypatch) -> None:
    async with FailingPlatform("500") as down:
        use_settings(monkeypatch, RETELL_BASE_URL=down.url)
        async with running_edge(db_url) as edge:
            s = await seed_org(db, active="retell", fallback=["signalwire"])
            t = await seed_org(db, active="retell", fallback=["signalwire"])
            alone = await seed_org(db, active="retell")  # no fallback at all
            for i in range(5):  # the breaker's threshold, seen from two organisations (one alone cannot open it)
                r = await edge.client.post(ROUTER, content=(req := swml_request((s, t)[i % 2].number))[0], headers=req[1])
                assert r.status_code == 200 and '"ai"' in r.text  # SignalWire AI took each call
            asked = down.requests
            edge.runtime.breaker.invalidate()
            r = await edge.client.post(ROUTER, content=(req := swml_request(s.number))[0], headers=req[1])
            assert '"ai"' in r.text and down.requests == asked  # Retell's circuit is open: not even asked
            async with db.as_service() as conn:
                circuit = await (await conn.execute("select * from provider_circuits where provider_code = 'retell'")).fetchone()
            assert circuit["state"] == "open" and circuit["consecutive_failures"] == 5
            # An agent with nowhere else to go still tries its open platform (last resort), then apologises.
            r = await edge.client.post(ROUTER, content=(req := swml_request(alone.number, "lonely-call"))[0], headers=req[1])
            main = r.json()["sections"]["main"]
            assert main[0]["play"]["url"].startswith("say:") and main[-1] == {"hangup": {}}
            assert down.requests == asked + 1
            [row] = [x for x in await records(db) if x["telephony_call_id"] == "lonely-call"]
            assert row["status"] == "not_connected" and row["disconnection_reason"] == "no_platform_available"
