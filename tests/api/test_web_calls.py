"""`POST /api/agents/{id}/web-calls`: credentials for one browser call, through the API, the core
and the platform's SDK — LiveKit against the local Twirp endpoint (token verified by livekit-api),
Retell against a Prism mock of its document — and refused in words when it cannot be done."""

from __future__ import annotations

import json

from livekit.api import TokenVerifier

from switchboard import secrets
from switchboard.providers.livekit.dispatch import DispatchMetadata
from tests.api.conftest import World
from tests.support.livekit_twirp import twirp_fixture
from tests.support.openapi import openapi_document
from tests.support.prism import CONTRACTS, prism_fixture

LK_KEY, LK_SECRET = "APIwebcall", "webcall-secret-of-at-least-32-characters"
RETELL_KEY = "key_webcall_retell_0001"
retell_prism = prism_fixture("retell-openapi.yaml")


twirp = twirp_fixture(LK_KEY, LK_SECRET)


async def _post(client, world: World, platform: str, user=None, agent=None):
    return await client.post(f"/api/agents/{agent or world.agent_a}/web-calls", json={"platform": platform},
                             headers=(user or world.member_a).headers())


async def test_livekit_web_call_through_the_api(client, world: World, db, twirp, leak_guard):
    async with db.as_service() as conn:
        await secrets.put_secret(conn, world.org_a, "livekit",
                                 {"url": twirp.url, "api_key": LK_KEY, "api_secret": leak_guard.secret(LK_SECRET)})
    r = await _post(client, world, "livekit")
    assert r.status_code == 201, r.text
    call = r.json()
    assert call["sdk"] == "livekit-client" and call["url"] == twirp.url.replace("http://", "ws://")
    claims = TokenVerifier(LK_KEY, LK_SECRET).verify(call["access_token"])
    assert claims.video.room_join and claims.video.room == call["call_id"]
    dispatch = twirp.find("AgentDispatchService", "CreateDispatch")
    assert dispatch.room == call["call_id"]
    meta = DispatchMetadata.parse(dispatch.metadata)
    assert (meta.organization_id, meta.agent_config_id) == (world.org_a, world.agent_a)
    assert json.loads(dispatch.metadata)["organization_id"] == str(world.org_a)
    # Another organisation's owner cannot call this agent, nor learn that it exists.
    other = await _post(client, world, "livekit", user=world.owner_b)
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    assert len(twirp.calls) == 1


async def test_retell_web_call_through_the_api(client, world: World, db, retell_prism, leak_guard):
    not_there = await _post(client, world, "retell")
    assert not_there.status_code == 409
    assert not_there.json() == {"code": "platform_not_ready", "fields": [], "message": not_there.json()["message"]}
    assert "not on Retell yet" in not_there.json()["message"]
    async with db.as_service() as conn:
        await conn.execute(
            """insert into provider_configs (organization_id, agent_config_id, provider_id, agent_id, sync_status)
               select %s, %s, id, 'oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD', 'synced' from voice_ai_providers where code = 'retell'""",
            (world.org_a, world.agent_a))
        await secrets.put_secret(conn, world.org_a, "retell",
                                 {"api_key": leak_guard.secret(RETELL_KEY), "base_url": retell_prism.url})
    r = await _post(client, world, "retell")
    assert r.status_code == 201, r.text
    assert r.json()["sdk"] == "retell-client-js-sdk" and r.json()["access_token"] and r.json()["call_id"]


async def _on_vapi(db, org, agent, values: dict[str, str]) -> None:
    async with db.as_service() as conn:
        await conn.execute(
            """insert into provider_configs (organization_id, agent_config_id, provider_id, agent_id, sync_status)
               select %s, %s, id, 'asst_123', 'synced' from voice_ai_providers where code = 'vapi'""", (org, agent))
        await secrets.put_secret(conn, org, "vapi", values)


async def test_refusals_in_words_and_vapis_public_key(client, world: World, db, leak_guard):
    unknown = await _post(client, world, "skype")
    assert unknown.status_code == 422 and unknown.json()["fields"] == [
        {"field": "platform", "message": "must be one of retell, vapi, signalwire, livekit"}]
    # Organisation B has Vapi's private key only: told what to add, where.
    await _on_vapi(db, world.org_b, world.agent_b, {"api_key": leak_guard.secret("vapi_private_key_000b")})
    missing = await _post(client, world, "vapi", user=world.owner_b, agent=world.agent_b)
    assert missing.status_code == 409 and missing.json()["message"] == (
        "Vapi: the Vapi public key is missing — add it in Vapi's settings")
    await _on_vapi(db, world.org_a, world.agent_a, {"api_key": leak_guard.secret("vapi_private_key_000a"), "public_key": "pk-public-1"})
    vapi = await _post(client, world, "vapi")
    assert vapi.status_code == 201, vapi.text
    assert (vapi.json()["sdk"], vapi.json()["public_key"], vapi.json()["assistant_id"]) == ("@vapi-ai/web", "pk-public-1", "asst_123")


def test_the_route_is_in_the_api_document():
    from edge_functions.api.testapp import create_app

    doc = create_app().openapi()
    op = doc["paths"]["/api/agents/{agent_id}/web-calls"]["post"]
    assert set(op["responses"]) >= {"201", "404", "409", "422", "502"}
    assert openapi_document(CONTRACTS / "retell-openapi.yaml").operation("POST", "/v2/create-web-call")


async def test_vapis_public_key_is_shown_whole_and_its_private_key_never(client, world: World, leak_guard):
    private = leak_guard.secret("vapi_private_key_settings_01")
    r = await client.put("/api/organizations/current/providers/vapi/secrets", headers=world.admin_a.headers(),
                         json={"secrets": {"api_key": private, "public_key": "pk-shown-in-settings-42"}})
    assert r.status_code == 200, r.text
    assert r.json()["hints"] == {"api_key": "…s_01", "public_key": "pk-shown-in-settings-42"}
    listed = await client.get("/api/organizations/current/providers/vapi", headers=world.admin_a.headers())
    assert listed.json()["secrets"]["hints"]["public_key"] == "pk-shown-in-settings-42"
    schema = listed.json()["provider"]["secrets_schema"]["properties"]["public_key"]
    assert schema["x-public"] is True and "not a secret" in schema["title"]
