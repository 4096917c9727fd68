# Size (over 400 lines): the inbox and the merge into call_records keep one set of invariants, stated once below.
"""The one path from a platform's webhook to `call_records` and `provider_usage`.

Two halves:

* the **inbox** — every accepted webhook is stored raw in `webhook_inbox` (unique per provider
  event, so redeliveries are stored once) before anyone answers 2xx, and later processed
  (pending → processed / failed, with attempts); what cannot be understood goes to
  `webhook_dead_letters` with the reason;
* **ingestion** — `record_call_event` merges one normalised `CallEvent` into the call's row and
  its usage row. It is idempotent and order-independent: events fill fields and never blank
  them, the status only moves forward (registered → ongoing → ended/error/not_connected), times
  take the widest span seen (earliest start, latest end, longest duration), and where two
  events disagree otherwise the later stage of the call wins (analyzed > ended > started), so
  `call_analyzed` before `call_ended` converges to the same row as the natural order.

A call's cost is exactly what its platform reported, or what the price book computes from its
usage (or, without usage, estimates from its duration); when the book cannot price it yet (not
loaded, or a price missing) the usage row is kept *unpriced* — NULL costs, never $0 — and
`reprice_unpriced` prices it once the book can. The inbox's conduction (verify, store, process,
drain) is `switchboard.inbox`.

The daily rollup (`usage_daily`) is kept by a trigger on `provider_usage`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb

from switchboard.db.pool import database_unavailable
from switchboard.spec import LATENCY_PARTS, CallEvent, CallLatency, CostBreakdown
from switchboard.errors import Conflict, Refused

if TYPE_CHECKING:  # ingestion only asks the price book for a call's cost
    from switchboard.billing import PriceBook

log = logging.getLogger(__name__)


class IngestError(Conflict):
    """An event that cannot be recorded as it stands (e.g. no organisation can be found for it)."""


# ---------------------------------------------------------------------------------------------
# Ranks: how far along a call an event or a row is. Later stages win disagreements.
# ---------------------------------------------------------------------------------------------

STATUS_RANK = {"registered": 0, "ongoing": 1, "ended": 2, "error": 2, "not_connected": 2}
EVENT_RANK = {"other": 0, "started": 1, "ended": 2, "analyzed": 3}
# "unpriced": usage kept while its price is unknown (NULL costs, never $0), priced later.
COST_SOURCE_RANK = {"unpriced": -1, "estimated": 0, "computed": 1, "reported": 2}

# Columns an event may fill. Each is overwritten only by an event at least as far along the
# call as the row already is; otherwise it only fills a NULL.
_MERGED_COLUMNS = (
    "agent_config_id",
    "direction",
    "from_number",
    "to_number",
    "started_at",
    "ended_at",
    "duration_seconds",
    "transcript",
    "transcript_object",
    "recording_url",
    "analysis",
    "sentiment",
    "successful",
    "disconnection_reason",
)
# A call's latency (spec.CallLatency), one column per part and percentile: like any column, a
# later stage's report overwrites and an earlier one only fills.
LATENCY_COLUMNS = ("latency_turns",) + tuple(f"latency_{p}_{q}_ms" for p in LATENCY_PARTS for q in ("p50", "p90"))
_JSON_COLUMNS = {"transcript_object", "analysis"}
# least()/greatest() ignore NULLs: the earliest start, the latest end, the longest duration.
_EXTREMES = {"started_at": "least", "ended_at": "greatest", "duration_seconds": "greatest"}

# SQL for "how far along is this row": 3 analysed, 2 finished, 1 ongoing, 0 registered.
_ROW_RANK = (
    "(case when cr.analysis is not null then 3 "
    "when cr.status in ('ended', 'error', 'not_connected') then 2 "
    "when cr.status = 'ongoing' then 1 else 0 end)"
)
_STATUS_RANK_SQL = "(case {col} when 'ongoing' then 1 when 'registered' then 0 else 2 end)"


def _event_values(event: CallEvent) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for col in _MERGED_COLUMNS:
        v = getattr(event, col)
        values[col] = Jsonb(v) if (col in _JSON_COLUMNS and v is not None) else v
    values |= latency_columns(event.latency)
    if values["duration_seconds"] is None and event.started_at and event.ended_at:
        values["duration_seconds"] = max(0, int((event.ended_at - event.started_at).total_seconds()))
    return values


def latency_columns(latency: CallLatency | None) -> dict[str, Any]:
    """`call_records`' latency columns for a call's latency (all None when it has none)."""
    values: dict[str, Any] = dict.fromkeys(LATENCY_COLUMNS)
    if latency is not None:
        values["latency_turns"] = latency.turns
        for part in LATENCY_PARTS:
            stat = getattr(latency, part)
            if stat is not None:
                values[f"latency_{part}_p50_ms"], values[f"latency_{part}_p90_ms"] = stat.p50_ms, stat.p90_ms
    return values


def latency_from_columns(row: Mapping[str, Any]) -> CallLatency | None:
    """The inverse of `latency_columns`: a call_records row's latency, None when it has none."""
    parts = {}
    for part in LATENCY_PARTS:
        p50, p90 = row.get(f"latency_{part}_p50_ms"), row.get(f"latency_{part}_p90_ms")
        if p50 is not None or p90 is not None:
            parts[part] = {"p50_ms": p50, "p90_ms": p90}
    return CallLatency(turns=row.get("latency_turns"), **parts) if parts else None


async def record_call_event(conn: AsyncConnection, event: CallEvent, prices: PriceBook | None = None) -> UUID:
    """Merge `event` into its call record (and the call's usage row); returns the call record id.

    The call is found by (provider, provider call id), else by the `call_record_id` or the
    carrier's `telephony_call_id` we attached at hand-off. Run it inside the caller's
    transaction (service role): it uses savepoints to resolve concurrent first inserts.
    """
    for _ in range(4):
        call_id = await _find_call(conn, event)
        if call_id is not None:
            await _merge_into(conn, call_id, event)
            break
        if event.organization_id is None:
            raise IngestError(
                f"{event.provider} call {event.provider_call_id}: no call record to attach it to and no organisation"
            )
        try:
            async with conn.transaction():  # savepoint: a concurrent insert of the same call
                call_id = await _insert(conn, event)
        except UniqueViolation:
            call_id = None
        if call_id is not None:
            break
    else:  # pragma: no cover - four lost races in a row means something else is wrong
        raise IngestError(f"{event.provider} call {event.provider_call_id}: could not settle its call record")
    await _record_usage(conn, call_id, event, prices)
    return call_id


async def _find_call(conn: AsyncConnection, event: CallEvent) -> UUID | None:
    cur = await conn.execute(
        """
        with p as (select id from public.voice_ai_providers where code = %(provider)s)
        select cr.id from public.call_records cr
        where ((cr.provider_id = (select id from p) and cr.provider_call_id = %(provider_call_id)s)
               or cr.id = %(call_record_id)s::uuid
               or cr.telephony_call_id = %(telephony_call_id)s::text)
          -- an event speaking for one organisation never touches another's call
          and (%(organization_id)s::uuid is null or cr.organization_id = %(organization_id)s::uuid)
        -- the platform's own id first, then the id we attached, then the carrier's
        order by (cr.provider_id = (select id from p) and cr.provider_call_id = %(provider_call_id)s) is true desc,
                 (cr.id = %(call_record_id)s::uuid) is true desc
        limit 1
        for update of cr
        """,
        {
            "provider": event.provider,
            "provider_call_id": event.provider_call_id,
            "call_record_id": event.call_record_id,
            "telephony_call_id": event.telephony_call_id,
            "organization_id": event.organization_id,
        },
    )
    row = await cur.fetchone()
    return None if row is None else row["id"]


async def _insert(conn: AsyncConnection, event: CallEvent) -> UUID | None:
    values = _event_values(event)
    cols = [c for c, v in values.items() if v is not None]
    params = {c: values[c] for c in cols}
    params |= {
        "organization_id": event.organization_id,
        "provider": event.provider,
        "provider_call_id": event.provider_call_id,
        "telephony_call_id": event.telephony_call_id,
        "status": event.status or ("ongoing" if event.kind == "started" else "registered"),
        "metadata": Jsonb(event.metadata or {}),
        "id": event.call_record_id,
    }
    col_sql = ", ".join(cols)
    val_sql = ", ".join(_value_sql(c, "%(organization_id)s::uuid", cast=False) for c in cols)
    cur = await conn.execute(
        f"""
        insert into public.call_records
          (id, organization_id, provider_id, provider_call_id, telephony_call_id, status, metadata
           {', ' + col_sql if cols else ''})
        values
          (coalesce(%(id)s, gen_random_uuid()), %(organization_id)s,
           (select id from public.voice_ai_providers where code = %(provider)s),
           %(provider_call_id)s, %(telephony_call_id)s, %(status)s, %(metadata)s
           {', ' + val_sql if cols else ''})
        on conflict (provider_id, provider_call_id) do nothing
        returning id
        """,
        params,
    )
    row = await cur.fetchone()
    return None if row is None else row["id"]


async def _merge_into(conn: AsyncConnection, call_id: UUID, event: CallEvent) -> None:
    values = _event_values(event)
    rank = EVENT_RANK[event.kind]
    sets = []
    for col in _MERGED_COLUMNS + LATENCY_COLUMNS:
        value = _value_sql(col, "cr.organization_id")
        if col in _EXTREMES:
            # Times and lengths take the widest span any event saw, whatever the order.
            sets.append(f"{col} = {_EXTREMES[col]}(cr.{col}, {value})")
            continue
        # A later stage overwrites; an earlier one only fills what is missing. NULL never blanks.
        sets.append(
            f"{col} = case when {value} is null then cr.{col} "
            f"when %(rank)s >= {_ROW_RANK} or cr.{col} is null then {value} "
            f"else cr.{col} end"
        )
    status_new = _STATUS_RANK_SQL.format(col="%(status)s")
    status_old = _STATUS_RANK_SQL.format(col="cr.status")
    sets += [
        f"status = case when %(status)s::text is not null and {status_new} > {status_old} then %(status)s else cr.status end",
        # Link the platform's call id to a row the router created before the platform issued it.
        "provider_id = case when cr.provider_call_id is null then "
        "(select id from public.voice_ai_providers where code = %(provider)s) else cr.provider_id end",
        "provider_call_id = coalesce(cr.provider_call_id, %(provider_call_id)s)",
        "telephony_call_id = coalesce(cr.telephony_call_id, %(telephony_call_id)s)",
        "metadata = cr.metadata || %(metadata)s",
    ]
    params = values | {
        "rank": rank,
        "status": event.status or ("ongoing" if event.kind == "started" else None),
        "provider": event.provider,
        "provider_call_id": event.provider_call_id,
        "telephony_call_id": event.telephony_call_id,
        "metadata": Jsonb(event.metadata or {}),
        "id": call_id,
    }
    await conn.execute(
        f"update public.call_records cr set {', '.join(sets)} where cr.id = %(id)s",
        params,
    )


_PG_TYPES = {
    "agent_config_id": "uuid",
    "started_at": "timestamptz",
    "ended_at": "timestamptz",
    "duration_seconds": "integer",
    "transcript_object": "jsonb",
    "analysis": "jsonb",
    "successful": "boolean",
    "latency_turns": "integer",
} | {col: "real" for col in LATENCY_COLUMNS[1:]}


def _pg_type(col: str) -> str:
    return _PG_TYPES.get(col, "text")


def _value_sql(col: str, organization: str, *, cast: bool = True) -> str:
    """The SQL for an event's value of `col`. An agent id the event names counts only if it is
    an agent of the call's own organisation (a signed event may carry any id): another's is
    taken as none, so the event still merges instead of failing on the composite foreign key."""
    if col == "agent_config_id":
        return (f"(select a.id from public.agent_configs a where a.id = %(agent_config_id)s::uuid "
                f"and a.organization_id = {organization})")
    return f"%({col})s::{_pg_type(col)}" if cast else f"%({col})s"


# ---------------------------------------------------------------------------------------------
# provider_usage: one row per call
# ---------------------------------------------------------------------------------------------

async def _record_usage(conn: AsyncConnection, call_id: UUID, event: CallEvent, prices: PriceBook | None) -> None:
    cur = await conn.execute(
        """
        select cr.organization_id, cr.provider_id, cr.started_at, cr.ended_at, cr.duration_seconds,
               cr.status, vp.code as provider_code, (pu.id is not null) as has_usage
        from public.call_records cr
        left join public.voice_ai_providers vp on vp.id = cr.provider_id
        left join public.provider_usage pu on pu.call_id = cr.id and pu.organization_id = cr.organization_id
        where cr.id = %s
        """,
        (call_id,),
    )
    call = await cur.fetchone()
    finished = call["status"] in ("ended", "error", "not_connected") or event.kind in ("ended", "analyzed")
    if not (finished or event.cost is not None or call["has_usage"]):
        return  # nothing billable is known yet
    started = call["started_at"] or call["ended_at"] or datetime.now(UTC)
    day = started.astimezone(UTC).date()
    duration = call["duration_seconds"] or 0
    cost = event.cost
    if cost is None and call["provider_code"]:
        # Platforms that report no cost (LiveKit) or only usage: the price book prices it — or,
        # without the price yet, the usage is kept unpriced (NULL costs) and priced later.
        cost = price_call(prices, call["provider_code"], duration, event.usage, day)
    details: dict[str, Any] = {}
    if event.usage:
        details["usage"] = event.usage
    params = {
        "org": call["organization_id"],
        "provider_id": call["provider_id"],
        "call_id": call_id,
        "day": day,
        "duration": duration,
        "has_cost": cost is not None,
        "source": cost.source if cost else "unpriced",
        "source_rank": COST_SOURCE_RANK[cost.source] if cost else -1,
        "total": cost.total if cost else None,
        "stt": cost.stt if cost else None,
        "llm": cost.llm if cost else None,
        "tts": cost.tts if cost else None,
        "platform": cost.platform if cost else None,
        "telephony": cost.telephony if cost else None,
        "details": Jsonb(details),
    }
    # Costs are replaced only by costs from an equally or more authoritative source
    # (reported > computed > estimated > unpriced); the duration, day and provider follow the call
    # row. The WHERE clause skips no-op updates, so a duplicate event does not churn the rollup.
    take = (
        "(%(has_cost)s and %(source_rank)s >= (case pu.cost_source when 'reported' then 2 "
        "when 'computed' then 1 when 'estimated' then 0 else -1 end))"
    )
    await conn.execute(
        f"""
        insert into public.provider_usage as pu
          (organization_id, provider_id, call_id, usage_date, duration_seconds, cost_amount,
           stt_cost, llm_cost, tts_cost, platform_cost, telephony_cost, cost_source, details)
        values (%(org)s, %(provider_id)s, %(call_id)s, %(day)s, %(duration)s, %(total)s,
           %(stt)s, %(llm)s, %(tts)s, %(platform)s, %(telephony)s, %(source)s, %(details)s)
        on conflict (call_id) do update set
          provider_id = excluded.provider_id,
          usage_date = excluded.usage_date,
          duration_seconds = excluded.duration_seconds,
          cost_amount = case when {take} then excluded.cost_amount else pu.cost_amount end,
          stt_cost = case when {take} then excluded.stt_cost else pu.stt_cost end,
          llm_cost = case when {take} then excluded.llm_cost else pu.llm_cost end,
          tts_cost = case when {take} then excluded.tts_cost else pu.tts_cost end,
          platform_cost = case when {take} then excluded.platform_cost else pu.platform_cost end,
          telephony_cost = case when {take} then excluded.telephony_cost else pu.telephony_cost end,
          cost_source = case when {take} then excluded.cost_source else pu.cost_source end,
          details = pu.details || excluded.details
        where (pu.provider_id, pu.usage_date, pu.duration_seconds, pu.details || excluded.details)
              is distinct from (excluded.provider_id, excluded.usage_date, excluded.duration_seconds, pu.details)
           or ({take} and (pu.cost_amount, pu.stt_cost, pu.llm_cost, pu.tts_cost, pu.platform_cost,
                           pu.telephony_cost, pu.cost_source)
               is distinct from (excluded.cost_amount, excluded.stt_cost, excluded.llm_cost,
                                 excluded.tts_cost, excluded.platform_cost, excluded.telephony_cost,
                                 excluded.cost_source))
        """,
        params,
    )


def price_call(prices: PriceBook | None, provider: str, duration_seconds: int, usage: dict[str, Any] | None,
               on: Any) -> CostBreakdown | None:
    """What the price book says a call cost (its usage × prices, else its duration at the
    platform's per-minute prices), or None while that cannot be known: no book yet, or a price
    missing for what the call used. None means *unpriced*, never $0."""
    if prices is None:
        return None
    from switchboard.billing import MissingPrice

    try:
        return prices.cost_for_call(provider, duration_seconds=duration_seconds, usage=usage, on=on)
    except (MissingPrice, ValueError) as exc:  # ValueError: usage we cannot read (pydantic)
        log.warning("%s usage not priced yet: %s", provider, exc)
        return None


async def reprice_unpriced(conn: AsyncConnection, prices: PriceBook, *, batch: int = 500) -> int:
    """Price the usage rows kept unpriced, now that `prices` may know their prices; returns how
    many it priced. Rows it still cannot price stay unpriced (for the next price book). Takes each
    call's row lock as ingestion does (rows another transaction holds are left for next time)."""
    priced, last = 0, None
    while True:
        cur = await conn.execute(
            """
            select pu.id, pu.duration_seconds, pu.usage_date, pu.details, vp.code
            from public.provider_usage pu
            join public.call_records cr on cr.id = pu.call_id
            join public.voice_ai_providers vp on vp.id = pu.provider_id
            where pu.cost_source = 'unpriced' and (%(last)s::uuid is null or pu.id > %(last)s::uuid)
            order by pu.id limit %(batch)s
            for update of cr, pu skip locked
            """,
            {"last": last, "batch": batch},
        )
        rows = await cur.fetchall()
        for row in rows:
            cost = price_call(prices, row["code"], row["duration_seconds"], (row["details"] or {}).get("usage"),
                              row["usage_date"])
            if cost is None:
                continue
            await conn.execute(
                """
                update public.provider_usage set cost_amount = %s, stt_cost = %s, llm_cost = %s, tts_cost = %s,
                  platform_cost = %s, telephony_cost = %s, cost_source = %s, updated_at = now()
                where id = %s and cost_source = 'unpriced'
                """,
                (cost.total, cost.stt, cost.llm, cost.tts, cost.platform, cost.telephony, cost.source, row["id"]),
            )
            priced += 1
        if len(rows) < batch:
            return priced
        last = rows[-1]["id"]


# ---------------------------------------------------------------------------------------------
# The inbox
# ---------------------------------------------------------------------------------------------

# Header names never stored: credentials (bearer tokens, shared secrets, cookies). Signatures are
# kept: they are not secrets, and they let an operator re-verify a stored event.
_CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-vapi-secret", "x-api-key"}
_CREDENTIAL_WORDS = ("secret", "token", "password", "api-key", "apikey", "credential")


def strip_credentials(headers: Mapping[str, str], also: Collection[str] = ()) -> dict[str, str]:
    """The headers worth keeping with a stored event, credentials removed: the usual names, and
    `also` (lower-case: the names the platform's adapter is configured to take credentials in,
    `VoiceAIProvider.credential_headers()`)."""
    kept = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in _CREDENTIAL_HEADERS or lower in also or any(w in lower for w in _CREDENTIAL_WORDS):
            continue
        kept[lower] = value
    return kept


async def _durable(conn: AsyncConnection) -> None:
    # A 2xx promises the event is on disk, whatever the server's default.
    await conn.execute("set local synchronous_commit = on")


@dataclass(frozen=True)
class InboxItem:
    """One verified webhook as it goes into the inbox."""

    provider: str
    event_id: str
    event_type: str | None
    headers: Mapping[str, str]
    body: bytes
    organization_id: UUID | None = None
    provider_call_id: str | None = None


# One statement for the whole batch (the rows travel as one array per column): per row, a
# statement's parse/bind/execute and its psycopg bookkeeping cost more than the insert itself.
_INBOX_INSERT = """
insert into public.webhook_inbox as w
  (provider, event_id, event_type, organization_id, provider_call_id, headers, body)
select * from unnest(%s::text[], %s::text[], %s::text[], %s::uuid[], %s::text[], %s::jsonb[], %s::bytea[])
on conflict (provider, event_id) do nothing
returning w.provider, w.event_id
"""


class InboxRefused(Refused):
    """The database refused this one inbox row (a constraint, a bad value): only its request fails."""


async def store_webhooks(conn: AsyncConnection, items: Sequence[InboxItem]) -> list[bool | InboxRefused]:
    """Store verified webhooks in the inbox, each once; one result per item: True when it is new,
    False for a redelivery of an event already stored (or earlier in the same batch), or an
    `InboxRefused` for a row the database would not take. One statement for the lot; only when
    it is refused are the rows written one by one (each behind a savepoint), so a bad row fails
    alone. Commit the caller's transaction before answering any of them."""
    await _durable(conn)
    await conn.execute("savepoint inbox_batch")
    try:
        inserted = await _insert_inbox(conn, items)
    except psycopg.Error as exc:
        if database_unavailable(exc) or len(items) == 1:
            if not database_unavailable(exc):
                await _rollback_to(conn, "inbox_batch")
                return [InboxRefused(f"{type(exc).__name__}: {exc}")]
            raise
        await _rollback_to(conn, "inbox_batch")
        return [await _store_alone(conn, item) for item in items]
    new: list[bool | InboxRefused] = []
    for i in items:
        key = (i.provider, i.event_id)
        new.append(key in inserted)
        inserted.discard(key)  # a second copy in the same batch is a duplicate
    return new


async def _insert_inbox(conn: AsyncConnection, items: Sequence[InboxItem]) -> set[tuple[str, str]]:
    cur = await conn.execute(_INBOX_INSERT, (
        [i.provider for i in items], [i.event_id for i in items], [i.event_type for i in items],
        [i.organization_id for i in items], [i.provider_call_id for i in items],
        [Jsonb(strip_credentials(i.headers)) for i in items], [i.body for i in items],
    ))
    return {(r["provider"], r["event_id"]) for r in await cur.fetchall()}


async def _rollback_to(conn: AsyncConnection, savepoint: str) -> None:
    """Undo a refused statement. In pipeline mode the pipeline is first synced (it skips every
    command after an error until the next Sync)."""
    async with conn.pipeline() as pipeline:
        try:
            await pipeline.sync()
        except psycopg.Error:
            pass  # the error already raised, or the skipped commands' "pipeline aborted"
        await conn.execute(f"rollback to savepoint {savepoint}")


async def _store_alone(conn: AsyncConnection, item: InboxItem) -> bool | InboxRefused:
    await conn.execute("savepoint inbox_row")
    try:
        return bool(await _insert_inbox(conn, [item]))
    except psycopg.Error as exc:
        if database_unavailable(exc):
            raise
        await _rollback_to(conn, "inbox_row")
        log.warning("inbox row refused (%s %s): %s", item.provider, item.event_id, type(exc).__name__)
        return InboxRefused(f"{type(exc).__name__}: {exc}")


async def store_dead_letter(
    conn: AsyncConnection,
    provider: str,
    reason: str,
    headers: Mapping[str, str],
    body: bytes | None,
    remote_addr: str | None = None,
) -> int:
    """Keep an authentic but unusable webhook with the reason it was refused."""
    await _durable(conn)
    cur = await conn.execute(
        """
        insert into public.webhook_dead_letters (provider, reason, headers, body, remote_addr)
        values (%s, %s, %s, %s, %s) returning id
        """,
        (provider, reason[:2000], Jsonb(strip_credentials(headers)), body, remote_addr),
    )
    return (await cur.fetchone())["id"]


MAX_ATTEMPTS = 5


async def claim_pending(conn: AsyncConnection, *, limit: int = 100, max_attempts: int = MAX_ATTEMPTS,
                        older_than_seconds: float = 0) -> list[dict[str, Any]]:
    """Lock up to `limit` inbox rows still to process (pending, or failed with attempts left),
    received at least `older_than_seconds` ago, oldest first; other processes skip them (SKIP
    LOCKED). Process them in the same transaction."""
    cur = await conn.execute(
        """
        select id, provider, event_id, event_type, organization_id, provider_call_id, headers, body,
               status, attempts, received_at
        from public.webhook_inbox
        where status <> 'processed' and attempts < %s
          -- a row that failed waits longer before each new attempt: 4x, 16x, 64x …
          and received_at <= now() - make_interval(secs => %s * power(4, attempts))
        order by received_at, id
        limit %s
        for update skip locked
        """,
        (max_attempts, older_than_seconds, limit),
    )
    return list(await cur.fetchall())


async def claim_event(conn: AsyncConnection, provider: str, event_id: str) -> dict[str, Any] | None:
    """Lock one inbox row for processing (None if another process holds it or it is done)."""
    cur = await conn.execute(
        """
        select id, provider, event_id, event_type, organization_id, provider_call_id, headers, body,
               status, attempts, received_at
        from public.webhook_inbox
        where provider = %s and event_id = %s and status <> 'processed'
        for update skip locked
        """,
        (provider, event_id),
    )
    return await cur.fetchone()


async def mark_processed(conn: AsyncConnection, inbox_id: int) -> None:
    await conn.execute(
        "update public.webhook_inbox set status = 'processed', attempts = attempts + 1, "
        "processed_at = now(), error = null where id = %s",
        (inbox_id,),
    )


async def mark_failed(conn: AsyncConnection, inbox_id: int, error: str) -> None:
    await conn.execute(
        "update public.webhook_inbox set status = 'failed', attempts = attempts + 1, error = %s where id = %s",
        (error[:2000], inbox_id),
    )


EventParser = Callable[[dict[str, Any]], Awaitable[list[CallEvent]] | list[CallEvent]]


async def process_inbox_row(conn: AsyncConnection, row: dict[str, Any], events: Sequence[CallEvent] | EventParser,
                            prices: PriceBook | None = None) -> bool:
    """Turn one locked inbox row into call records: record each of its events — given as they
    were parsed on receipt, or `events(row)` re-parses the stored row (the drain) — and mark it
    processed, or failed with the error. Returns whether it succeeded. Runs in the caller's
    transaction; the recording is undone if any event fails."""
    try:
        async with conn.transaction():
            if callable(events):
                events = events(row)
                if hasattr(events, "__await__"):
                    events = await events  # type: ignore[misc]
            for event in events:  # the caller says whom they speak for (switchboard.inbox.speaking_for)
                await record_call_event(conn, event, prices)
    except Exception as exc:  # recorded on the row, retried by the next drain
        log.warning("inbox row %s (%s %s) failed: %s", row["id"], row["provider"], row["event_id"], exc)
        await mark_failed(conn, row["id"], f"{type(exc).__name__}: {exc}")
        return False
    await mark_processed(conn, row["id"])
    return True

