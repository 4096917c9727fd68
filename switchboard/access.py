"""Which organisation a signed-in caller acts in, and what it may do there.

The organisation comes from the token (claim `organization_id`, top level or in `app_metadata`)
or from the caller's choice (e.g. the `X-Organization-Id` header), checked against the caller's
memberships. An organisation the caller does not belong to is reported as not found, so its
existence does not leak. Scopes come from the membership role (member: read and write;
admin/owner: also admin:secrets), narrowed by a `scopes`/`scope` claim when the token carries
one (API tokens may be narrower than their user). RLS remains the final guard.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from psycopg import AsyncConnection
from pydantic import BaseModel, ConfigDict

from switchboard.auth import issue_token, sign_in, verify_token
from switchboard.db import Database
from switchboard.errors import FieldError, Forbidden, InvalidInput, NotFound
from switchboard.models import ApiToken
from switchboard.tenancy import Claims

Scope = Literal["read", "write", "admin:secrets"]
Role = Literal["owner", "admin", "member"]
ALL_SCOPES: frozenset[str] = frozenset({"read", "write", "admin:secrets"})
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "member": frozenset({"read", "write"}),
    "admin": ALL_SCOPES,
    "owner": ALL_SCOPES,
}
# Earlier route policies named the same rights livekit:read / livekit:write.
SCOPE_ALIASES = {"livekit:read": "read", "livekit:write": "write"}


class Access(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: UUID
    organization_id: UUID
    role: Role
    scopes: frozenset[str]

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"this needs the '{scope}' scope; yours: {', '.join(sorted(self.scopes)) or 'none'}")


def claimed_organization(claims: Claims) -> UUID | None:
    extra = claims.model_extra or {}
    raw = extra.get("organization_id") or claims.app_metadata.get("organization_id")
    if raw in (None, ""):
        return None
    try:
        return UUID(str(raw))
    except ValueError:
        raise InvalidInput(FieldError("token.organization_id", "is not a UUID")) from None


def token_scopes(claims: Claims) -> frozenset[str] | None:
    """The scopes the token itself is limited to, or None when it carries no limit."""
    extra = claims.model_extra or {}
    raw = extra.get("scopes", extra.get("scope"))
    if raw is None:
        return None
    items = raw.split() if isinstance(raw, str) else list(raw)
    return frozenset(SCOPE_ALIASES.get(str(s), str(s)) for s in items)


def scopes_for(role: str, claims: Claims) -> frozenset[str]:
    granted = ROLE_SCOPES.get(role, frozenset())
    limit = token_scopes(claims)
    return granted if limit is None else granted & limit


async def resolve_access(conn: AsyncConnection, claims: Claims, requested: UUID | None = None) -> Access:
    """The caller's organisation, role and scopes. `conn` runs as the user (RLS shows only the
    caller's own organisations' memberships)."""
    pinned = claimed_organization(claims)
    if pinned is not None and requested is not None and pinned != requested:
        raise NotFound("organization not found")
    org = requested or pinned
    if org is None:
        rows = await (
            await conn.execute(
                "select organization_id, role::text as role from public.memberships "
                "where user_id = auth.uid() order by created_at, organization_id limit 2"
            )
        ).fetchall()
        if not rows:
            raise NotFound("you belong to no organization")
        if len(rows) > 1:
            raise InvalidInput(FieldError("X-Organization-Id", "you belong to several organizations: name one"))
        org, role = rows[0]["organization_id"], rows[0]["role"]
    else:
        row = await (
            await conn.execute(
                "select role::text as role from public.memberships where organization_id = %s and user_id = auth.uid()",
                (org,),
            )
        ).fetchone()
        if row is None:
            raise NotFound("organization not found")
        role = row["role"]
    return Access(user_id=claims.user_id, organization_id=org, role=role, scopes=scopes_for(role, claims))


async def issue_api_token(db: Database, email: str, password: str, *, scopes: list[str] | None = None,
                          organization_id: UUID | None = None, client: str | None = None) -> ApiToken:
    """Sign in (locally or through Supabase Auth) and hand back an access token for scripts,
    optionally pinned to one organisation and narrowed to some scopes (never widened: at use,
    the scopes are still the membership role's, intersected with these)."""
    unknown = sorted(set(scopes or []) - ALL_SCOPES - set(SCOPE_ALIASES))
    if unknown:
        raise InvalidInput(FieldError("scopes", f"unknown scope(s): {', '.join(unknown)} (known: read, write, admin:secrets)"))
    session = await sign_in(db, email, password, client=client)  # rate-limited per account and address
    extra: dict[str, object] = {}
    if organization_id is not None:
        async with db.as_user(session.claims) as conn:
            await resolve_access(conn, session.claims, organization_id)  # a member, or not found
        extra["organization_id"] = str(organization_id)
    if scopes is not None:
        extra["scopes"] = sorted({SCOPE_ALIASES.get(s, s) for s in scopes})
    token = issue_token(session.user_id, session.email, extra=extra) if extra else session.access_token
    claims = verify_token(token)
    return ApiToken(access_token=token, expires_at=claims.exp or session.expires_at, user_id=session.user_id,
                    organization_id=organization_id, scopes=extra.get("scopes"))
