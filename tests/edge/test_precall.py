"""webhook-inbound-call: Retell's call_inbound and Vapi's assistant-request, answered with the
number's agent compiled from the canonical spec, signed like every other webhook of theirs."""

from __future__ import annotations

import json
import time

from retell.lib.webhook_auth import symmetric as retell_symmetric

from switchboard.db import Database

from .conftest import TEST_KEYS, Edge, seed_org
from .payloads import VAPI_SECRET

PRECALL = "/functions/v1/webhook-inbound-call"


def retell_inbound(to: str, key: str = TEST_KEYS["RETELL_API_KEY"]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"event": "call_inbound", "event_timestamp": int(time.time() * 1000),
                       "call_inbound": {"agent_id": "agent_on_number", "from_number": "+14155550100", "to_number": to}}).encode()
    return body, {"content-type": "application/json",
                  "x-retell-signature": retell_symmetric["sign"](body.decode(), key, int(time.time() * 1000))}


def vapi_assistant_request(to: str, call_id: str = "vapi-pre-1") -> bytes:
    return json.dumps({"message": {
        "type": "assistant-request", "timestamp": int(time.time() * 1000),
        "call": {"id": call_id, "orgId": "org-1", "type": "inboundPhoneCall", "createdAt": "2026-11-22T03:00:00Z",
                 "updatedAt": "2026-11-22T03:00:00Z"},
        "phoneNumber": {"provider": "byo-phone-number", "number": to, "credentialId": "cred-edge-1"},
        "customer": {"number": "+14155550100"},
    }}).encode()


async def test_retell_gets_the_synced_agent_and_our_ids(edge: Edge, db: Database) -> None:
    s = await seed_org(db, active="retell", agent_ids={"retell": "agent_synced_1"})
    r = await edge.client.post(f"{PRECALL}/retell/{s.organization_id}", content=(req := retell_inbound(s.number))[0], headers=req[1])
    assert r.status_code == 200, r.text
    answer = r.json()["call_inbound"]
    assert answer["override_agent_id"] == "agent_synced_1"
    assert answer["metadata"] == {"organization_id": str(s.organization_id), "agent_config_id": str(s.agent_config_id)}
    override = answer["agent_override"]
    assert "front desk of a dental practice" in override["retell_llm"]["general_prompt"]
    assert override["retell_llm"]["begin_message"] == "Hello, how can I help?"


async def test_vapi_gets_the_assistant_compiled_from_the_spec(edge: Edge, db: Database) -> None:
    from switchboard.secrets import put_secret
    from tests.support.openapi import openapi_document
    from tests.support.prism import CONTRACTS

    s = await seed_org(db, active="vapi")
    async with db.as_service() as conn:
        await put_secret(conn, s.organization_id, "vapi", {"api_key": "k", "webhook_secret": VAPI_SECRET})
    body = vapi_assistant_request(s.number)
    t0 = time.perf_counter()
    r = await edge.client.post(f"{PRECALL}/vapi/{s.organization_id}", content=body,
                               headers={"content-type": "application/json", "x-vapi-secret": VAPI_SECRET})
    assert time.perf_counter() - t0 < 7.5 and r.status_code == 200, r.text
    assistant = r.json()["assistant"]
    assert assistant["model"]["messages"][0]["content"].startswith("You are the front desk")
    assert assistant["firstMessage"] == "Hello, how can I help?"
    assert assistant["metadata"]["organization_id"] == str(s.organization_id)
    assert assistant["server"]["url"] == f"http://127.0.0.1:54321/functions/v1/provider-webhook-router/vapi/{s.organization_id}"
    doc = openapi_document(CONTRACTS / "vapi-openapi.json")
    doc.validate_component("ServerMessageResponseAssistantRequest", r.json(), strict=False)


async def test_unknown_numbers_bad_signatures_and_other_tenants(edge: Edge, db: Database) -> None:
    s = await seed_org(db, active="retell")
    other = await seed_org(db, active="retell")
    r = await edge.client.post(f"{PRECALL}/retell", content=(req := retell_inbound("+15550000000"))[0], headers=req[1])
    assert r.status_code == 200 and r.json() == {"call_inbound": {}}  # Retell hangs up on an empty answer
    r = await edge.client.post(f"{PRECALL}/retell/{s.organization_id}", content=(req := retell_inbound(s.number, "bad"))[0], headers=req[1])
    assert r.status_code == 401
    # Signed for `other`, asking about `s`'s number: not answered with s's agent.
    r = await edge.client.post(f"{PRECALL}/retell/{other.organization_id}", content=(req := retell_inbound(s.number))[0], headers=req[1])
    assert r.json() == {"call_inbound": {}}
    r = await edge.client.post(f"{PRECALL}/vapi", content=vapi_assistant_request(s.number),
                               headers={"content-type": "application/json"})
    assert r.status_code == 401
    r = await edge.client.post(f"{PRECALL}/retell", content=(req := retell_inbound(s.number))[0][:-5], headers=req[1])
    assert r.status_code == 401  # the signature covers the body
