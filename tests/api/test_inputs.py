"""Bad input of every kind gets a 4xx in the one error shape, naming where it is wrong: unknown
query parameters, NUL characters (Postgres text cannot hold them), bodies that are not JSON,
methods a resource does not answer."""

from __future__ import annotations

import httpx

from tests.api.conftest import World

ORG = "/api/organizations/current/providers"


async def test_unknown_query_parameters_are_refused(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get("/api/calls", params={"provder": "vapi"}, headers=world.member_a.headers())
    assert r.status_code == 422 and r.json()["fields"] == [{"field": "provder", "message": "is not a parameter of this operation"}]
    r = await client.get("/api/providers", params={"type": "stt", "x": "1"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "x"
    # Every declared one is known, including the filter model's fields.
    r = await client.get("/api/calls", params={"provider": "vapi", "status": "ended", "direction": "inbound", "arm": "A",
                                               "number": "555", "limit": 5}, headers=world.member_a.headers())
    assert r.status_code == 200


async def test_nul_characters_are_refused_naming_the_field(client: httpx.AsyncClient, world: World, db) -> None:
    h = world.owner_a.headers()
    r = await client.get("/api/calls", params={"arm": "A\x00"}, headers=h)
    assert r.status_code == 422 and r.json()["fields"] == [{"field": "arm", "message": "may not contain NUL characters"}]
    r = await client.get(f"{ORG}/open%00ai-llm/config", headers=h)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "key"
    r = await client.patch(f"/api/agents/{world.agent_a}", headers={**h, "If-Match": "*"}, json={"prompt": "Hi\x00there"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "prompt"
    r = await client.put(f"{ORG}/openai-llm/config", headers={**h, "If-None-Match": "*"}, json={"config": {"model": "gpt\x00"}})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "config.model"
    async with db.as_service() as conn:
        assert (await (await conn.execute("select prompt from agent_configs where id = %s", (world.agent_a,))).fetchone())["prompt"].startswith("You answer")


async def test_a_body_that_is_not_json(client: httpx.AsyncClient, world: World) -> None:
    h = {**world.owner_a.headers(), "If-None-Match": "*", "Content-Type": "application/json"}
    r = await client.put(f"{ORG}/openai-llm/config", headers=h, content=b"\xff\xfe not json")
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"
    r = await client.put(f"{ORG}/openai-llm/config", headers=h, content=b'{"config": ')
    assert r.status_code == 422 and r.json()["fields"][0]["message"] == "is not valid JSON"  # the one mapping, in words


async def test_other_methods_get_405_with_every_allowed_one(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post(f"{ORG}/openai-llm/config", headers=world.owner_a.headers())
    assert r.status_code == 405 and r.headers["Allow"] == "DELETE, GET, PUT" and r.json()["code"] == "method_not_allowed"
    r = await client.delete("/api/calls", headers=world.owner_a.headers())
    assert r.status_code == 405 and r.headers["Allow"] == "GET, POST"  # the list and placing a call
