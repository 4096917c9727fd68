"""POST /api/auth/token: a script signs in and gets a bearer token, optionally pinned to one
organisation and narrowed to some scopes; the password is never echoed."""

from __future__ import annotations

import httpx

from switchboard.auth import sign_up
from tests.api.conftest import LeakGuard, World


async def test_a_script_gets_a_narrowed_pinned_token(client: httpx.AsyncClient, world: World, db, leak_guard: LeakGuard) -> None:
    password = leak_guard.secret("correct horse battery staple")
    session = await sign_up(db, "script@example.com", password)
    async with db.as_service() as conn:
        await conn.execute("insert into memberships (organization_id, user_id, role) values (%s, %s, 'admin')", (world.org_a, session.user_id))

    r = await client.post("/api/auth/token", json={"email": "script@example.com", "password": password})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer" and r.json()["scopes"] is None
    full = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await client.get("/api/agents", headers=full)).json()["items"][0]["name"] == "Alpha receptionist"

    r = await client.post("/api/auth/token", json={"email": "script@example.com", "password": password,
                                                   "organization_id": str(world.org_a), "scopes": ["read"]})
    assert r.status_code == 200 and r.json()["scopes"] == ["read"] and r.json()["organization_id"] == str(world.org_a)
    narrow = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert (await client.get("/api/organizations/current/providers", headers=narrow)).status_code == 200
    r = await client.put("/api/organizations/current/providers/openai-llm/config", headers={**narrow, "If-None-Match": "*"}, json={"config": {}})
    assert r.status_code == 403
    assert (await client.get("/api/agents", headers={**narrow, "X-Organization-Id": str(world.org_b)})).status_code == 404


async def test_refusals(client: httpx.AsyncClient, world: World, db, leak_guard: LeakGuard) -> None:
    password = leak_guard.secret("another long password")
    await sign_up(db, "loner@example.com", password)
    wrong = leak_guard.secret("not the password at all")
    r = await client.post("/api/auth/token", json={"email": "loner@example.com", "password": wrong})
    assert r.status_code == 401 and r.json()["message"] == "invalid e-mail or password"
    r = await client.post("/api/auth/token", json={"email": "loner@example.com", "password": password, "organization_id": str(world.org_a)})
    assert r.status_code == 404
    r = await client.post("/api/auth/token", json={"email": "loner@example.com", "password": password, "scopes": ["root"]})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "scopes"
    r = await client.post("/api/auth/token", json={"email": "loner@example.com", "password": 12345})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "password"
