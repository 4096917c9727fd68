"""Calls and what each cost: a filtered, keyset-paginated list that stays fast at millions of
rows (it walks the index `call_records (organization_id, started_at desc, id)`), and one call
with its usage.

Every function takes a connection opened as the caller (`db.as_user(claims)`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from switchboard.errors import FieldError, InvalidInput, NotFound
from switchboard.models import CallDetail, CallFilters, CallSummary, CallUsage, Page
from switchboard.pagination import MAX_LIMIT, bad_cursor, decode_cursor, encode_cursor

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_SUMMARY_COLUMNS = """
    c.id, c.agent_config_id as agent_id, vp.code as provider, c.provider_call_id, c.direction, c.from_number,
    c.to_number, c.status, c.started_at, c.ended_at, c.duration_seconds, c.experiment_arm, c.sentiment,
    c.successful, c.disconnection_reason, u.cost_amount
"""
_FROM = """
    from public.call_records c
    left join public.voice_ai_providers vp on vp.id = c.provider_id
    left join public.provider_usage u on u.call_id = c.id and u.organization_id = c.organization_id
"""


def number_range(number: str) -> tuple[str, str]:
    """The range of reversed numbers that end with what was typed: a whole +E.164 number
    matches itself; 3 to 15 digits match the end of a number (punctuation ignored)."""
    text = number.strip()
    if _E164.match(text):
        tail = text
    else:
        tail = re.sub(r"[\s().-]", "", text)
        if not re.fullmatch(r"[0-9]{3,15}", tail):
            raise InvalidInput(FieldError("number", "give a whole +E.164 number, or 3 to 15 of its last digits"))
    prefix = tail[::-1]
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


async def _filter_sql(conn: AsyncConnection, f: CallFilters) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if f.provider is not None:
        row = await (await conn.execute("select id from public.voice_ai_providers where code = %s", (f.provider,))).fetchone()
        if row is None:
            known = [r["code"] for r in await (await conn.execute("select code from public.voice_ai_providers order by code")).fetchall()]
            raise InvalidInput(FieldError("provider", f"{f.provider!r} is not a platform (known: {', '.join(known)})"))
        where.append("c.provider_id = %s")
        args.append(row["id"])
    for column, value in (("status", f.status), ("direction", f.direction), ("agent_config_id", f.agent_id),
                          ("experiment_arm", f.arm)):
        if value is not None:
            where.append(f"c.{column} = %s")
            args.append(value)
    if f.started_from is not None:
        where.append("c.started_at >= %s")
        args.append(f.started_from)
    if f.started_to is not None:
        where.append("c.started_at < %s")
        args.append(f.started_to)
    if f.started_from and f.started_to and f.started_from >= f.started_to:
        raise InvalidInput(FieldError("started_to", "must be after started_from"))
    if f.number:
        low, high = number_range(f.number)
        # Either side, each a range on its stored reversed number (see the call-search migration).
        where.append("((c.from_number_reversed >= %s and c.from_number_reversed < %s)"
                     " or (c.to_number_reversed >= %s and c.to_number_reversed < %s))")
        args += [low, high, low, high]
    return where, args


async def list_calls(conn: AsyncConnection, organization_id: UUID, filters: CallFilters | None = None, *,
                     limit: int = 50, cursor: str | None = None) -> Page[CallSummary]:
    """Newest first (calls not yet started first of all), `limit` per page (at most 200)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(FieldError("limit", f"must be between 1 and {MAX_LIMIT}"))
    where, args = await _filter_sql(conn, filters or CallFilters())
    where.insert(0, "c.organization_id = %s")
    args.insert(0, organization_id)
    if cursor:
        started, last_id = decode_cursor(cursor, 2)
        try:
            last = UUID(last_id or "")
            started_at = datetime.fromisoformat(started) if started is not None else None
        except ValueError:
            raise bad_cursor() from None
        if started_at is None:
            # Rows without a start time come first (the index's `desc` puts nulls first), by id.
            where.append("(c.started_at is not null or c.id > %s)")
            args.append(last)
        else:
            where.append("c.started_at <= %s and (c.started_at < %s or c.id > %s)")
            args += [started_at, started_at, last]
    # The page is chosen from call_records alone (an ordered index walk that stops at the
    # limit); only its rows are then joined to their platform and usage.
    rows = await (await conn.execute(
        f"""
        select {_SUMMARY_COLUMNS}
        from (select * from public.call_records c where {' and '.join(where)}
              order by c.started_at desc nulls first, c.id limit %s) c
        left join public.voice_ai_providers vp on vp.id = c.provider_id
        left join public.provider_usage u on u.call_id = c.id and u.organization_id = c.organization_id
        order by c.started_at desc nulls first, c.id
        """,
        (*args, limit + 1),
    )).fetchall()
    items = [CallSummary.model_validate(r) for r in rows[:limit]]
    nxt = encode_cursor(rows[limit - 1]["started_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return Page[CallSummary](items=items, next_cursor=nxt)


async def get_call(conn: AsyncConnection, organization_id: UUID, call_id: UUID) -> CallDetail:
    row = await (await conn.execute(
        f"""
        select {_SUMMARY_COLUMNS}, c.telephony_call_id, c.transcript, c.transcript_object, c.recording_url,
               c.analysis, c.metadata, c.created_at, c.updated_at, u.id as usage_id, u.duration_seconds as usage_duration,
               u.stt_cost, u.llm_cost, u.tts_cost, u.platform_cost, u.telephony_cost, u.currency, u.cost_source,
               u.details
        {_FROM} where c.organization_id = %s and c.id = %s
        """,
        (organization_id, call_id),
    )).fetchone()
    if row is None:
        raise NotFound("call not found")
    usage = None
    if row["usage_id"] is not None:
        usage = CallUsage.model_validate({**row, "duration_seconds": row["usage_duration"]})
    return CallDetail.model_validate({**row, "usage": usage})
