"""The call-routing entry points under attack (issue #11, point 8, and the OpenAPI half of 9):
every tenant — and anyone who finds the URL — is a possible attacker.

* voice-ai-router checks the signature before it says anything about a number: an unsigned or
  forged request gets the same 401 for every number, known or not;
* malformed input (NUL, bad form encoding, non-JSON, oversize fields) is a 400 in words;
* a secret that does not decrypt is "no key" for that organisation, never a 500;
* the demo seed's numbers route right after `switchboard seed --demo`;
* an agent a platform's compiler refuses (Retell with a non-Retell voice) is a clear answer;
* the management API's document says what it does: If-Match required, X-Organization-Id a uuid.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from urllib.parse import quote

import pytest
from psycopg.types.json import Jsonb

from switchboard.db import Database
from tests.edge.conftest import PUBLIC_BASE, running_edge, seed_org, use_settings
from tests.edge.test_precall import PRECALL, retell_inbound
from tests.edge.test_router import KEY, ROUTER, laml_request, records, swml_request


@pytest.fixture
async def edge(db_url: str, monkeypatch: pytest.MonkeyPatch):
    from switchboard.settings import reset_settings_cache

    use_settings(monkeypatch)
    async with running_edge(db_url) as e:
        yield e
    reset_settings_cache()


def signed_json(payload: object, *, key: str = KEY) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    url = (PUBLIC_BASE + ROUTER).encode()
    return body, {"content-type": "application/json",
                  "x-signalwire-signature": hmac.new(key.encode(), url + body, hashlib.sha1).hexdigest()}


def signed_form(raw: str, *, key: str = KEY) -> tuple[bytes, dict[str, str]]:
    """A form body signed over the URL alone (a bad body must be refused before any signature
    matters: the 400 is about the input, not the key)."""
    import base64

    sig = base64.b64encode(hmac.new(key.encode(), (PUBLIC_BASE + ROUTER).encode(), hashlib.sha1).digest()).decode()
    return raw.encode("latin-1"), {"content-type": "application/x-www-form-urlencoded", "x-signalwire-signature": sig}


async def test_forged_request_gets_same_401_for_every_number(edge, db: Database) -> None:
    known = await seed_org(db, active="signalwire")
    unknown = "+15559990000"
    answers = []
    for number in (known.number, unknown):
        for make in (swml_request, laml_request):
            body, headers = make(number, key="not-the-signing-key")  # forged
            answers.append(await edge.client.post(ROUTER, content=body, headers=headers))
            body, headers = make(number)
            del headers["x-signalwire-signature"]
            headers.pop("x-signalwire-sha256-signature", None)
            answers.append(await edge.client.post(ROUTER, content=body, headers=headers))  # unsigned
    assert [r.status_code for r in answers] == [401] * len(answers), [(r.status_code, r.text[:80]) for r in answers]
    assert len({r.content for r in answers}) == 1  # the same words whatever the number
    assert await records(db) == []
    # Properly signed, both still answer as before: the known number routes, the unknown apologises.
    r = await edge.client.post(ROUTER, content=(req := swml_request(known.number))[0], headers=req[1])
    assert r.status_code == 200 and '"ai"' in r.text
    r = await edge.client.post(ROUTER, content=(req := swml_request(unknown))[0], headers=req[1])
    assert r.status_code == 200 and r.json()["sections"]["main"][-1] == {"hangup": {}}


async def test_nul_bytes_get_400_not_500(edge, db: Database) -> None:
    s = await seed_org(db, active="signalwire")
    call = {"call_id": str(uuid.uuid4()), "from": "+14155550123", "to": s.number}
    cases = {
        "NUL in the number": signed_json({"call": {**call, "to": s.number + "\x00"}}),
        "NUL in the call id": signed_json({"call": {**call, "call_id": "abc\x00def"}}),
        "NUL in from": signed_json({"call": {**call, "from": "\x00"}}),
        "oversize call id": signed_json({"call": {**call, "call_id": "x" * 5000}}),
        "oversize number": signed_json({"call": {**call, "to": "+1" * 3000}}),
        "not JSON": signed_json(b"\xff\xfe{not json"),
        "JSON not an object": signed_json([1, 2, 3]),
        "form with NUL": signed_form(f"CallSid=CA1&From=%2B1415&To={quote(s.number)}%00"),
        "form not UTF-8": signed_form(f"CallSid=CA%FF%FE&To={quote(s.number)}"),
        "form badly encoded": signed_form("CallSid&&To"),
    }
    for name, (body, headers) in cases.items():
        r = await edge.client.post(ROUTER, content=body, headers=headers)
        assert r.status_code == 400, (name, r.status_code, r.text[:200])
        assert r.json()["error"], name  # in words
    r = await edge.client.post(ROUTER, content=b"<xml/>", headers={"content-type": "text/xml", "x-signalwire-signature": "x"})
    assert r.status_code == 400 and "content type" in r.json()["error"]
    assert await records(db) == []
    # The pre-call webhook too (signed: the NUL is the only thing wrong).
    for to in (s.number + "\x00", "9" * 5000):
        r = await edge.client.post(f"{PRECALL}/retell/{s.organization_id}", content=(req := retell_inbound(to))[0],
                                   headers=req[1])
        assert r.status_code == 400 and "to_number" in r.json()["error"], r.text[:200]


async def test_undecryptable_secret_is_not_500(edge, db: Database, caplog) -> None:
    from switchboard import secrets as sec

    s = await seed_org(db, active="signalwire")
    other_ring = sec.KeyRing.parse(sec.generate_key_entry("retired"))  # a key this server does not have
    async with db.as_service() as conn:
        await sec.put_secret(conn, s.organization_id, "signalwire", {"signing_key": "PSKlost"}, ring=other_ring)
    caplog.set_level(logging.WARNING)
    # Treated as no key: the server's default signing key applies, and the call routes.
    r = await edge.client.post(ROUTER, content=(req := swml_request(s.number))[0], headers=req[1])
    assert r.status_code == 200 and '"ai"' in r.text, r.text
    r = await edge.client.post(ROUTER, content=(req := swml_request(s.number, key="PSKlost"))[0], headers=req[1])
    assert r.status_code == 401
    assert any("cannot be read" in rec.getMessage() for rec in caplog.records)
    # The same for a damaged ciphertext, through the pre-call webhook's path.
    async with db.as_service() as conn:
        await sec.put_secret(conn, s.organization_id, "retell", {"api_key": "key-lost"})
        await conn.execute("update organization_secrets set ciphertext = 'broken'::bytea "
                           "where organization_id = %s and vendor = 'retell'", (s.organization_id,))
    r = await edge.client.post(f"{PRECALL}/retell/{s.organization_id}", content=(req := retell_inbound(s.number))[0],
                               headers=req[1])
    assert r.status_code == 200, r.text  # signed with the server's default Retell key: answered


async def test_demo_seed_numbers_route_after_seed(edge, db: Database) -> None:
    from switchboard.demo import DEMO_NUMBER, OTHER_NUMBER, seed_demo

    await seed_demo(db, 20, other_calls=5, seed=1)  # what `switchboard seed --demo` runs, with few calls
    for number in (DEMO_NUMBER, OTHER_NUMBER):
        r = await edge.client.post(ROUTER, content=(req := swml_request(number))[0], headers=req[1])
        assert r.status_code == 200, (number, r.text[:300])
        doc = r.json()
        assert doc["version"] == "1.0.0" and doc["sections"]["main"]
        assert "not in service" not in r.text


async def test_retell_precall_with_foreign_voice_is_clear_answer(edge, db: Database) -> None:
    s = await seed_org(db, active="retell")
    async with db.as_service() as conn:
        await conn.execute("update agent_configs set voice = %s where id = %s",
                           (Jsonb({"vendor": "cartesia", "voice_id": "f786b574-daa5-4673-aa0c-cbe3e8534c02"}), s.agent_config_id))
    r = await edge.client.post(f"{PRECALL}/retell/{s.organization_id}", content=(req := retell_inbound(s.number))[0],
                               headers=req[1])
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert "not a Retell voice" in r.json()["error"]


async def test_an_invalid_stored_spec_is_a_clear_answer(edge, db: Database, caplog) -> None:
    """An invalid tool is dropped (the call still routes); an invalid voice makes the spec
    invalid: the router apologises and hangs up, the pre-call webhook says so — never a 500."""
    s = await seed_org(db, active="signalwire")
    async with db.as_service() as conn:
        await conn.execute("update agent_configs set tools = %s where id = %s",
                           (Jsonb([{"type": "function", "name": "x"}, {"type": "end_call"}]), s.agent_config_id))
    r = await edge.client.post(ROUTER, content=(req := swml_request(s.number))[0], headers=req[1])
    assert r.status_code == 200 and '"ai"' in r.text
    assert any("tool #0 skipped" in rec.getMessage() for rec in caplog.records)
    async with db.as_service() as conn:
        await conn.execute("update agent_configs set voice = %s where id = %s",
                           (Jsonb({"vendor": 5, "speed": "fast"}), s.agent_config_id))
    edge.runtime.router._numbers.invalidate(s.number)
    r = await edge.client.post(ROUTER, content=(req := swml_request(s.number, "invalid-spec-call"))[0], headers=req[1])
    assert r.status_code == 200
    main = r.json()["sections"]["main"]
    assert main[0]["play"]["url"].startswith("say:") and main[-1] == {"hangup": {}}
    [row] = [x for x in await records(db) if x["telephony_call_id"] == "invalid-spec-call"]
    assert row["status"] == "not_connected" and row["disconnection_reason"] == "agent_spec_invalid"
    r = await edge.client.post(f"{PRECALL}/retell/{s.organization_id}", content=(req := retell_inbound(s.number))[0],
                               headers=req[1])
    assert r.status_code == 422 and "agent spec invalid" in r.json()["error"]


def test_openapi_if_match_required_and_org_header_non_null() -> None:
    from edge_functions.api.testapp import create_app

    doc = create_app(url="postgresql://unused@127.0.0.1:1/unused").openapi()
    seen_if_match = seen_org = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            statuses = set(op.get("responses", {}))
            names = {p["name"].lower() for p in op.get("parameters", [])}
            for p in op.get("parameters", []):
                if p["in"] in ("header", "query"):
                    # An HTTP parameter is absent or a string: never "null".
                    assert "null" not in json.dumps(p["schema"]), (method, path, p["name"], p["schema"])
                # 428 without If-Match: required (unless If-None-Match: * may stand in for it, as
                # on a create-or-replace PUT, which OpenAPI cannot say).
                if p["name"].lower() == "if-match" and "428" in statuses and "if-none-match" not in names:
                    assert p.get("required") is True, (method, path)
                    seen_if_match += 1
                if p["name"].lower() == "x-organization-id":
                    assert p["schema"].get("type") == "string" and p["schema"].get("format") == "uuid", p["schema"]
                    seen_org += 1
    assert seen_if_match >= 2 and seen_org >= 10
