"""Access tokens for scripts: sign in with e-mail and password, optionally pinning the token to
one organisation and narrowing its scopes."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from edge_functions.api.deps import get_database
from edge_functions.api.errors import ApiRoute, errors
from switchboard.access import issue_api_token
from switchboard.db import Database
from switchboard.models import ApiToken

router = APIRouter(route_class=ApiRoute, tags=["auth"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=255)
    password: str = Field(min_length=1, max_length=200)
    organization_id: UUID | None = Field(None, description="pin the token to this organisation (you must belong to it)")
    scopes: list[str] | None = Field(None, max_length=3, description="narrow the token to these of read, write, admin:secrets")


@router.post("/auth/token", response_model=ApiToken, responses=errors(401, 404, 422, 429),
             summary="Sign in and get an access token")
async def create_token(body: TokenRequest, request: Request, db: Database = Depends(get_database)) -> ApiToken:
    """No token needed. The token expires like a sign-in session's (JWT_EXPIRY_SECONDS).
    Attempts are limited per account and per client address, shared with the admin app's
    sign-in (429 with Retry-After past them)."""
    client = request.client.host if request.client else None
    return await issue_api_token(db, body.email, body.password, scopes=body.scopes,
                                 organization_id=body.organization_id, client=client)
