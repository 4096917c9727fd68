"""The conversations API's refusals, each in words: another organisation's agent or conversation
is not found, a platform that cannot be tried says what is missing, a read-only token cannot
start one, an ended conversation takes no more messages, and a platform that fails is named
without its own words."""

from __future__ import annotations

import pytest

from switchboard.db import Database
from switchboard.settings import reset_settings_cache
from tests.api.conftest import seed_world


@pytest.fixture
async def world(db: Database):
    return await seed_world(db)


def _conversations(agent) -> str:
    return f"/api/agents/{agent}/conversations"


async def test_another_organisations_agent_and_conversation_are_not_found(api, world, worker_chat) -> None:
    a, b = world.owner_a.headers(), world.owner_b.headers()
    r = await api.post(_conversations(world.agent_b), json={"platform": "livekit"}, headers=a)
    assert r.status_code == 404 and r.json()["message"] == "agent not found"
    r = await api.post(_conversations(world.agent_a), json={"platform": "livekit"}, headers=a)
    assert r.status_code == 201, r.text
    mine = f"{_conversations(world.agent_a)}/{r.json()['id']}"
    theirs_path = f"{_conversations(world.agent_b)}/{r.json()['id']}"
    for method, path, body in (("POST", f"{mine}/messages", {"text": "hi"}), ("GET", mine, None), ("DELETE", mine, None),
                               ("POST", f"{theirs_path}/messages", {"text": "hi"})):
        r = await api.request(method, path, json=body, headers=b)
        assert r.status_code == 404, (method, path, r.text)
    r = await api.post(f"{mine}/messages", json={"text": "Hello"}, headers=world.member_a.headers())
    assert r.status_code == 200, r.text  # any member of the organisation may talk to its agent


async def test_a_platform_that_cannot_be_tried_says_what_is_missing(api, world, db, monkeypatch) -> None:
    monkeypatch.delenv("RETELL_API_KEY", raising=False)
    reset_settings_cache()
    r = await api.post(_conversations(world.agent_a), json={"platform": "retell"}, headers=world.owner_a.headers())
    assert r.status_code == 422
    assert r.json()["fields"] == [{"field": "platform", "message": "add your Retell API key in Settings"}]
    r = await api.post(_conversations(world.agent_a), json={"platform": "teams"}, headers=world.owner_a.headers())
    assert r.status_code == 422 and "'teams' is not a platform" in r.json()["fields"][0]["message"]
    async with db.as_service() as conn:  # nothing was stored for a refused one
        assert (await (await conn.execute("select count(*) as n from conversations")).fetchone())["n"] == 0


async def test_a_read_only_token_cannot_start_one(api, world) -> None:
    token = world.owner_a.token_with(scopes=["read"])
    r = await api.post(_conversations(world.agent_a), json={"platform": "livekit"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403


async def test_an_ended_conversation_takes_no_more_messages(api, world, worker_chat) -> None:
    h = world.owner_a.headers()
    conv = (await api.post(_conversations(world.agent_a), json={"platform": "livekit"}, headers=h)).json()
    path = f"{_conversations(world.agent_a)}/{conv['id']}"
    assert (await api.delete(path, headers=h)).status_code == 204
    assert (await api.delete(path, headers=h)).status_code == 204  # again: nothing changes
    r = await api.post(f"{path}/messages", json={"text": "Are you there?"}, headers=h)
    assert r.status_code == 409 and r.json()["message"] == "this conversation has ended; start a new one"
    r = await api.post(f"{path}/messages", json={"text": ""}, headers=h)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "text"


async def test_an_unreachable_platform_is_named_in_our_words(api, world, monkeypatch) -> None:
    from switchboard.db.local import free_port

    monkeypatch.setenv("LIVEKIT_CHAT_URL", f"http://127.0.0.1:{free_port()}")
    reset_settings_cache()
    r = await api.post(_conversations(world.agent_a), json={"platform": "livekit"}, headers=world.owner_a.headers())
    assert r.status_code == 502
    assert r.json() == {"code": "platform_failed", "message": "LiveKit: could not reach the platform (start-chat)", "fields": []}
