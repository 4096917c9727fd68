"""Calls and what each cost: a filtered, keyset-paginated list that stays fast at millions of
rows (it walks the index `call_records (organization_id, started_at desc, id)`), its count
(exact up to COUNT_CAP, then "COUNT_CAP+"), its CSV export (streamed, keyset page by page), a
free-text search (a number, our call id or the platform's, transcript words: see the
call-search migration for the indexes and why the word search goes through a security-definer
function), and one call with its usage.

Every function takes a connection opened as the caller (`db.as_user(claims)`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

import psycopg
from psycopg import AsyncConnection

from switchboard.errors import FieldError, InvalidInput, NotFound
from switchboard.ingest import LATENCY_COLUMNS, latency_from_columns
from switchboard.models import CallCost, CallDetail, CallFilters, CallSummary, Page
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


COUNT_CAP = 10_000  # counts stop here ("10,000+ calls"): the cost of a count stays bounded
COUNT_BUDGET_MS = 1_000
# Transcript matches taken from the GIN index before walking the newest calls instead: a probe
# costs up to WORD_MATCH_CAP heap reads, a walk about 25 / (the word's share of calls) rows; for
# 1,000,000 calls the two balance near 5,000.
WORD_MATCH_CAP = 5_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


async def _search_sql(conn: AsyncConnection, organization_id: UUID, q: str,
                      notes: dict[str, Any] | None = None) -> tuple[str, list[Any]] | None:
    """One condition for what was typed in the search box: any of our call id, the platform's
    call id, a number (as the number filter) or the transcript's words."""
    text = " ".join(q.split())
    if not text:
        return None
    if _CONTROL.search(text):
        raise InvalidInput(FieldError("q", "must not contain control characters"))
    parts, args = ["c.provider_call_id = %s"], [text]
    try:
        parts.append("c.id = %s")
        args.append(UUID(text))
    except ValueError:
        parts.pop()
    try:
        low, high = number_range(text)
    except InvalidInput:
        pass
    else:
        parts.append("((c.from_number_reversed >= %s and c.from_number_reversed < %s)"
                     " or (c.to_number_reversed >= %s and c.to_number_reversed < %s))")
        args += [low, high, low, high]
    if re.search(r"\w", text):
        rows = await (await conn.execute(
            "select private.call_transcript_matches(%s, %s, %s) as id", (organization_id, text, WORD_MATCH_CAP + 1),
        )).fetchall()
        if len(rows) <= WORD_MATCH_CAP:
            if rows:
                parts.append("c.id = any(%s)")
                args.append([r["id"] for r in rows])
        else:  # a word said in very many calls: a short walk of the newest calls finds a page
            if notes is not None:
                notes["word_walk"] = True
            parts.append("c.transcript_tsv @@ websearch_to_tsquery('simple'::regconfig, %s)")
            args.append(text)
    return "(" + " or ".join(parts) + ")", args


async def _filter_sql(conn: AsyncConnection, f: CallFilters, organization_id: UUID | None = None,
                      notes: dict[str, Any] | None = None) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if organization_id is not None:
        where.append("c.organization_id = %s")
        args.append(organization_id)
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
    if f.q and organization_id is not None:
        search = await _search_sql(conn, organization_id, f.q, notes)
        if search is not None:
            where.append(search[0])
            args += search[1]
    return where, args


async def list_calls(conn: AsyncConnection, organization_id: UUID, filters: CallFilters | None = None, *,
                     limit: int = 50, cursor: str | None = None) -> Page[CallSummary]:
    """Newest first (calls not yet started first of all), `limit` per page (at most 200)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(FieldError("limit", f"must be between 1 and {MAX_LIMIT}"))
    where, args = await _filter_sql(conn, filters or CallFilters(), organization_id)
    return await _page(conn, where, args, cursor, limit)


def _after(cursor: str) -> tuple[str, list[Any]]:
    started, last_id = decode_cursor(cursor, 2)
    try:
        last = UUID(last_id or "")
        started_at = datetime.fromisoformat(started) if started is not None else None
    except ValueError:
        raise bad_cursor() from None
    if started_at is None:
        # Rows without a start time come first (the index's `desc` puts nulls first), by id.
        return "(c.started_at is not null or c.id > %s)", [last]
    return "c.started_at <= %s and (c.started_at < %s or c.id > %s)", [started_at, started_at, last]


async def _page(conn: AsyncConnection, where: list[str], args: list[Any], cursor: str | None,
                limit: int) -> Page[CallSummary]:
    rows = await _page_rows(conn, where, args, cursor, limit)
    items = [CallSummary.model_validate(r) for r in rows[:limit]]
    nxt = encode_cursor(rows[limit - 1]["started_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return Page[CallSummary](items=items, next_cursor=nxt)


async def _page_rows(conn: AsyncConnection, where: list[str], args: list[Any], cursor: str | None,
                     limit: int) -> list[dict[str, Any]]:
    """Up to limit + 1 rows (the extra one says whether a next page exists)."""
    where, args = list(where), list(args)
    if cursor:
        cond, more = _after(cursor)
        where.append(cond)
        args += more
    # The page is chosen from call_records alone (an ordered index walk that stops at the
    # limit); only its rows are then joined to their platform and usage.
    rows = await (await conn.execute(
        f"""
        select {_SUMMARY_COLUMNS}
        from (select * from public.call_records c where {' and '.join(where)}
              order by c.started_at desc nulls first, c.id limit %s) c
        left join public.voice_ai_providers vp on vp.id = c.provider_id
        left join lateral (select u.cost_amount from public.provider_usage u
                           where u.call_id = c.id and u.organization_id = c.organization_id) u on true
        order by c.started_at desc nulls first, c.id
        """,
        (*args, limit + 1),
    )).fetchall()
    return rows


async def count_calls(conn: AsyncConnection, organization_id: UUID, filters: CallFilters | None = None, *,
                      cap: int = COUNT_CAP, budget_ms: int = COUNT_BUDGET_MS) -> tuple[int | None, bool]:
    """How many calls match, exactly up to `cap`: (n, False), or (cap, True) for "cap or more"
    (a count that stops at the cap is a bounded index walk, whatever the history). A count that
    must test rows one by one (a word said in very many calls, with other filters) may still
    be slow: after `budget_ms` it gives up, (None, True), and the transaction goes on."""
    filters = filters or CallFilters()
    notes: dict[str, Any] = {}
    where, args = await _filter_sql(conn, filters, organization_id, notes)
    if notes.get("word_walk") and not filters.model_dump(exclude_none=True, exclude={"q"}):
        # The index already said: more than WORD_MATCH_CAP calls have these words.
        return min(cap, WORD_MATCH_CAP), True
    row = None
    try:
        # A savepoint: the timeout set in it ends with it, and a count cut short leaves the
        # caller's transaction usable. It is rolled back either way (it wrote nothing).
        async with conn.transaction() as savepoint:
            await conn.execute("select set_config('statement_timeout', %s, true)", (str(budget_ms),))
            row = await (await conn.execute(
                f"select count(*) as n from (select 1 from public.call_records c where {' and '.join(where)} limit %s) s",
                (*args, cap + 1),
            )).fetchone()
            raise psycopg.Rollback(savepoint)
    except psycopg.errors.QueryCanceled:
        return None, True
    assert row is not None
    n = int(row["n"])
    return (cap, True) if n > cap else (n, False)


CSV_COLUMNS = ("id", "started_at", "ended_at", "platform", "platform_call_id", "direction", "from_number",
               "to_number", "status", "duration_seconds", "cost_usd", "experiment_arm", "sentiment", "successful",
               "disconnection_reason")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell as text, neutralised against spreadsheet formula injection (OWASP): a cell that
    starts with = + - @ (or a tab / carriage return) gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_lines(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return out.getvalue()


_CSV_FIELDS = ("id", "started_at", "ended_at", "provider", "provider_call_id", "direction", "from_number", "to_number",
               "status", "duration_seconds", "cost_amount", "experiment_arm", "sentiment", "successful",
               "disconnection_reason")


async def export_csv(conn: AsyncConnection, organization_id: UUID, filters: CallFilters | None = None, *,
                     page_size: int = 1000) -> AsyncIterator[str]:
    """The filtered list as CSV, newest first, yielded a keyset page at a time (so 1,000,000
    calls stream in constant memory). Only the organisation's calls (the query names it and
    RLS holds it to the caller's memberships); no transcript, recording URL or metadata."""
    where, args = await _filter_sql(conn, filters or CallFilters(), organization_id)
    yield _csv_lines([list(CSV_COLUMNS)])
    cursor: str | None = None
    while True:
        rows = await _page_rows(conn, where, args, cursor, page_size)
        page = rows[:page_size]
        if page:
            yield _csv_lines([[r[f] for f in _CSV_FIELDS] for r in page])
        if len(rows) <= page_size:
            return
        cursor = encode_cursor(page[-1]["started_at"], page[-1]["id"])


async def get_call(conn: AsyncConnection, organization_id: UUID, call_id: UUID) -> CallDetail:
    row = await (await conn.execute(
        f"""
        select {_SUMMARY_COLUMNS}, c.telephony_call_id, c.transcript, c.transcript_object, c.recording_url,
               c.analysis, c.metadata, c.created_at, c.updated_at, u.id as usage_id, u.duration_seconds as usage_duration,
               u.stt_cost, u.llm_cost, u.tts_cost, u.platform_cost, u.telephony_cost, u.currency, u.cost_source,
               u.details, {", ".join("c." + col for col in LATENCY_COLUMNS)}
        {_FROM} where c.organization_id = %s and c.id = %s
        """,
        (organization_id, call_id),
    )).fetchone()
    if row is None:
        raise NotFound("call not found")
    usage = None
    if row["usage_id"] is not None:
        usage = CallCost.model_validate({**row, "duration_seconds": row["usage_duration"]})
    return CallDetail.model_validate({**row, "usage": usage, "latency": latency_from_columns(row)})
