"""Organisations and memberships. Every function runs on the caller's connection, normally
`db.as_user(claims)`: RLS and the membership rules in the database (only owners grant
ownership, an organisation keeps at least one owner) decide what succeeds."""

from __future__ import annotations

from uuid import UUID

import psycopg
from psycopg import AsyncConnection

from switchboard.models import Membership, MemberRole, Organization, OrganizationWithRole
from switchboard.errors import Conflict

_ROLES = ("owner", "admin", "member")


class MembershipError(Conflict, ValueError):
    """A membership change that cannot be made; the message says why."""


class LastOwnerError(MembershipError):
    pass


def _check_role(role: str) -> None:
    if role not in _ROLES:
        raise MembershipError(f"role must be one of {', '.join(_ROLES)}, not {role!r}")


async def _run(conn: AsyncConnection, sql: str, params: tuple) -> list[dict]:
    """Execute in a savepoint and turn the database's refusals into clear errors."""
    try:
        async with conn.transaction():
            cur = await conn.execute(sql, params)
            return await cur.fetchall() if cur.description else []
    except psycopg.errors.CheckViolation as exc:
        if "owner" in (exc.diag.message_primary or ""):
            raise LastOwnerError(exc.diag.message_primary) from None
        raise MembershipError(exc.diag.message_primary or str(exc)) from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise PermissionError(exc.diag.message_primary or "not allowed") from None
    except (psycopg.errors.NoDataFound, psycopg.errors.UniqueViolation) as exc:
        raise MembershipError(exc.diag.message_primary or str(exc)) from None


async def create_organization(conn: AsyncConnection, name: str) -> Organization:
    """A new organisation with the caller as its owner."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        raise MembershipError("an organisation name has 1 to 200 characters")
    rows = await _run(conn, "select public.create_organization(%s) as id", (name,))
    org_id = rows[0]["id"]
    cur = await conn.execute("select * from public.organizations where id = %s", (org_id,))
    return Organization.model_validate(await cur.fetchone())


async def get_organization(conn: AsyncConnection, organization_id: UUID) -> Organization | None:
    cur = await conn.execute("select * from public.organizations where id = %s", (organization_id,))
    row = await cur.fetchone()
    return Organization.model_validate(row) if row else None


async def list_my_organizations(conn: AsyncConnection) -> list[OrganizationWithRole]:
    cur = await conn.execute(
        """
        select o.*, m.role::text as role
        from public.organizations o join public.memberships m on m.organization_id = o.id
        where m.user_id = auth.uid()
        order by o.name, o.created_at
        """
    )
    return [OrganizationWithRole.model_validate(r) for r in await cur.fetchall()]


async def rename_organization(conn: AsyncConnection, organization_id: UUID, name: str) -> Organization:
    name = (name or "").strip()
    if not 1 <= len(name) <= 200:
        raise MembershipError("an organisation name has 1 to 200 characters")
    rows = await _run(conn, "update public.organizations set name = %s where id = %s returning *", (name, organization_id))
    if not rows:
        raise PermissionError("only admins and owners may rename this organisation")
    return Organization.model_validate(rows[0])


async def list_members(conn: AsyncConnection, organization_id: UUID) -> list[Membership]:
    cur = await conn.execute(
        "select %s::uuid as organization_id, user_id, email, role::text as role, created_at "
        "from public.organization_members(%s)",
        (organization_id, organization_id),
    )
    return [Membership.model_validate(r) for r in await cur.fetchall()]


async def add_member(conn: AsyncConnection, organization_id: UUID, email: str, role: MemberRole = "member") -> Membership:
    """Add an existing user (by e-mail) to the organisation."""
    _check_role(role)
    rows = await _run(conn, "select public.add_organization_member(%s, %s, %s) as user_id", (organization_id, email, role))
    return await _member(conn, organization_id, rows[0]["user_id"])


async def set_member_role(conn: AsyncConnection, organization_id: UUID, user_id: UUID, role: MemberRole) -> Membership:
    _check_role(role)
    rows = await _run(
        conn,
        "update public.memberships set role = %s where organization_id = %s and user_id = %s returning user_id",
        (role, organization_id, user_id),
    )
    if not rows:
        raise PermissionError("no such member, or only admins and owners may change roles in this organisation")
    return await _member(conn, organization_id, user_id)


async def remove_member(conn: AsyncConnection, organization_id: UUID, user_id: UUID) -> None:
    rows = await _run(
        conn,
        "delete from public.memberships where organization_id = %s and user_id = %s returning user_id",
        (organization_id, user_id),
    )
    if not rows:
        raise PermissionError("no such member, or only admins and owners may remove members of this organisation")


async def _member(conn: AsyncConnection, organization_id: UUID, user_id: UUID) -> Membership:
    for m in await list_members(conn, organization_id):
        if m.user_id == user_id:
            return m
    raise MembershipError(f"user {user_id} is not a member of organisation {organization_id}")
