"""Organisations and memberships through the repository, as each kind of user."""

from __future__ import annotations

import psycopg
import pytest

from switchboard import orgs
from switchboard.db import Database

from .conftest import make_user


async def test_creator_owns_and_lists_with_role(db: Database) -> None:
    ann = await make_user(db, "ann@example.com")
    async with db.as_user(ann) as conn:
        org = await orgs.create_organization(conn, "  Ann Dental  ")
        assert org.name == "Ann Dental" and org.created_by == ann.sub
        mine = await orgs.list_my_organizations(conn)
        assert [(o.id, o.role) for o in mine] == [(org.id, "owner")]
        with pytest.raises(orgs.MembershipError, match="1 to 200"):
            await orgs.create_organization(conn, "   ")
        renamed = await orgs.rename_organization(conn, org.id, "Ann's Dental")
        assert renamed.name == "Ann's Dental"


async def test_admins_manage_members_by_email(db: Database, tenants) -> None:
    a, b = tenants
    newbie = await make_user(db, "newbie@example.com")
    async with db.as_user(a.admin) as conn:
        added = await orgs.add_member(conn, a.org_id, "NEWBIE@example.com ", "member")
        assert (added.user_id, added.role, added.email) == (newbie.sub, "member", "newbie@example.com")
        with pytest.raises(orgs.MembershipError, match="already a member"):
            await orgs.add_member(conn, a.org_id, "newbie@example.com")
        with pytest.raises(orgs.MembershipError, match="sign up first"):
            await orgs.add_member(conn, a.org_id, "ghost@example.com")
        with pytest.raises(orgs.MembershipError, match="role must be"):
            await orgs.add_member(conn, a.org_id, "newbie@example.com", "boss")  # type: ignore[arg-type]
        promoted = await orgs.set_member_role(conn, a.org_id, newbie.sub, "admin")
        assert promoted.role == "admin"
        # an admin cannot hand out or take away ownership
        with pytest.raises(PermissionError, match="owner"):
            await orgs.set_member_role(conn, a.org_id, newbie.sub, "owner")
        with pytest.raises(PermissionError, match="owner"):
            await orgs.remove_member(conn, a.org_id, a.owner.sub)
        await orgs.remove_member(conn, a.org_id, newbie.sub)
        members = await orgs.list_members(conn, a.org_id)
        assert {m.user_id: m.role for m in members} == {a.owner.sub: "owner", a.admin.sub: "admin", a.member.sub: "member"}
    async with db.as_user(a.member) as conn:  # plain members see the list, change nothing
        assert len(await orgs.list_members(conn, a.org_id)) == 3
        with pytest.raises(PermissionError):
            await orgs.add_member(conn, a.org_id, "newbie@example.com")
        with pytest.raises(PermissionError):
            await orgs.set_member_role(conn, a.org_id, a.member.sub, "admin")
        with pytest.raises(PermissionError):
            await orgs.remove_member(conn, a.org_id, a.admin.sub)
    async with db.as_user(b.owner) as conn:  # another tenant sees and changes nothing
        assert await orgs.list_members(conn, a.org_id) == []
        assert await orgs.get_organization(conn, a.org_id) is None
        with pytest.raises(PermissionError):
            await orgs.add_member(conn, a.org_id, "newbie@example.com")
        with pytest.raises(PermissionError):
            await orgs.remove_member(conn, a.org_id, a.member.sub)


async def test_the_last_owner_can_neither_leave_nor_be_demoted(db: Database, tenants) -> None:
    a, _ = tenants
    async with db.as_user(a.owner) as conn:
        with pytest.raises(orgs.LastOwnerError, match="at least one owner"):
            await orgs.remove_member(conn, a.org_id, a.owner.sub)
        with pytest.raises(orgs.LastOwnerError):
            await orgs.set_member_role(conn, a.org_id, a.owner.sub, "admin")
        # with a second owner, the first may step down
        await orgs.set_member_role(conn, a.org_id, a.admin.sub, "owner")
        await orgs.set_member_role(conn, a.org_id, a.owner.sub, "member")
        roles = {m.user_id: m.role for m in await orgs.list_members(conn, a.org_id)}
        assert roles[a.owner.sub] == "member" and roles[a.admin.sub] == "owner"
    async with db.as_user(a.admin) as conn:  # now the only owner
        await orgs.set_member_role(conn, a.org_id, a.member.sub, "owner")
        # demoting every owner in one statement is caught too
        with pytest.raises(psycopg.errors.CheckViolation):
            async with conn.transaction():
                await conn.execute("update memberships set role = 'admin' where organization_id = %s", (a.org_id,))
    async with db.as_service() as conn:  # the rule holds for trusted paths too
        await orgs.remove_member(conn, a.org_id, a.member.sub)  # one of two owners may go
        with pytest.raises(orgs.LastOwnerError):
            await orgs.remove_member(conn, a.org_id, a.admin.sub)
        # ...but deleting the organisation itself cascades
        await conn.execute("delete from organizations where id = %s", (a.org_id,))
        assert (await (await conn.execute("select count(*) as n from memberships where organization_id = %s", (a.org_id,))).fetchone())["n"] == 0
