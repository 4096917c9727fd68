"""Invitations: an admin or owner invites an e-mail address with a role; the person who signs
up (or in) with that address and opens the link joins the organisation with that role.

Invariants (the database holds them; this module puts them in words):

- The link carries a token `<invitation id, 32 hex>.<secret>`; the secret is 32 random bytes
  (`secrets.token_urlsafe`, 256 bits). Only sha256(secret) is stored, and it is compared in
  constant time (`hmac.compare_digest` here, a full-length XOR in `public.accept_invitation`):
  the row is found by its id, never by the secret.
- Single use, expiring (7 days unless told otherwise, at most 30), revocable. Inviting an address
  that has a pending invitation replaces it (the old link stops working).
- Role rules are the memberships' rules: admins and owners invite; only owners invite (or
  revoke the invitation of) an owner; plain members cannot invite. Row-level security enforces
  them; this module checks first only to say why.
- Accepting runs as the invitee (`db.as_user`) through the one security definer function
  `public.accept_invitation(text)`: it locks the invitation row, checks it, checks that the
  caller's own confirmed e-mail is the invited one (case-insensitive), marks it used and inserts
  the membership in one transaction, so two concurrent accepts give one membership.
- `preview` (what the invitation page shows before anyone is signed in) is the one read on the
  trusted path (`db.as_service()`): it needs the whole token and says only what the link is for.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta, timezone
from typing import Literal
from uuid import UUID, uuid4

import psycopg
from psycopg import AsyncConnection
from pydantic import BaseModel, Field

from switchboard.db import Database
from switchboard.errors import Conflict, FieldError, Forbidden, Gone, InvalidInput, NotFound, SwitchboardError
from switchboard.models import MemberRole, Row

__all__ = [
    "DEFAULT_TTL", "MAX_TTL", "Invitation", "CreatedInvitation", "Accepted", "Preview", "InvitationError",
    "InvitationInvalid", "InvitationExpired", "InvitationUsed", "InvitationRevoked", "WrongAccount",
    "AlreadyMember", "create_invitation", "list_invitations", "revoke_invitation", "accept_invitation",
    "preview", "link_for", "hash_secret",
]

DEFAULT_TTL = timedelta(days=7)
MAX_TTL = timedelta(days=30)
ROLES: tuple[str, ...] = ("owner", "admin", "member")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TOKEN = re.compile(r"^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$")
_COLUMNS = ("id, organization_id, email, role::text as role, invited_by, created_at, expires_at, "
            "accepted_at, accepted_by, revoked_at, revoked_by")

Status = Literal["pending", "expired", "used", "revoked"]


# --- errors ------------------------------------------------------------------------------------
class InvitationError(SwitchboardError):
    """An invitation cannot be used; the message says why and what to do."""


class InvitationInvalid(InvitationError, NotFound):
    code = "invitation_invalid"


class InvitationExpired(InvitationError, Gone):
    code = "invitation_expired"


class InvitationUsed(InvitationError, Gone):
    code = "invitation_used"


class InvitationRevoked(InvitationError, Gone):
    code = "invitation_revoked"


class WrongAccount(InvitationError, Forbidden):
    code = "invitation_wrong_account"


class AlreadyMember(InvitationError, Conflict):
    code = "already_member"


_BY_HINT: dict[str, type[SwitchboardError]] = {
    "invalid": InvitationInvalid, "expired": InvitationExpired, "used": InvitationUsed,
    "revoked": InvitationRevoked, "wrong_account": WrongAccount, "already_member": AlreadyMember,
    "inviter": InvitationRevoked, "signed_out": Forbidden,
}


# --- models ------------------------------------------------------------------------------------
class Invitation(Row):
    id: UUID
    organization_id: UUID
    email: str
    role: MemberRole
    invited_by: UUID | None = None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def status(self) -> Status:
        if self.revoked_at is not None:
            return "revoked"
        if self.accepted_at is not None:
            return "used"
        return "expired" if self.expires_at <= datetime.now(timezone.utc) else "pending"


class CreatedInvitation(BaseModel):
    """A new invitation and its token: the only moment the token exists outside the link."""

    invitation: Invitation
    token: str = Field(repr=False)  # a credential: kept out of reprs and logs


class Accepted(BaseModel):
    organization_id: UUID
    organization_name: str
    role: MemberRole


class Preview(BaseModel):
    """What the link is for, shown to whoever holds the whole token."""

    organization_name: str
    email: str
    role: MemberRole
    expires_at: datetime
    status: Status


# --- tokens ------------------------------------------------------------------------------------
def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _new_token(invitation_id: UUID) -> tuple[str, bytes]:
    secret = secrets.token_urlsafe(32)  # 32 random bytes: 43 base64url characters
    return f"{invitation_id.hex}.{secret}", hash_secret(secret)


def _parse(token: str) -> tuple[UUID, str]:
    m = _TOKEN.match((token or "").strip())
    if not m:
        raise InvitationInvalid("this invitation link is not valid: check that it was copied whole")
    return UUID(m.group(1)), m.group(2)


def link_for(base_url: str, token: str) -> str:
    """The invitation page's address in the admin app."""
    return f"{base_url.rstrip('/')}/invite/{token}"


# --- the admin's side --------------------------------------------------------------------------
def _check(email: str, role: str) -> str:
    email = (email or "").strip().lower()
    errors = []
    if not _EMAIL.match(email) or len(email) > 255:
        errors.append(FieldError("email", "enter a valid e-mail address"))
    if role not in ROLES:
        errors.append(FieldError("role", f"must be one of {', '.join(ROLES)}"))
    if errors:
        raise InvalidInput(errors)
    return email


async def _my_role(conn: AsyncConnection, organization_id: UUID) -> str | None:
    cur = await conn.execute(
        "select role::text as role from public.memberships where organization_id = %s and user_id = auth.uid()",
        (organization_id,),
    )
    row = await cur.fetchone()
    return row["role"] if row else None


def _may_grant(my_role: str | None, role: str) -> None:
    if my_role is None:
        raise NotFound("organization not found")
    if my_role == "member":
        raise Forbidden("only admins and owners may invite people to this organisation")
    if role == "owner" and my_role != "owner":
        raise Forbidden("only an owner may invite an owner")


async def create_invitation(conn: AsyncConnection, organization_id: UUID, email: str, role: str = "member", *,
                            ttl: timedelta = DEFAULT_TTL) -> CreatedInvitation:
    """Invite `email` as `role`, as the caller (`conn` from `db.as_user`). A pending invitation
    for the same address is replaced. The token is returned once and never stored."""
    email = _check(email, role)
    if not timedelta(minutes=1) <= ttl <= MAX_TTL:
        raise InvalidInput(FieldError("expires_in", f"between 1 minute and {MAX_TTL.days} days"))
    _may_grant(await _my_role(conn, organization_id), role)
    cur = await conn.execute("select 1 from public.organization_members(%s) where lower(email) = %s",
                             (organization_id, email))
    if await cur.fetchone():
        raise AlreadyMember(f"{email} is already a member of this organisation")
    invitation_id = uuid4()
    token, digest = _new_token(invitation_id)
    try:
        async with conn.transaction():
            await conn.execute(
                "update public.invitations set revoked_at = now(), revoked_by = auth.uid() "
                "where organization_id = %s and email = %s and accepted_at is null and revoked_at is null",
                (organization_id, email),
            )
            cur = await conn.execute(
                "insert into public.invitations (id, organization_id, email, role, token_hash, invited_by, expires_at) "
                f"values (%s, %s, %s, %s, %s, auth.uid(), now() + %s) returning {_COLUMNS}",
                (invitation_id, organization_id, email, role, digest, ttl),
            )
            row = await cur.fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"{email} has a pending invitation as owner that only an owner may replace") from None
    except psycopg.errors.InsufficientPrivilege:
        raise Forbidden("only admins and owners may invite, and only owners invite owners") from None
    return CreatedInvitation(invitation=Invitation.model_validate(row), token=token)


async def list_invitations(conn: AsyncConnection, organization_id: UUID, *, pending_only: bool = True) -> list[Invitation]:
    """The organisation's invitations (members see them; RLS shows no other organisation's),
    newest first; by default only those still pending."""
    where = " and accepted_at is null and revoked_at is null and expires_at > now()" if pending_only else ""
    cur = await conn.execute(
        f"select {_COLUMNS} from public.invitations where organization_id = %s{where} order by created_at desc, id",
        (organization_id,),
    )
    return [Invitation.model_validate(r) for r in await cur.fetchall()]


async def revoke_invitation(conn: AsyncConnection, organization_id: UUID, invitation_id: UUID) -> Invitation:
    """Revoke a pending invitation: its link stops working at once."""
    mine = await _my_role(conn, organization_id)
    _may_grant(mine, "member")  # plain members revoke nothing
    cur = await conn.execute(f"select {_COLUMNS} from public.invitations where organization_id = %s and id = %s",
                             (organization_id, invitation_id))
    row = await cur.fetchone()
    if row is None:
        raise NotFound("invitation not found")
    current = Invitation.model_validate(row)
    if current.accepted_at is not None:
        raise Conflict("this invitation has already been used: remove the member instead")
    if current.revoked_at is not None:
        raise Conflict("this invitation was already revoked")
    _may_grant(mine, current.role)
    cur = await conn.execute(
        "update public.invitations set revoked_at = now(), revoked_by = auth.uid() "
        f"where organization_id = %s and id = %s and accepted_at is null and revoked_at is null returning {_COLUMNS}",
        (organization_id, invitation_id),
    )
    row = await cur.fetchone()
    if row is None:  # accepted or revoked meanwhile, or RLS refused
        raise Conflict("this invitation changed meanwhile: reload the list")
    return Invitation.model_validate(row)


# --- the invitee's side ------------------------------------------------------------------------
async def accept_invitation(conn: AsyncConnection, token: str) -> Accepted:
    """Join the organisation as the signed-in caller (`conn` from `db.as_user`)."""
    _parse(token)
    try:
        async with conn.transaction():
            cur = await conn.execute(
                "select organization_id, organization_name, role::text as role from public.accept_invitation(%s)",
                (token.strip(),),
            )
            row = await cur.fetchone()
    except (psycopg.errors.RaiseException, psycopg.errors.InsufficientPrivilege) as exc:
        kind = _BY_HINT.get(exc.diag.message_hint or "", InvitationInvalid)
        raise kind(exc.diag.message_primary or "this invitation cannot be used") from None
    except psycopg.errors.UniqueViolation:  # added as a member by someone else meanwhile
        raise AlreadyMember("you are already a member of this organisation") from None
    return Accepted.model_validate(row)


async def preview(db: Database, token: str) -> Preview:
    """What the invitation is for (organisation, address, role, state), for the invitation page
    before sign-in. Needs the whole token; a wrong one is told nothing more than 'not valid'."""
    invitation_id, secret = _parse(token)
    async with db.as_service() as conn:
        cur = await conn.execute(
            "select i.id, i.organization_id, i.email, i.role::text as role, i.created_at, i.expires_at, "
            "i.accepted_at, i.revoked_at, i.token_hash, o.name as organization_name "
            "from public.invitations i join public.organizations o on o.id = i.organization_id where i.id = %s",
            (invitation_id,),
        )
        row = await cur.fetchone()
    given = hash_secret(secret)
    if row is None or not hmac.compare_digest(bytes(row["token_hash"]), given):
        raise InvitationInvalid("this invitation link is not valid: check that it was copied whole")
    inv = Invitation.model_validate(row)
    return Preview(organization_name=row["organization_name"], email=inv.email, role=inv.role,
                   expires_at=inv.expires_at, status=inv.status)
