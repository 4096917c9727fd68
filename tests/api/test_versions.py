"""Agent versions through the API: a save is a draft (the live spec unchanged), publish makes it
live, roll back re-publishes an earlier one; versions are immutable in the database; two
concurrent publishes give one winner and a refusal in words; calls name their version."""

from __future__ import annotations

import asyncio

import httpx
import psycopg
import pytest

from switchboard import versions
from switchboard.db import Database
from switchboard.errors import Conflict
from switchboard.tenancy import Claims
from tests.api.conftest import World, add_call


async def _save(client: httpx.AsyncClient, world: World, **fields) -> dict:
    url = f"/api/agents/{world.agent_a}"
    etag = (await client.get(url, headers=world.owner_a.headers())).headers["ETag"]
    r = await client.patch(url, headers={**world.member_a.headers(), "If-Match": etag}, json=fields)
    assert r.status_code == 200, r.text
    return r.json()


async def _live_prompt(db: Database, world: World) -> str:
    async with db.as_service() as conn:
        return (await (await conn.execute("select prompt from agent_configs where id = %s", (world.agent_a,))).fetchone())["prompt"]


async def test_save_draft_publish_and_roll_back(client: httpx.AsyncClient, world: World, db: Database) -> None:
    h = world.owner_a.headers()
    base = f"/api/agents/{world.agent_a}/versions"
    first = (await client.get(base, headers=h)).json()
    assert [(v["number"], v["live"]) for v in first] == [(1, True)]
    agent = await _save(client, world, prompt="You book cleanings.\nAsk for the patient's name.")
    assert agent["prompt"].startswith("You book cleanings") and (agent["live_version"], agent["latest_version"]) == (1, 2)
    assert await _live_prompt(db, world) == "You answer the phone for a dental practice."  # a draft is not live
    listed = (await client.get(base, headers=h)).json()
    assert [(v["number"], v["live"], v["author_email"]) for v in listed] == [
        (2, False, world.member_a.email), (1, True, None)]
    detail = (await client.get(f"{base}/2", headers=h)).json()
    assert detail["compared_with"] == 1 and [c["field"] for c in detail["changes"]] == ["prompt"]
    assert detail["changes"][0]["label"] == "Prompt" and "+Ask for the patient's name." in detail["changes"][0]["lines"]

    r = await client.post(f"{base}/2/publish", headers=h)
    assert r.status_code == 200 and r.json()["live"] is True
    assert (await _live_prompt(db, world)).startswith("You book cleanings")
    assert (await client.get(f"/api/agents/{world.agent_a}", headers=h)).json()["live_version"] == 2
    async with db.as_service() as conn:
        call = await add_call(conn, world.org_a, world.agent_a, started_at=None, cost=None)
        named = (await (await conn.execute(
            "select v.number from call_records c join agent_versions v on v.id = c.agent_version_id where c.id = %s",
            (call,))).fetchone())["number"]
    assert named == 2
    # Roll back: version 1 is live again, and no new version is made.
    assert (await client.post(f"{base}/1/publish", headers=h)).status_code == 200
    assert await _live_prompt(db, world) == "You answer the phone for a dental practice."
    assert [(v["number"], v["live"]) for v in (await client.get(base, headers=h)).json()] == [(2, False), (1, True)]


async def test_unknown_versions_and_other_organisations(client: httpx.AsyncClient, world: World) -> None:
    h = world.owner_a.headers()
    r = await client.get(f"/api/agents/{world.agent_a}/versions/9", headers=h)
    assert r.status_code == 404 and r.json()["message"] == "this agent has no version 9"
    assert (await client.get(f"/api/agents/{world.agent_b}/versions", headers=h)).status_code == 404
    assert (await client.post(f"/api/agents/{world.agent_b}/versions/1/publish", headers=h)).status_code == 404


async def test_versions_are_immutable_in_the_database(world: World, db: Database) -> None:
    for as_service in (True, False):
        ctx = db.as_service() if as_service else db.as_user(Claims(sub=world.owner_a.id, email=world.owner_a.email))
        with pytest.raises(psycopg.Error) as caught:
            async with ctx as conn:
                await conn.execute("update agent_versions set spec = '{}' where agent_config_id = %s", (world.agent_a,))
        assert "immutable" in str(caught.value) or "permission denied" in str(caught.value)


async def test_two_concurrent_publishes_one_winner(client: httpx.AsyncClient, world: World, db: Database) -> None:
    await _save(client, world, name="Second")
    await _save(client, world, name="Third")
    claims = Claims(sub=world.owner_a.id, email=world.owner_a.email)
    async with db.as_user(claims) as first:
        await versions.publish(first, world.org_a, world.agent_a, 2)  # holds the agent until it commits
        with pytest.raises(Conflict) as refused:
            async with db.as_user(claims) as second:
                await asyncio.wait_for(versions.publish(second, world.org_a, world.agent_a, 3), 5)
    assert "another publish or save of this agent is in progress" in str(refused.value)
    r = await client.get(f"/api/agents/{world.agent_a}/versions", headers=world.owner_a.headers())
    assert [v["number"] for v in r.json() if v["live"]] == [2]
