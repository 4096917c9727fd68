"""Who a piece of work runs as. The database enforces tenant isolation (RLS); this module only
describes the caller, exactly as PostgREST hands it to Postgres (`request.jwt.claims`)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from switchboard.errors import Unauthenticated


class AuthError(Unauthenticated):
    """Sign-up, sign-in or token verification failed, or the token's user may no longer act;
    the message says why (never a password or a token). Re-exported as `switchboard.auth.AuthError`."""


class Claims(BaseModel):
    """Supabase's JWT claims. Extra claims are kept (e.g. `scopes`)."""

    model_config = ConfigDict(extra="allow")

    sub: UUID | None = None
    role: Literal["anon", "authenticated", "service_role"] = "authenticated"
    email: str | None = None
    aud: str = "authenticated"
    exp: int | None = None
    iat: int | None = None
    app_metadata: dict[str, Any] = {}
    user_metadata: dict[str, Any] = {}

    @property
    def user_id(self) -> UUID:
        if self.sub is None:
            raise PermissionError("no signed-in user")
        return self.sub

    def as_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


SERVICE_CLAIMS = Claims(role="service_role", aud="service_role")
ANON_CLAIMS = Claims(role="anon", aud="anon")
