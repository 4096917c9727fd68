"""Pydantic models returned by the core's repository functions. One section per area; rows
come from psycopg's dict_row, so field names follow the columns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from switchboard.tenancy import Claims

MemberRole = Literal["owner", "admin", "member"]


class Row(BaseModel):
    """A database row: unknown columns are ignored, so adding a column breaks no reader."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)


# --- tenancy and auth -----------------------------------------------------------------------
class Organization(Row):
    id: UUID
    name: str
    created_by: UUID | None = None
    created_at: datetime
    updated_at: datetime


class OrganizationWithRole(Organization):
    role: MemberRole


class Membership(Row):
    organization_id: UUID
    user_id: UUID
    email: str | None = None
    role: MemberRole
    created_at: datetime


class AuthSession(BaseModel):
    """What a successful sign-up or sign-in gives the caller (Supabase's session, trimmed)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    user_id: UUID
    email: str
    expires_at: int  # unix seconds, as Supabase's session.expires_at
    claims: Claims

    def __repr__(self) -> str:  # the token is a credential: keep it out of logs
        return f"AuthSession(user_id={self.user_id}, email={self.email!r}, expires_at={self.expires_at})"

    __str__ = __repr__
