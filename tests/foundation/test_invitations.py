"""Invitations through the core and the database, as each kind of user: single use, expiry,
revocation, the invited address only, the memberships' role rules, one membership from two
concurrent accepts, no crossing between organisations, and no token stored in clear."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import psycopg
import pytest

from switchboard import auth, invitations as inv, orgs
from switchboard.db import Database
from switchboard.errors import Conflict, Forbidden, NotFound

PASSWORD = "correct horse battery staple 42"


async def invitee(db: Database, email: str):
    """A real sign-up (confirmed at once, locally): the claims the invitee would carry."""
    return (await auth.sign_up(db, email, PASSWORD)).claims


async def invite(db: Database, claims, org, email: str, role: str = "member", **kw) -> inv.CreatedInvitation:
    async with db.as_user(claims) as conn:
        return await inv.create_invitation(conn, org, email, role, **kw)


async def accept(db: Database, claims, token: str) -> inv.Accepted:
    async with db.as_user(claims) as conn:
        return await inv.accept_invitation(conn, token)


async def role_of(db: Database, org, user) -> str | None:
    async with db.as_service() as conn:
        row = await (await conn.execute("select role::text as role from memberships where organization_id = %s and user_id = %s",
                                        (org, user))).fetchone()
    return row["role"] if row else None


async def test_invitee_joins_once_with_the_role_and_the_token_is_not_stored(db: Database, tenants) -> None:
    a, _ = tenants
    created = await invite(db, a.admin, a.org_id, "  New.Bie@Example.TEST ", "admin")
    token = created.token
    secret = token.split(".", 1)[1]
    assert len(secret) == 43 and created.invitation.email == "new.bie@example.test"
    assert created.invitation.expires_at - created.invitation.created_at == inv.DEFAULT_TTL
    assert token not in repr(created)

    # Only the sha256 of the secret is kept: no column holds the token or the secret.
    async with db.as_owner() as conn:
        row = await (await conn.execute("select * from invitations where id = %s", (created.invitation.id,))).fetchone()
    assert bytes(row["token_hash"]) == hashlib.sha256(secret.encode()).digest()
    flat = " ".join(str(v) for v in row.values())
    assert secret not in flat and token not in flat and bytes(row["token_hash"]).hex() != secret

    # Members see pending invitations; they never read the hash.
    async with db.as_user(a.member) as conn:
        assert [i.id for i in await inv.list_invitations(conn, a.org_id)] == [created.invitation.id]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            await conn.execute("select token_hash from invitations")

    bob = await invitee(db, "new.bie@example.test")
    joined = await accept(db, bob, token)
    assert (joined.organization_id, joined.role) == (a.org_id, "admin")
    assert await role_of(db, a.org_id, bob.sub) == "admin"
    async with db.as_user(bob) as conn:
        assert [(o.id, o.role) for o in await orgs.list_my_organizations(conn)] == [(a.org_id, "admin")]
        assert await inv.list_invitations(conn, a.org_id) == []  # used: no longer pending

    with pytest.raises(inv.InvitationUsed, match="already been used"):
        await accept(db, bob, token)
    someone = await invitee(db, "someone@example.test")
    with pytest.raises(inv.InvitationUsed):
        await accept(db, someone, token)
    preview = await inv.preview(db, token)
    assert (preview.status, preview.email, preview.role) == ("used", "new.bie@example.test", "admin")


async def test_expired_and_revoked_links_are_refused_in_words(db: Database, tenants) -> None:
    a, _ = tenants
    carol = await invitee(db, "carol@example.test")
    old = await invite(db, a.owner, a.org_id, "carol@example.test", ttl=timedelta(days=2))
    async with db.as_owner() as conn:  # two days pass
        await conn.execute("update invitations set created_at = created_at - interval '3 days', "
                           "expires_at = expires_at - interval '3 days' where id = %s", (old.invitation.id,))
    assert (await inv.preview(db, old.token)).status == "expired"
    with pytest.raises(inv.InvitationExpired, match="expired on .*ask for a new one"):
        await accept(db, carol, old.token)
    async with db.as_user(a.admin) as conn:
        assert await inv.list_invitations(conn, a.org_id) == []
        assert len(await inv.list_invitations(conn, a.org_id, pending_only=False)) == 1

    # A new invitation to the same address replaces any pending one.
    first = await invite(db, a.admin, a.org_id, "carol@example.test")
    second = await invite(db, a.admin, a.org_id, "carol@example.test")
    with pytest.raises(inv.InvitationRevoked):
        await accept(db, carol, first.token)

    async with db.as_user(a.admin) as conn:
        revoked = await inv.revoke_invitation(conn, a.org_id, second.invitation.id)
        assert revoked.status == "revoked"
        with pytest.raises(Conflict, match="already revoked"):
            await inv.revoke_invitation(conn, a.org_id, second.invitation.id)
    with pytest.raises(inv.InvitationRevoked, match="revoked: ask for a new one"):
        await accept(db, carol, second.token)
    assert await role_of(db, a.org_id, carol.sub) is None

    with pytest.raises(inv.InvitationInvalid, match="not valid"):
        await accept(db, carol, "not-a-token")
    forged = second.token[:-4] + ("AAAA" if not second.token.endswith("AAAA") else "BBBB")
    with pytest.raises(inv.InvitationInvalid, match="not valid"):
        await accept(db, carol, forged)
    with pytest.raises(inv.InvitationInvalid):
        await inv.preview(db, forged)


async def test_only_the_invited_address_may_accept(db: Database, tenants) -> None:
    a, _ = tenants
    created = await invite(db, a.admin, a.org_id, "Dave@Example.test")
    mallory = await invitee(db, "mallory@example.test")
    with pytest.raises(inv.WrongAccount, match="This invitation is for dave@example.test — sign in with that address"):
        await accept(db, mallory, created.token)
    assert await role_of(db, a.org_id, mallory.sub) is None
    # An account with the address but unconfirmed (as GoTrue keeps it until confirmed) may not.
    dave = await invitee(db, "DAVE@example.test")  # sign-up lowercases; the match ignores case anyway
    async with db.as_owner() as conn:
        await conn.execute("update auth.users set email_confirmed_at = null where id = %s", (dave.sub,))
    with pytest.raises(inv.WrongAccount):
        await accept(db, dave, created.token)
    async with db.as_owner() as conn:
        await conn.execute("update auth.users set email = 'DAVE@EXAMPLE.TEST', email_confirmed_at = now() "
                           "where id = %s", (dave.sub,))
    async with db.as_user(dave) as conn:
        assert (await inv.accept_invitation(conn, created.token)).role == "member"
        # the caller's claims are back after the accept (the membership insert ran as a trusted path)
        assert (await (await conn.execute("select auth.uid() as uid")).fetchone())["uid"] == dave.sub


async def test_role_rules_are_the_memberships_rules(db: Database, tenants) -> None:
    a, _ = tenants
    async with db.as_user(a.member) as conn:
        with pytest.raises(Forbidden, match="only admins and owners"):
            await inv.create_invitation(conn, a.org_id, "x@example.test", "member")
    async with db.as_user(a.admin) as conn:
        with pytest.raises(Forbidden, match="only an owner may invite an owner"):
            await inv.create_invitation(conn, a.org_id, "x@example.test", "owner")
        with pytest.raises(inv.AlreadyMember):
            await inv.create_invitation(conn, a.org_id, a.member.email, "admin")
    # The database refuses the same, written directly.
    for who, role in ((a.member, "member"), (a.admin, "owner")):
        async with db.as_user(who) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                await conn.execute(
                    "insert into invitations (organization_id, email, role, token_hash, invited_by, expires_at) "
                    "values (%s, 'x@example.test', %s, %s, auth.uid(), now() + interval '1 day')",
                    (a.org_id, role, b"\0" * 32))

    # An owner invites an owner; the invitee becomes an owner (the membership guard agrees).
    owner_invite = await invite(db, a.owner, a.org_id, "olivia@example.test", "owner")
    async with db.as_user(a.admin) as conn:  # an admin may not revoke an owner's invitation
        with pytest.raises(Forbidden, match="owner"):
            await inv.revoke_invitation(conn, a.org_id, owner_invite.invitation.id)
        with pytest.raises(Conflict):  # nor replace it
            await inv.create_invitation(conn, a.org_id, "olivia@example.test", "admin")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nor change what it grants
            await conn.execute("update invitations set role = 'admin' where id = %s", (owner_invite.invitation.id,))
    olivia = await invitee(db, "olivia@example.test")
    assert (await accept(db, olivia, owner_invite.token)).role == "owner"
    assert await role_of(db, a.org_id, olivia.sub) == "owner"

    # An invitation is only as good as its sender's right to grant it, when it is accepted.
    admin_invite = await invite(db, a.admin, a.org_id, "pat@example.test", "admin")
    async with db.as_user(a.owner) as conn:
        await orgs.set_member_role(conn, a.org_id, a.admin.sub, "member")
    pat = await invitee(db, "pat@example.test")
    with pytest.raises(inv.InvitationRevoked, match="no longer valid"):
        await accept(db, pat, admin_invite.token)
    assert await role_of(db, a.org_id, pat.sub) is None


async def test_two_concurrent_accepts_give_one_membership(db: Database, tenants) -> None:
    a, _ = tenants
    created = await invite(db, a.admin, a.org_id, "quinn@example.test")
    quinn = await invitee(db, "quinn@example.test")
    results = await asyncio.gather(*(accept(db, quinn, created.token) for _ in range(4)), return_exceptions=True)
    ok = [r for r in results if isinstance(r, inv.Accepted)]
    refused = [r for r in results if isinstance(r, (inv.InvitationUsed, inv.AlreadyMember))]
    assert len(ok) == 1 and len(refused) == 3, results
    async with db.as_service() as conn:
        n = await (await conn.execute("select count(*) as n from memberships where organization_id = %s and user_id = %s",
                                      (a.org_id, quinn.sub))).fetchone()
    assert n["n"] == 1


async def test_a_token_from_one_organisation_never_joins_another(db: Database, tenants) -> None:
    a, b = tenants
    from_a = await invite(db, a.admin, a.org_id, "rita@example.test")
    from_b = await invite(db, b.owner, b.org_id, "rita@example.test")
    rita = await invitee(db, "rita@example.test")
    # B's invitation id with A's secret (and the reverse) is no token at all.
    a_id, a_secret = from_a.token.split(".")
    b_id, b_secret = from_b.token.split(".")
    for forged in (f"{b_id}.{a_secret}", f"{a_id}.{b_secret}"):
        with pytest.raises(inv.InvitationInvalid):
            await accept(db, rita, forged)
    joined = await accept(db, rita, from_a.token)
    assert joined.organization_id == a.org_id
    assert await role_of(db, b.org_id, rita.sub) is None
    # B's people neither see nor revoke A's invitations, nor invite into A.
    async with db.as_user(b.owner) as conn:
        assert await inv.list_invitations(conn, a.org_id, pending_only=False) == []
        with pytest.raises(NotFound):
            await inv.revoke_invitation(conn, a.org_id, from_a.invitation.id)
        with pytest.raises(NotFound):
            await inv.revoke_invitation(conn, b.org_id, from_a.invitation.id)
        with pytest.raises(NotFound):
            await inv.create_invitation(conn, a.org_id, "spy@example.test", "admin")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            async with conn.transaction():
                await conn.execute(
                    "insert into invitations (organization_id, email, role, token_hash, invited_by, expires_at) "
                    "values (%s, 'spy@example.test', 'admin', %s, auth.uid(), now() + interval '1 day')",
                    (a.org_id, b"\0" * 32))
        cur = await conn.execute("update invitations set revoked_at = now(), revoked_by = auth.uid() where id = %s",
                                 (from_a.invitation.id,))
        assert cur.rowcount == 0
    # B's invitation still works for B.
    assert (await accept(db, rita, from_b.token)).organization_id == b.org_id


async def test_accept_needs_a_signed_in_caller_and_anon_cannot_execute(db: Database, tenants) -> None:
    a, _ = tenants
    created = await invite(db, a.admin, a.org_id, "sam@example.test")
    async with db.as_anon() as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            await conn.execute("select * from public.accept_invitation(%s)", (created.token,))
    async with db.as_anon() as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            await conn.execute("select id from public.invitations")
    async with db.as_owner() as conn:
        grants = await (await conn.execute(
            "select has_function_privilege('anon', 'public.accept_invitation(text)', 'execute') as anon, "
            "has_function_privilege('authenticated', 'public.accept_invitation(text)', 'execute') as auth")).fetchone()
    assert grants == {"anon": False, "auth": True}
