"""Outbound calls through the API: `POST /api/calls` on each platform against the platforms'
contracts (Prism mocks of their documents behind a recording proxy, every body checked against
the FULL documents; LiveKit against the local Twirp endpoint), the fallback when the first
platform fails (500 / no answer), the refusals that store nothing, and `POST /api/calls/{id}/end`
on each platform. The webhooks complete the record written here, found by the platform's id."""

from __future__ import annotations


import pytest
from psycopg.types.json import Jsonb

from switchboard.ingest import record_call_event
from switchboard.spec import AgentSpec, CallEvent
from switchboard.providers.signalwire import compile as sw_compile
from tests.support.livekit_twirp import LiveKitTwirpServer
from tests.support.openapi import openapi_document
from tests.support.prism import CONTRACTS, PrismServer
from tests.support.recording_proxy import RecordingProxy

FROM = "+14155550199"
TO = "+14155550111"
B_NUMBER = "+442071234599"
RETELL_AGENT = "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD"
VAPI_ASSISTANT = "5b0a9c1e-2d3f-4a5b-8c7d-9e0f1a2b3c4d"
VAPI_NUMBER = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
SW_AGENT = "2c4e6a8b-1d3f-4a5b-9c7d-0e1f2a3b4c5d"
SW_PROJECT = "4d0d6f16-5881-4fcc-92a4-02c51a91954d"
LK_KEY, LK_SECRET = "APIoutboundtest", "outbound-livekit-secret-of-32-chars-or-more"
COMPAT = "/api/laml/2010-04-01"

DOCUMENTS = {"retell": "retell-openapi.yaml", "vapi": "vapi-mock-flat.json", "signalwire": "signalwire-rest-mock-flat.yaml",
             "signalwire_compat": "signalwire-compatibility-openapi.yaml"}
FULL = {"retell": "retell-openapi.yaml", "vapi": "vapi-openapi.json", "signalwire": "signalwire-rest-openapi.yaml",
        "signalwire_compat": "signalwire-compatibility-openapi.yaml"}


@pytest.fixture(scope="module")
def prisms():
    # The edge server loads the platform SDKs before serving (seconds of imports); so do we,
    # or the first call's budget would go on importing them.
    from switchboard.providers.registry import PLATFORMS, provider_class

    for code in PLATFORMS:
        provider_class(code)
    from vapi import AsyncVapi  # the Vapi adapter imports its SDK (and each sub-client) on first use

    AsyncVapi(token="warm-up").calls  # noqa: B018

    servers = {name: PrismServer(CONTRACTS / doc) for name, doc in DOCUMENTS.items()}
    try:
        for server in servers.values():
            server.start()
        yield {name: server.wait_ready() for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()


@pytest.fixture(scope="module")
def full_docs():
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            cache[name] = openapi_document(CONTRACTS / FULL[name])
        return cache[name]

    return get


class Platforms:
    def __init__(self, proxies: dict[str, RecordingProxy], twirp: LiveKitTwirpServer):
        self.proxies = proxies
        self.twirp = twirp

    def sent(self) -> int:
        return sum(len(p.requests) for p in self.proxies.values()) + len(self.twirp.calls)


@pytest.fixture
async def platforms(prisms, monkeypatch):
    from switchboard.settings import reset_settings_cache

    proxies = {
        "retell": RecordingProxy({"": prisms["retell"].url},
                                 # retell-sdk's stop-call (Retell's document lacks it) answers no content
                                 answers={("POST", "/v2/stop-call/"): (204, None)}),
        "vapi": RecordingProxy({"": prisms["vapi"].url}),
        "signalwire": RecordingProxy({COMPAT: prisms["signalwire_compat"].url, "": prisms["signalwire"].url}),
    }
    urls = {code: await proxy.start() for code, proxy in proxies.items()}
    twirp = LiveKitTwirpServer(LK_KEY, LK_SECRET)
    twirp_url = await twirp.start()
    env = {
        "RETELL_API_KEY": "key_outbound_retell", "RETELL_BASE_URL": urls["retell"],
        "VAPI_API_KEY": "vapi-outbound-private", "VAPI_BASE_URL": urls["vapi"],
        "SIGNALWIRE_PROJECT_ID": SW_PROJECT, "SIGNALWIRE_API_TOKEN": "PToutboundToken",
        "SIGNALWIRE_SPACE_URL": urls["signalwire"], "SIGNALWIRE_SIGNING_KEY": "PSKoutbound_signing_key",
        "LIVEKIT_URL": twirp_url, "LIVEKIT_API_KEY": LK_KEY, "LIVEKIT_API_SECRET": LK_SECRET,
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    reset_settings_cache()
    yield Platforms(proxies, twirp)
    for proxy in proxies.values():
        await proxy.stop()
    await twirp.stop()
    reset_settings_cache()


async def set_up_agent(db, world, *, active: str = "retell", fallback: list[str] | None = None,
                       split: dict[str, int] | None = None) -> None:
    """Org A's agent synced to all four platforms (the ids the sync would have stored), calling
    from FROM; org B owns B_NUMBER."""
    ai = sw_compile.compile_ai(AgentSpec(prompt="You answer the phone for a dental practice."), post_prompt_url=None)
    settings = {"retell": {}, "vapi": {"phone_number_ids": {FROM: VAPI_NUMBER}}, "signalwire": {"ai": ai},
                "livekit": {"outbound_trunk_id": "ST_outbound"}}
    ids = {"retell": RETELL_AGENT, "vapi": VAPI_ASSISTANT, "signalwire": SW_AGENT, "livekit": "SDR_1"}
    async with db.as_service() as conn:
        providers = {r["code"]: r["id"] for r in await (await conn.execute("select code, id from voice_ai_providers")).fetchall()}
        await conn.execute("update agent_configs set active_provider_id = %s, fallback_order = %s, traffic_split = %s where id = %s",
                           (providers[active], fallback or [], Jsonb(split or {}), world.agent_a))
        for code, pid in providers.items():
            await conn.execute(
                """insert into provider_configs (organization_id, agent_config_id, provider_id, agent_id, settings, sync_status)
                   values (%s, %s, %s, %s, %s, 'synced')""", (world.org_a, world.agent_a, pid, ids[code], Jsonb(settings[code])))
        await conn.execute("insert into phone_numbers (organization_id, agent_config_id, e164) values (%s, %s, %s), (%s, %s, %s)",
                           (world.org_a, world.agent_a, FROM, world.org_b, world.agent_b, B_NUMBER))


async def outbound_records(db, org) -> list[dict]:
    async with db.as_service() as conn:
        return await (await conn.execute(
            """select c.*, vp.code from call_records c left join voice_ai_providers vp on vp.id = c.provider_id
               where c.organization_id = %s and c.direction = 'outbound' order by c.created_at""", (org,))).fetchall()


def check_sent(platforms: Platforms, code: str, full_docs) -> None:
    if code == "signalwire":
        full_docs("signalwire").assert_valid_requests(platforms.proxies["signalwire"].recorded(""))
        compat = platforms.proxies["signalwire"].recorded(COMPAT)
        if compat:
            full_docs("signalwire_compat").assert_valid_requests(compat)
    elif code != "livekit":
        full_docs(code).assert_valid_requests(platforms.proxies[code].recorded())


@pytest.mark.parametrize("code", ["retell", "vapi", "signalwire", "livekit"])
async def test_a_call_is_placed_on_each_platform_and_ended(code, client, world, db, platforms, full_docs):
    await set_up_agent(db, world)
    r = await client.post("/api/calls", json={"agent_id": str(world.agent_a), "to": TO, "platform": code},
                          headers=world.member_a.headers())
    assert r.status_code == 201, r.text
    placed = r.json()
    assert placed["platform"] == code and placed["status"] == "registered" and placed["from_number"] == FROM
    assert [a["provider"] for a in placed["attempts"]] == [code] and placed["attempts"][0]["ok"]
    record_id, pcid = placed["id"], placed["provider_call_id"]
    assert pcid

    # What each platform was sent, in its own terms.
    if code == "retell":
        body = platforms.proxies["retell"].find("POST", "/v2/create-phone-call").json()
        assert body["from_number"] == FROM and body["to_number"] == TO and body["override_agent_id"] == RETELL_AGENT
        assert body["metadata"]["call_record_id"] == record_id
    elif code == "vapi":
        body = platforms.proxies["vapi"].find("POST", "/call").json()
        assert body["assistantId"] == VAPI_ASSISTANT and body["phoneNumberId"] == VAPI_NUMBER
        assert body["customer"] == {"number": TO}
        assert body["assistantOverrides"]["metadata"]["call_record_id"] == record_id
    elif code == "signalwire":
        body = platforms.proxies["signalwire"].find("POST", "/api/calling/calls").json()
        assert body["command"] == "dial" and body["params"]["from"] == FROM and body["params"]["to"] == TO
        ai = body["params"]["swml"]["sections"]["main"][-1]["ai"]
        assert ai["global_data"]["call_record_id"] == record_id and "call_record_id=" + record_id in ai["post_prompt_url"]
    else:
        dispatch = platforms.twirp.find("AgentDispatchService", "CreateDispatch")
        participant = platforms.twirp.find("SIP", "CreateSIPParticipant")
        assert dispatch.room == participant.room_name == pcid
        assert participant.sip_trunk_id == "ST_outbound" and participant.sip_number == FROM and participant.sip_call_to == TO
        assert participant.participant_attributes["switchboard.call_record_id"] == record_id
    check_sent(platforms, code, full_docs)

    [row] = await outbound_records(db, world.org_a)
    assert str(row["id"]) == record_id and row["code"] == code and row["provider_call_id"] == pcid
    assert row["status"] == "registered" and row["from_number"] == FROM and row["to_number"] == TO
    assert row["agent_config_id"] == world.agent_a and row["experiment_arm"] is None

    # The platform's webhook, naming only its own call id, completes the same row.
    async with db.as_service() as conn:
        merged = await record_call_event(conn, CallEvent(kind="started", provider=code, event_id=f"{pcid}:started",
                                                         event_type="call_started", provider_call_id=pcid, status="ongoing"))
    assert str(merged) == record_id
    [row] = await outbound_records(db, world.org_a)
    assert row["status"] == "ongoing" and row["direction"] == "outbound"

    # End it.
    for proxy in platforms.proxies.values():
        proxy.clear()
    if code == "vapi":
        # A live Vapi call's control URL (Prism's example call has none): the call, per the document, with one.
        proxy = platforms.proxies["vapi"]
        live = {"id": pcid, "orgId": VAPI_NUMBER, "type": "outboundPhoneCall", "createdAt": "2026-12-03T10:00:00Z",
                "updatedAt": "2026-12-03T10:00:00Z", "monitor": {"controlUrl": f"{proxy.url}/control/{pcid}"}}
        full_docs("vapi").validate_component("Call", live)
        proxy.answers[("GET", f"/call/{pcid}")] = (200, live)
        proxy.answers[("POST", f"/control/{pcid}")] = (200, {})
    r = await client.post(f"/api/calls/{record_id}/end", headers=world.member_a.headers())
    assert r.status_code == 200, r.text
    assert r.json() == {"id": record_id, "platform": code, "status": "ending"}
    if code == "retell":
        assert platforms.proxies["retell"].find("POST", f"/v2/stop-call/{pcid}").headers["authorization"] == "Bearer key_outbound_retell"
    elif code == "vapi":
        assert platforms.proxies["vapi"].find("POST", f"/control/{pcid}").json() == {"type": "end-call"}
    elif code == "signalwire":
        hangup = platforms.proxies["signalwire"].find("POST", f"/Accounts/{SW_PROJECT}/Calls/{pcid}", prefix=COMPAT)
        assert hangup.form() == {"Status": "completed"}
        full_docs("signalwire_compat").assert_valid_requests(platforms.proxies["signalwire"].recorded(COMPAT))
    else:
        assert platforms.twirp.find("RoomService", "DeleteRoom").room == pcid


@pytest.mark.parametrize("failure", [500, "hang"])
async def test_the_primary_failing_falls_back_to_the_next_platform(failure, client, world, db, platforms, full_docs):
    await set_up_agent(db, world, active="retell", fallback=["vapi"])
    platforms.proxies["retell"].failures[("POST", "/v2/create-phone-call")] = failure
    r = await client.post("/api/calls", json={"agent_id": str(world.agent_a), "to": TO}, headers=world.member_a.headers())
    assert r.status_code == 201, r.text
    placed = r.json()
    assert placed["platform"] == "vapi"
    first, second = placed["attempts"]
    assert first["provider"] == "retell" and not first["ok"] and second == {**second, "provider": "vapi", "ok": True}
    assert first["error"] and "internal error" not in first["error"]  # our words, never the platform's body
    if failure == "hang":
        assert 900 <= first["latency_ms"] <= 1500  # half of the 2 s budget: the next platform had its turn
    platforms.proxies["retell"].find("POST", "/v2/create-phone-call")
    full_docs("vapi").assert_valid_requests(platforms.proxies["vapi"].recorded())
    [row] = await outbound_records(db, world.org_a)
    assert row["code"] == "vapi" and row["provider_call_id"] == placed["provider_call_id"] and row["status"] == "registered"
    assert [a["provider"] for a in row["metadata"]["routing"]["attempts"]] == ["retell", "vapi"]


async def test_no_platform_taking_the_call_says_why_and_keeps_a_not_connected_record(client, world, db, platforms):
    await set_up_agent(db, world, active="retell", fallback=[])
    platforms.proxies["retell"].failures[("POST", "/v2/create-phone-call")] = 500
    r = await client.post("/api/calls", json={"agent_id": str(world.agent_a), "to": TO}, headers=world.member_a.headers())
    assert r.status_code == 502
    assert r.json()["code"] == "call_not_placed" and "retell:" in r.json()["message"]
    [row] = await outbound_records(db, world.org_a)
    assert row["status"] == "not_connected" and row["disconnection_reason"] == "no_platform_available"


async def test_a_split_agent_records_its_arm(client, world, db, platforms):
    await set_up_agent(db, world, active="retell", split={"retell": 50, "livekit": 50})
    r = await client.post("/api/calls", json={"agent_id": str(world.agent_a), "to": TO}, headers=world.member_a.headers())
    assert r.status_code == 201, r.text
    placed = r.json()
    assert placed["arm"] in ("retell", "livekit") and placed["platform"] == placed["arm"]
    [row] = await outbound_records(db, world.org_a)
    assert row["experiment_arm"] == placed["arm"] == row["code"]


@pytest.mark.parametrize("body, status, field, words", [
    ({"to": "4155550111"}, 422, "to", "international form"),
    ({"to": TO, "from": "not a number"}, 422, "from", "international form"),
    ({"to": TO, "from": B_NUMBER}, 403, None, "is not one of your organisation's numbers"),
    ({"to": TO, "from": "+14155550000"}, 403, None, "is not one of your organisation's numbers"),
    ({"to": TO, "platform": "twilio"}, 422, "platform", "one of retell"),
])
async def test_refused_calls_say_why_and_store_nothing(body, status, field, words, client, world, db, platforms):
    await set_up_agent(db, world)
    r = await client.post("/api/calls", json={"agent_id": str(world.agent_a), **body}, headers=world.member_a.headers())
    assert r.status_code == status, r.text
    out = r.json()
    assert words in out["message"]
    if field:
        assert out["fields"][0]["field"] == field
    assert await outbound_records(db, world.org_a) == [] and platforms.sent() == 0


async def test_a_do_not_call_number_is_refused_and_nothing_is_stored(client, world, db, platforms):
    await set_up_agent(db, world)
    r = await client.post("/api/do-not-call", json={"e164": TO, "reason": "asked not to be called"},
                          headers=world.member_a.headers())
    assert r.status_code == 201, r.text
    r = await client.post("/api/calls", json={"agent_id": str(world.agent_a), "to": TO}, headers=world.member_a.headers())
    assert r.status_code == 403
    assert r.json()["message"] == f"{TO} is on your organisation's do-not-call list"
    assert await outbound_records(db, world.org_a) == [] and platforms.sent() == 0
    # Another organisation's list does not stop org A's calls to other numbers, nor theirs to this one.
    await client.delete(f"/api/do-not-call/{TO}", headers=world.member_a.headers())
    r = await client.post("/api/calls", json={"agent_id": str(world.agent_a), "to": TO, "platform": "livekit"},
                          headers=world.member_a.headers())
    assert r.status_code == 201, r.text


async def test_another_organisations_agent_and_calls_are_not_found(client, world, db, platforms):
    await set_up_agent(db, world)
    r = await client.post("/api/calls", json={"agent_id": str(world.agent_b), "to": TO}, headers=world.member_a.headers())
    assert r.status_code == 404
    r = await client.post(f"/api/calls/{world.calls_b[0]}/end", headers=world.member_a.headers())
    assert r.status_code == 404
    assert await outbound_records(db, world.org_a) == [] and platforms.sent() == 0


async def test_ending_a_call_that_is_over_is_refused_in_words(client, world, db, platforms):
    await set_up_agent(db, world)
    r = await client.post(f"/api/calls/{world.calls_a[0]}/end", headers=world.member_a.headers())  # status ended
    assert r.status_code == 422 and "not live" in r.json()["message"]
    assert platforms.sent() == 0


async def test_placing_a_call_needs_the_write_scope(client, world, db, platforms):
    await set_up_agent(db, world)
    token = world.member_a.token_with(scopes=["read"])
    r = await client.post("/api/calls", json={"agent_id": str(world.agent_a), "to": TO},
                          headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert await outbound_records(db, world.org_a) == [] and platforms.sent() == 0
