"""Agents: list, read (with each platform deployment's sync state), edit the spec, and switch
the platform, fallback order and traffic split — every write versioned by ETag."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import World


async def _get(client: httpx.AsyncClient, world: World, user=None) -> httpx.Response:
    r = await client.get(f"/api/agents/{world.agent_a}", headers=(user or world.owner_a).headers())
    assert r.status_code == 200 and r.headers["ETag"] == r.json()["etag"]
    return r


async def test_list_and_paginate(client: httpx.AsyncClient, world: World, db) -> None:
    async with db.as_service() as conn:
        for i in range(4):
            await conn.execute("insert into agent_configs (organization_id, name) values (%s, %s)", (world.org_a, f"extra {i}"))
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/agents", params=params, headers=world.member_a.headers())).json()
        seen += [a["name"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Oldest first; the four extras share one creation time (one transaction), so any order among them.
    assert seen[0] == "Alpha receptionist" and sorted(seen[1:]) == ["extra 0", "extra 1", "extra 2", "extra 3"]
    assert (await client.get("/api/agents", params={"cursor": "garbage"}, headers=world.member_a.headers())).status_code == 422
    assert (await client.get("/api/agents", params={"limit": 0}, headers=world.member_a.headers())).status_code == 422


async def test_get_shows_deployments_and_sync_state(client: httpx.AsyncClient, world: World, db) -> None:
    async with db.as_service() as conn:
        await conn.execute(
            """insert into provider_configs (organization_id, agent_config_id, provider_id, agent_id, is_default, sync_status, sync_error)
               select %s, %s, id, 'agent_retell_1', true, 'failed', 'Retell said 401' from voice_ai_providers where code = 'retell'""",
            (world.org_a, world.agent_a),
        )
    agent = (await _get(client, world)).json()
    assert agent["active_provider"] == "retell" and agent["voice"]["voice_id"] == "alloy"
    assert agent["provider_configs"] == [{
        "provider": "retell", "agent_id": "agent_retell_1", "llm_id": None, "voice_id": None, "is_active": True,
        "is_default": True, "sync_status": "failed", "sync_error": "Retell said 401", "synced_at": None,
        "updated_at": agent["provider_configs"][0]["updated_at"]}]


async def test_patch_edits_only_what_is_sent(client: httpx.AsyncClient, world: World) -> None:
    etag = (await _get(client, world)).headers["ETag"]
    r = await client.patch(f"/api/agents/{world.agent_a}", headers={**world.member_a.headers(), "If-Match": etag}, json={
        "prompt": "You book cleanings.", "begin_message": "Hi, Alpha Dental!",
        "tools": [{"type": "transfer", "number": "+14155550123"}], "max_duration_seconds": 600})
    assert r.status_code == 200, r.text
    agent = r.json()
    assert (agent["prompt"], agent["begin_message"], agent["max_duration_seconds"]) == ("You book cleanings.", "Hi, Alpha Dental!", 600)
    assert agent["tools"][0]["number"] == "+14155550123" and agent["tools"][0]["name"] == "transfer_call"
    assert agent["name"] == "Alpha receptionist" and agent["version"] == 2
    assert r.headers["ETag"] != etag


async def test_patch_concurrency(client: httpx.AsyncClient, world: World) -> None:
    url = f"/api/agents/{world.agent_a}"
    r = await client.patch(url, headers=world.owner_a.headers(), json={"name": "X"})
    assert r.status_code == 428
    etag = (await _get(client, world)).headers["ETag"]
    assert (await client.patch(url, headers={**world.owner_a.headers(), "If-Match": etag}, json={"name": "First"})).status_code == 200
    r = await client.patch(url, headers={**world.admin_a.headers(), "If-Match": etag}, json={"name": "Second"})
    assert r.status_code == 412
    assert (await _get(client, world)).json()["name"] == "First"


@pytest.mark.parametrize("body, field", [
    ({"max_duration_seconds": 5}, "max_duration_seconds"),
    ({"language": "english please"}, "language"),
    ({"tools": [{"type": "transfer", "number": "555"}]}, "tools[0].transfer.number"),
    ({"name": None}, "name"),
    ({"colour": "blue"}, "colour"),
    ({"voice": {"vendor": "elevenlabs", "voice_id": "my-clone", "custom": True}}, "voice.custom"),
])
async def test_patch_rejects_invalid_specs_naming_the_field(client: httpx.AsyncClient, world: World, body, field) -> None:
    etag = (await _get(client, world)).headers["ETag"]
    r = await client.patch(f"/api/agents/{world.agent_a}", headers={**world.owner_a.headers(), "If-Match": etag}, json=body)
    assert r.status_code == 422, r.text
    assert field in [f["field"] for f in r.json()["fields"]]
    assert (await _get(client, world)).headers["ETag"] == etag


async def test_switch_platform_with_fallback_and_split(client: httpx.AsyncClient, world: World) -> None:
    etag = (await _get(client, world)).headers["ETag"]
    r = await client.put(f"/api/agents/{world.agent_a}/provider", headers={**world.member_a.headers(), "If-Match": etag}, json={
        "active_provider": "vapi", "fallback_order": ["retell", "livekit"], "traffic_split": {"vapi": 70, "signalwire": 30}})
    assert r.status_code == 200, r.text
    agent = r.json()
    assert (agent["active_provider"], agent["fallback_order"], agent["traffic_split"]) == ("vapi", ["retell", "livekit"], {"vapi": 70, "signalwire": 30})
    deployments = {d["provider"]: d for d in agent["provider_configs"]}
    assert set(deployments) == {"vapi", "retell", "livekit", "signalwire"}
    assert [p for p, d in deployments.items() if d["is_default"]] == ["vapi"]
    assert all(d["sync_status"] == "pending" for d in deployments.values())
    # Omitted fallback/split keep their values, minus the new active platform.
    r = await client.put(f"/api/agents/{world.agent_a}/provider", headers={**world.member_a.headers(), "If-Match": r.headers["ETag"]},
                         json={"active_provider": "retell"})
    assert r.status_code == 200
    assert (r.json()["active_provider"], r.json()["fallback_order"]) == ("retell", ["livekit"])
    assert r.json()["traffic_split"] == {"vapi": 70, "signalwire": 30}
    r = await client.put(f"/api/agents/{world.agent_a}/provider", headers={**world.member_a.headers(), "If-Match": r.headers["ETag"]},
                         json={"active_provider": "retell", "traffic_split": {}})
    assert r.status_code == 200 and r.json()["traffic_split"] == {}


@pytest.mark.parametrize("body, fields", [
    ({"active_provider": "twilio"}, ["active_provider"]),
    ({"active_provider": "vapi", "fallback_order": ["vapi"]}, ["fallback_order[0]"]),
    ({"active_provider": "vapi", "fallback_order": ["retell", "retell"]}, ["fallback_order[1]"]),
    ({"active_provider": "vapi", "traffic_split": {"vapi": 60, "retell": 30}}, ["traffic_split"]),
    ({"active_provider": "vapi", "traffic_split": {"vapi": 150, "retell": -50}}, ["traffic_split.retell", "traffic_split.vapi"]),
    ({"active_provider": "vapi", "traffic_split": {"vapi": 50, "plivo": 50}}, ["traffic_split.plivo"]),
])
async def test_switch_rejects_bad_choices(client: httpx.AsyncClient, world: World, body, fields) -> None:
    etag = (await _get(client, world)).headers["ETag"]
    r = await client.put(f"/api/agents/{world.agent_a}/provider", headers={**world.owner_a.headers(), "If-Match": etag}, json=body)
    assert r.status_code == 422, r.text
    assert sorted(f["field"] for f in r.json()["fields"]) == fields
    assert (await _get(client, world)).json()["active_provider"] == "retell"


async def test_custom_voice_and_platform_capabilities(client: httpx.AsyncClient, world: World, db) -> None:
    h = world.owner_a.headers()
    etag = (await _get(client, world)).headers["ETag"]
    r = await client.put(f"/api/agents/{world.agent_a}/provider", headers={**h, "If-Match": etag}, json={"active_provider": "livekit"})
    r = await client.patch(f"/api/agents/{world.agent_a}", headers={**h, "If-Match": r.headers["ETag"]},
                           json={"voice": {"vendor": "cartesia", "voice_id": "clone-123", "custom": True}})
    assert r.status_code == 200 and r.json()["voice"]["custom"] is True
    # Retell takes preset voices only: switching to it is refused while the voice is custom.
    r = await client.put(f"/api/agents/{world.agent_a}/provider", headers={**h, "If-Match": r.headers["ETag"]}, json={"active_provider": "retell"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "active_provider" and "preset voices only" in r.json()["message"]
    async with db.as_service() as conn:
        await conn.execute("update voice_ai_providers set is_active = false where code = 'vapi'")
    etag = (await _get(client, world)).headers["ETag"]
    r = await client.put(f"/api/agents/{world.agent_a}/provider", headers={**h, "If-Match": etag}, json={"active_provider": "vapi"})
    assert r.status_code == 422 and "not offered" in r.json()["message"]


async def test_another_organisations_agent_is_not_found(client: httpx.AsyncClient, world: World) -> None:
    h = world.owner_a.headers()
    assert (await client.get(f"/api/agents/{world.agent_b}", headers=h)).status_code == 404
    r = await client.patch(f"/api/agents/{world.agent_b}", headers={**h, "If-Match": "*"}, json={"name": "mine now"})
    assert r.status_code == 404
    r = await client.put(f"/api/agents/{world.agent_b}/provider", headers={**h, "If-Match": "*"}, json={"active_provider": "vapi"})
    assert r.status_code == 404
    listed = (await client.get("/api/agents", headers=world.owner_b.headers())).json()["items"]
    assert [a["name"] for a in listed] == ["Beta receptionist"]


@pytest.mark.parametrize("prompt, message", [
    ("x" * 120_000, "at most 20,000 characters (this one has 120,000)"),
    ("", "is required"),
    ("   \n ", "is required"),
])
async def test_patch_refuses_a_prompt_too_long_or_empty_in_words(client: httpx.AsyncClient, world: World, prompt, message) -> None:
    etag = (await _get(client, world)).headers["ETag"]
    r = await client.patch(f"/api/agents/{world.agent_a}", headers={**world.owner_a.headers(), "If-Match": etag},
                           json={"prompt": prompt})
    assert r.status_code == 422, r.text
    assert {"field": "prompt", "message": message} in r.json()["fields"]
    assert "pydantic" not in r.text and "should" not in r.text
    assert (await _get(client, world)).headers["ETag"] == etag


async def test_patch_explains_a_phone_number(client: httpx.AsyncClient, world: World) -> None:
    etag = (await _get(client, world)).headers["ETag"]
    r = await client.patch(f"/api/agents/{world.agent_a}", headers={**world.owner_a.headers(), "If-Match": etag},
                           json={"tools": [{"type": "transfer", "number": "call bob"}]})
    assert r.status_code == 422
    assert {"field": "tools[0].transfer.number",
            "message": "a phone number in international form, like +14155550123"} in r.json()["fields"]


def test_the_prompt_limit_is_in_the_core_model() -> None:
    from pydantic import ValidationError

    from switchboard.models import PROMPT_MAX_CHARS, AgentUpdate

    assert PROMPT_MAX_CHARS == 20_000
    AgentUpdate(prompt="x" * PROMPT_MAX_CHARS)
    with pytest.raises(ValidationError):
        AgentUpdate(prompt="x" * (PROMPT_MAX_CHARS + 1))
