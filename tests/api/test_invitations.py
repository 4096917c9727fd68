"""/api/invitations: admins invite, the invitee accepts once with the link's token, refusals in
words in the API's error shape (expired, used, revoked, wrong account), and the link mailed when
SMTP is configured."""

from __future__ import annotations

from uuid import uuid4

import httpx
import pytest

from switchboard.auth import sign_up
from switchboard.settings import reset_settings_cache
from tests.api.conftest import World
from tests.support.smtp_server import SmtpServer

PASSWORD = "correct horse battery staple 42"


def token_of(link: str) -> str:
    return link.rsplit("/invite/", 1)[1]


async def signed_up(db, email: str) -> dict[str, str]:
    session = await sign_up(db, email, PASSWORD)
    return {"Authorization": f"Bearer {session.access_token}"}


async def test_invite_accept_once_and_refusals_in_words(client: httpx.AsyncClient, world: World, db) -> None:
    r = await client.post("/api/invitations", headers=world.admin_a.headers(), json={"email": "Ivy@Example.com", "role": "admin"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["email"] == "ivy@example.com" and created["role"] == "admin" and created["mailed"] is False
    assert created["link"].startswith("http://127.0.0.1:3000/invite/") and created["expires_at"]
    token = token_of(created["link"])

    listed = (await client.get("/api/invitations", headers=world.member_a.headers())).json()["items"]
    assert [(i["id"], i["email"], i["role"]) for i in listed] == [(created["id"], "ivy@example.com", "admin")]
    assert "link" not in listed[0] and "token_hash" not in listed[0]
    assert (await client.get("/api/invitations", headers=world.owner_b.headers())).json()["items"] == []

    # Someone else's account: refused, naming the address to use; the invitation stays usable.
    other = await signed_up(db, "other-person@example.com")
    r = await client.post("/api/invitations/accept", headers=other, json={"token": token})
    assert r.status_code == 403 and r.json()["code"] == "invitation_wrong_account"
    assert r.json()["message"] == "This invitation is for ivy@example.com — sign in with that address"

    ivy = await signed_up(db, "ivy@example.com")
    assert (await client.post("/api/invitations/accept", headers={"Authorization": "Bearer x"}, json={"token": token})).status_code == 401
    narrowed = await sign_up_token_with(db, "ivy@example.com", scopes=["read"])
    r = await client.post("/api/invitations/accept", headers=narrowed, json={"token": token})
    assert r.status_code == 403 and "write" in r.json()["message"]
    r = await client.post("/api/invitations/accept", headers=ivy, json={"token": token})
    assert r.status_code == 200, r.text
    assert r.json() == {"organization_id": str(world.org_a), "organization_name": "Alpha", "role": "admin"}
    r = await client.post("/api/invitations/accept", headers=ivy, json={"token": token})
    assert r.status_code == 410 and r.json()["code"] == "invitation_used" and "already been used" in r.json()["message"]
    assert (await client.get("/api/invitations", headers=world.admin_a.headers())).json()["items"] == []
    # Ivy is an admin of Alpha now, with the API like any admin.
    assert (await client.get("/api/agents", headers=ivy)).json()["items"][0]["name"] == "Alpha receptionist"

    r = await client.post("/api/invitations/accept", headers=ivy, json={"token": "garbage"})
    assert r.status_code == 404 and r.json()["code"] == "invitation_invalid" and "not valid" in r.json()["message"]
    r = await client.post("/api/invitations/accept", headers=ivy, json={})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "token"


async def sign_up_token_with(db, email: str, **claims) -> dict[str, str]:
    from switchboard.auth import issue_token

    async with db.as_owner() as conn:
        row = await (await conn.execute("select id from auth.users where email = %s", (email,))).fetchone()
    return {"Authorization": f"Bearer {issue_token(row['id'], email, extra=claims)}"}


async def test_revoked_and_expired_and_role_rules(client: httpx.AsyncClient, world: World, db) -> None:
    r = await client.post("/api/invitations", headers=world.member_a.headers(), json={"email": "x@example.com"})
    assert r.status_code == 403 and "only admins and owners" in r.json()["message"]
    r = await client.post("/api/invitations", headers=world.admin_a.headers(), json={"email": "x@example.com", "role": "owner"})
    assert r.status_code == 403 and r.json()["message"] == "only an owner may invite an owner"
    r = await client.post("/api/invitations", headers=world.admin_a.headers(), json={"email": world.member_a.email})
    assert r.status_code == 409 and r.json()["code"] == "already_member"
    r = await client.post("/api/invitations", headers=world.admin_a.headers(), json={"email": "not an address"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "email"
    r = await client.post("/api/invitations", headers=world.admin_a.headers(), json={"email": "x@example.com", "role": "boss"})
    assert r.status_code == 422

    owner_inv = (await client.post("/api/invitations", headers=world.owner_a.headers(),
                                   json={"email": "kim@example.com", "role": "owner"})).json()
    r = await client.delete(f"/api/invitations/{owner_inv['id']}", headers=world.admin_a.headers())
    assert r.status_code == 403
    assert (await client.delete(f"/api/invitations/{owner_inv['id']}", headers=world.owner_b.headers())).status_code == 404
    assert (await client.delete(f"/api/invitations/{owner_inv['id']}", headers=world.owner_a.headers())).status_code == 204
    r = await client.delete(f"/api/invitations/{owner_inv['id']}", headers=world.owner_a.headers())
    assert r.status_code == 409 and "already revoked" in r.json()["message"]
    assert (await client.delete(f"/api/invitations/{uuid4()}", headers=world.owner_a.headers())).status_code == 404
    kim = await signed_up(db, "kim@example.com")
    r = await client.post("/api/invitations/accept", headers=kim, json={"token": token_of(owner_inv["link"])})
    assert r.status_code == 410 and r.json()["code"] == "invitation_revoked" and "revoked" in r.json()["message"]

    late = (await client.post("/api/invitations", headers=world.admin_a.headers(), json={"email": "kim@example.com"})).json()
    async with db.as_owner() as conn:
        await conn.execute("update invitations set created_at = now() - interval '8 days', "
                           "expires_at = now() - interval '1 day' where id = %s", (late["id"],))
    r = await client.post("/api/invitations/accept", headers=kim, json={"token": token_of(late["link"])})
    assert r.status_code == 410 and r.json()["code"] == "invitation_expired" and "expired on" in r.json()["message"]
    async with db.as_service() as conn:
        n = (await (await conn.execute("select count(*) as n from memberships m join invitations i on i.email = 'kim@example.com' "
                                       "where m.user_id = i.accepted_by")).fetchone())["n"]
    assert n == 0


async def test_the_link_is_mailed_when_smtp_is_configured(client: httpx.AsyncClient, world: World,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with SmtpServer(starttls=False) as server:
        for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_FROM": "invites@switchboard.test",
                            "SMTP_STARTTLS": "false", "APP_PUBLIC_URL": "https://app.switchboard.test/"}.items():
            monkeypatch.setenv(name, value)
        reset_settings_cache()
        try:
            r = await client.post("/api/invitations", headers=world.owner_a.headers(), json={"email": "lee@example.com"})
        finally:
            monkeypatch.undo()
            reset_settings_cache()
        assert r.status_code == 201 and r.json()["mailed"] is True and r.json()["mail_error"] is None
        link = r.json()["link"]
        assert link.startswith("https://app.switchboard.test/invite/")
        (got,) = server.messages
        assert got.rcpt_to == ["lee@example.com"] and link in got.message.get_payload(decode=True).decode()
        assert "Alpha" in got.message["Subject"]
