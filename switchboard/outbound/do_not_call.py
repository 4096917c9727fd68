"""The organisation's do-not-call list: numbers no outbound call may dial. Every function takes a
connection opened as the caller (`db.as_user(claims)`): RLS keeps each list to its organisation."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from psycopg import AsyncConnection
from pydantic import BaseModel

from switchboard.errors import PHONE_RULE, FieldError, InvalidInput, NotFound
from switchboard.onboarding import E164

MAX_REASON = 500


class DoNotCallEntry(BaseModel):
    id: UUID
    e164: str
    reason: str | None = None
    added_by: UUID | None = None
    created_at: datetime


def checked_number(value: str, field: str) -> str:
    """`value` as an E.164 number, or a refusal naming `field` in words."""
    number = (value or "").strip()
    if not E164.match(number):
        raise InvalidInput(FieldError(field, PHONE_RULE))
    return number


_COLUMNS = "id, e164, reason, added_by, created_at"


async def list_numbers(conn: AsyncConnection, organization_id: UUID) -> list[DoNotCallEntry]:
    rows = await (await conn.execute(
        f"select {_COLUMNS} from public.do_not_call_numbers where organization_id = %s order by e164",
        (organization_id,))).fetchall()
    return [DoNotCallEntry.model_validate(r) for r in rows]


async def add_number(conn: AsyncConnection, organization_id: UUID, user_id: UUID, e164: str,
                     reason: str | None = None) -> DoNotCallEntry:
    """Add `e164` to the list; adding a number already there answers the existing entry."""
    number = checked_number(e164, "e164")
    if reason is not None and len(reason) > MAX_REASON:
        raise InvalidInput(FieldError("reason", f"at most {MAX_REASON} characters (this one has {len(reason):,})"))
    row = await (await conn.execute(
        f"""insert into public.do_not_call_numbers (organization_id, e164, reason, added_by) values (%s, %s, %s, %s)
            on conflict (organization_id, e164) do nothing returning {_COLUMNS}""",
        (organization_id, number, reason or None, user_id))).fetchone()
    if row is None:
        row = await (await conn.execute(
            f"select {_COLUMNS} from public.do_not_call_numbers where organization_id = %s and e164 = %s",
            (organization_id, number))).fetchone()
    return DoNotCallEntry.model_validate(row)


async def remove_number(conn: AsyncConnection, organization_id: UUID, e164: str) -> None:
    number = checked_number(e164, "e164")
    row = await (await conn.execute(
        "delete from public.do_not_call_numbers where organization_id = %s and e164 = %s returning id",
        (organization_id, number))).fetchone()
    if row is None:
        raise NotFound(f"{number} is not on the do-not-call list")


async def is_listed(conn: AsyncConnection, organization_id: UUID, e164: str) -> bool:
    row = await (await conn.execute(
        "select 1 from public.do_not_call_numbers where organization_id = %s and e164 = %s",
        (organization_id, e164))).fetchone()
    return row is not None
