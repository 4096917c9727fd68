"""Who is calling and through which database: the bearer token is verified here; the
organisation, role and scopes are resolved in the caller's own transaction (`db.as_user`), so
RLS stays the final guard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection

from edge_functions.api.errors import Unauthorized
from switchboard.access import Access, Scope, resolve_access
from switchboard.auth import verify_token
from switchboard.db import Database
from switchboard.health import CircuitBreaker
from switchboard.platforms import PlatformSource
from switchboard.tenancy import Claims

bearer = HTTPBearer(
    auto_error=False, scheme_name="bearer", bearerFormat="JWT",
    description="A Supabase access token (HS256, the project's JWT secret). Scopes read / write / "
                "admin:secrets follow the membership role (member: read, write; admin, owner: all), "
                "narrowed by the token's `scopes` claim when present.",
)


def get_database(request: Request) -> Database:
    """The app's open `switchboard.db.Database`: the edge server's runtime's, or `app.state.db`
    on a bare app (tests, `edge_functions.api.testapp`)."""
    state = request.app.state
    runtime = getattr(state, "runtime", None)
    return runtime.db if runtime is not None else state.db


@dataclass
class Caller:
    db: Database
    claims: Claims
    organization_id: UUID | None

    @asynccontextmanager
    async def session(self, scope: Scope) -> AsyncIterator[tuple[AsyncConnection, Access]]:
        """One transaction as the caller, in the organisation they act in, with `scope` checked."""
        async with self.db.as_user(self.claims) as conn:
            access = await resolve_access(conn, self.claims, self.organization_id)
            access.require(scope)
            yield conn, access


async def caller(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    # Typed `UUID` (not `UUID | None`): the document says a uuid string, since an HTTP header is
    # either absent or a string — never null. Absent stays None.
    x_organization_id: UUID = Header(  # type: ignore[assignment]
        None, description="the organisation to act in, when the token does not name one (checked against membership)"
    ),
    db: Database = Depends(get_database),
) -> Caller:
    if credentials is None:
        raise Unauthorized("send Authorization: Bearer <access token>")
    claims = verify_token(credentials.credentials)
    if claims.role != "authenticated" or claims.sub is None:
        raise Unauthorized("this API takes a signed-in user's token")
    return Caller(db, claims, x_organization_id)


def platform_services(request: Request) -> tuple[PlatformSource, CircuitBreaker]:
    """The platform adapters (`switchboard.platforms.PlatformSource`) and the circuits: the edge
    server's runtime's, or (on a bare app) a pair made once per app over its database."""
    state = request.app.state
    runtime = getattr(state, "runtime", None)
    if runtime is not None:
        return runtime.providers, runtime.breaker
    services = getattr(state, "platform_services", None)
    if services is None:
        from switchboard.settings import get_settings

        db = get_database(request)
        services = state.platform_services = (PlatformSource(db, get_settings()), CircuitBreaker(db))
    return services


def get_platforms(request: Request) -> PlatformSource:
    """The platform adapters alone (conversations, web calls)."""
    return platform_services(request)[0]
