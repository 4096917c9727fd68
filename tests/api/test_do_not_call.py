"""The do-not-call list through the API: members list, add and remove their organisation's
numbers, in words when a number is not E.164; no organisation sees or changes another's."""

from __future__ import annotations

import psycopg
import pytest

from switchboard.tenancy import Claims

NUMBER = "+14155550111"


async def test_add_list_remove(client, world):
    h = world.member_a.headers()
    r = await client.post("/api/do-not-call", json={"e164": NUMBER, "reason": "asked not to be called"}, headers=h)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["e164"] == NUMBER and entry["reason"] == "asked not to be called"
    assert entry["added_by"] == str(world.member_a.id)
    again = await client.post("/api/do-not-call", json={"e164": NUMBER}, headers=h)  # already listed: the same entry
    assert again.status_code == 201 and again.json()["id"] == entry["id"]
    r = await client.get("/api/do-not-call", headers=h)
    assert [e["e164"] for e in r.json()["items"]] == [NUMBER]
    r = await client.delete(f"/api/do-not-call/{NUMBER}", headers=h)
    assert r.status_code == 204
    assert (await client.get("/api/do-not-call", headers=h)).json()["items"] == []
    r = await client.delete(f"/api/do-not-call/{NUMBER}", headers=h)
    assert r.status_code == 404 and r.json()["message"] == f"{NUMBER} is not on the do-not-call list"


async def test_numbers_are_checked_in_words(client, world):
    r = await client.post("/api/do-not-call", json={"e164": "555-0111"}, headers=world.member_a.headers())
    assert r.status_code == 422
    assert r.json()["fields"] == [{"field": "e164", "message": "a phone number in international form, like +14155550123"}]


async def test_each_organisation_has_its_own_list(client, world, db):
    await client.post("/api/do-not-call", json={"e164": NUMBER}, headers=world.owner_a.headers())
    assert (await client.get("/api/do-not-call", headers=world.owner_b.headers())).json()["items"] == []
    r = await client.delete(f"/api/do-not-call/{NUMBER}", headers=world.owner_b.headers())
    assert r.status_code == 404
    assert [e["e164"] for e in (await client.get("/api/do-not-call", headers=world.member_a.headers())).json()["items"]] == [NUMBER]
    # The database holds the line on its own: B's user, writing A's organisation, is refused by RLS.
    claims = Claims(sub=world.owner_b.id, role="authenticated", email=world.owner_b.email)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with db.as_user(claims) as conn:
            await conn.execute("insert into do_not_call_numbers (organization_id, e164, added_by) values (%s, %s, %s)",
                               (world.org_a, "+14155550122", world.owner_b.id))


async def test_reading_needs_a_token_and_writing_the_write_scope(client, world):
    assert (await client.get("/api/do-not-call")).status_code == 401
    token = world.member_a.token_with(scopes=["read"])
    r = await client.post("/api/do-not-call", json={"e164": NUMBER}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
