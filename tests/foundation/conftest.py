"""Fixtures of the foundation tests: two organisations with an owner, an admin and a plain
member each, created through the real sign-up and organisation code."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest

from switchboard.db import Database
from switchboard.tenancy import Claims


@dataclass
class Tenant:
    org_id: UUID
    owner: Claims
    admin: Claims
    member: Claims


async def make_user(db: Database, email: str) -> Claims:
    """A GoTrue-shaped auth.users row; claims as a signed-in user would carry."""
    user_id = uuid4()
    async with db.as_owner() as conn:  # auth.users belongs to GoTrue, not to service_role
        await conn.execute(
            "insert into auth.users (id, aud, role, email, created_at, updated_at) "
            "values (%s, 'authenticated', 'authenticated', %s, now(), now())",
            (user_id, email),
        )
    return Claims(sub=user_id, email=email)


async def make_tenant(db: Database, name: str) -> Tenant:
    tag = uuid4().hex[:8]
    owner = await make_user(db, f"owner-{tag}@{name.lower()}.test")
    admin = await make_user(db, f"admin-{tag}@{name.lower()}.test")
    member = await make_user(db, f"member-{tag}@{name.lower()}.test")
    async with db.as_user(owner) as conn:
        org_id = (await (await conn.execute("select public.create_organization(%s) as id", (name,))).fetchone())["id"]
    async with db.as_service() as conn:
        await conn.execute(
            "insert into public.memberships (organization_id, user_id, role) values (%s, %s, 'admin'), (%s, %s, 'member')",
            (org_id, admin.sub, org_id, member.sub),
        )
    return Tenant(org_id, owner, admin, member)


@pytest.fixture
async def tenants(db: Database) -> tuple[Tenant, Tenant]:
    return await make_tenant(db, "Alpha"), await make_tenant(db, "Beta")


def new_key_entry(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"
