"""The one way a call's facts reach the database: `record_call_event(conn, event)` merges a
normalised `CallEvent` (a platform webhook, or the LiveKit worker's end-of-call report) into
`call_records` and, when it carries cost or priceable usage, `provider_usage`.

Idempotent and order-independent: the same event twice stores once, and events of one call
merged in any order converge to the same row, because every field merges by a rule that does not
depend on arrival order — status by rank (registered < ongoing < ended/error/not_connected),
started_at the earliest, ended_at and duration the latest/longest, transcripts the most complete,
identity fields first-known; the call's cost row keeps the best-sourced figure (reported >
computed > estimated, then the larger). Run it on a service-role connection (`db.as_service()`).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from switchboard.billing import UsageItem, price_usage
from switchboard.providers.base import CallEvent, CostBreakdown

log = logging.getLogger(__name__)


class IngestError(ValueError):
    """The event cannot be stored (unknown platform, no organisation, another tenant's call)."""


class IngestResult(BaseModel):
    call_record_id: UUID
    organization_id: UUID
    created: bool
    usage_recorded: bool
    cost: CostBreakdown | None = None


def _rank(expr: str) -> str:
    return f"(case {expr} when 'registered' then 0 when 'ongoing' then 1 else 2 end)"


def _array_len(expr: str) -> str:
    return f"(case jsonb_typeof({expr}) when 'array' then jsonb_array_length({expr}) else 0 end)"


# How a stored row (alias cr) absorbs an event's values (named parameters). Used both by the
# insert's ON CONFLICT branch and by the update of a row found by id or telephony call id.
_MERGE = f"""
  agent_config_id = coalesce(cr.agent_config_id, %(agent_config_id)s::uuid),
  provider_id = coalesce(cr.provider_id, %(provider_id)s::uuid),
  provider_call_id = coalesce(cr.provider_call_id, %(provider_call_id)s::text),
  telephony_call_id = coalesce(cr.telephony_call_id, %(telephony_call_id)s::text),
  direction = coalesce(%(direction)s::text, cr.direction),
  from_number = coalesce(cr.from_number, %(from_number)s::text),
  to_number = coalesce(cr.to_number, %(to_number)s::text),
  status = case when %(status)s::text is not null and {_rank('%(status)s::text')} > {_rank('cr.status')}
                then %(status)s::text else cr.status end,
  started_at = least(cr.started_at, %(started_at)s::timestamptz),
  ended_at = greatest(cr.ended_at, %(ended_at)s::timestamptz),
  duration_seconds = greatest(cr.duration_seconds, %(duration_seconds)s::integer),
  transcript = case when length(coalesce(%(transcript)s::text, '')) > length(coalesce(cr.transcript, ''))
                    then %(transcript)s::text else cr.transcript end,
  transcript_object = case when {_array_len('%(transcript_object)s::jsonb')} > {_array_len('cr.transcript_object')}
                           then %(transcript_object)s::jsonb else cr.transcript_object end,
  recording_url = coalesce(cr.recording_url, %(recording_url)s::text),
  analysis = case when %(analysis)s::jsonb is null then cr.analysis
                  else coalesce(cr.analysis, '{{}}'::jsonb) || %(analysis)s::jsonb end,
  sentiment = coalesce(cr.sentiment, %(sentiment)s::text),
  successful = coalesce(cr.successful, %(successful)s::boolean),
  disconnection_reason = coalesce(cr.disconnection_reason, %(disconnection_reason)s::text),
  metadata = %(metadata)s::jsonb || cr.metadata
"""

_COLUMNS = (
    "organization_id, agent_config_id, provider_id, provider_call_id, telephony_call_id, direction, "
    "from_number, to_number, status, started_at, ended_at, duration_seconds, transcript, "
    "transcript_object, recording_url, analysis, sentiment, successful, disconnection_reason, metadata"
)
_VALUES = (
    "%(organization_id)s, %(agent_config_id)s, %(provider_id)s, %(provider_call_id)s, %(telephony_call_id)s, "
    "coalesce(%(direction)s::text, 'inbound'), %(from_number)s, %(to_number)s, "
    "coalesce(%(status)s::text, 'registered'), %(started_at)s, %(ended_at)s, %(duration_seconds)s, "
    "%(transcript)s, %(transcript_object)s, %(recording_url)s, %(analysis)s, %(sentiment)s, "
    "%(successful)s, %(disconnection_reason)s, %(metadata)s"
)
_RETURNING = "returning id, organization_id, (xmax = 0) as inserted, started_at, ended_at, duration_seconds, status"

_SOURCE_RANK = "(case {} when 'reported' then 2 when 'computed' then 1 else 0 end)"


def _params(event: CallEvent, provider_id: UUID, organization_id: UUID) -> dict[str, Any]:
    duration = event.duration_seconds
    if duration is None and event.started_at and event.ended_at:
        duration = max(0, round((event.ended_at - event.started_at).total_seconds()))
    return {
        "organization_id": organization_id,
        "agent_config_id": event.agent_config_id,
        "provider_id": provider_id,
        "provider_call_id": event.provider_call_id,
        "telephony_call_id": event.telephony_call_id,
        "direction": event.direction,
        "from_number": event.from_number,
        "to_number": event.to_number,
        "status": event.status,
        "started_at": event.started_at,
        "ended_at": event.ended_at,
        "duration_seconds": duration,
        "transcript": event.transcript,
        "transcript_object": Jsonb(event.transcript_object) if event.transcript_object is not None else None,
        "recording_url": event.recording_url,
        "analysis": Jsonb(event.analysis) if event.analysis is not None else None,
        "sentiment": event.sentiment,
        "successful": event.successful,
        "disconnection_reason": event.disconnection_reason,
        "metadata": Jsonb(event.metadata or {}),
    }


async def _find_existing(conn: AsyncConnection, event: CallEvent, provider_id: UUID) -> dict | None:
    lookups = []
    if event.call_record_id:
        lookups.append(("id = %s", event.call_record_id))
    lookups.append(("provider_id = %s and provider_call_id = %s", (provider_id, event.provider_call_id)))
    if event.telephony_call_id:
        lookups.append(("telephony_call_id = %s", event.telephony_call_id))
    for where, args in lookups:
        cur = await conn.execute(
            f"select id, organization_id from public.call_records where {where} for update",
            args if isinstance(args, tuple) else (args,),
        )
        row = await cur.fetchone()
        if row is not None:
            return row
    return None


async def record_call_event(conn: AsyncConnection, event: CallEvent) -> IngestResult:
    """Merge one normalised call event into its call record (and its cost row). See module doc."""
    cur = await conn.execute("select id from public.voice_ai_providers where code = %s", (event.provider,))
    provider = await cur.fetchone()
    if provider is None:
        raise IngestError(f"unknown platform {event.provider!r}")
    provider_id: UUID = provider["id"]

    async with conn.transaction():
        existing = await _find_existing(conn, event, provider_id)
        if existing is not None:
            if event.organization_id and existing["organization_id"] != event.organization_id:
                raise IngestError(
                    f"{event.provider} call {event.provider_call_id}: the event names organisation "
                    f"{event.organization_id} but the call belongs to another organisation"
                )
            params = _params(event, provider_id, existing["organization_id"])
            params["id"] = existing["id"]
            cur = await conn.execute(
                f"update public.call_records as cr set {_MERGE} where cr.id = %(id)s {_RETURNING}", params
            )
        else:
            if event.organization_id is None:
                raise IngestError(
                    f"{event.provider} call {event.provider_call_id}: no organisation on the event and "
                    "no call record to attach it to"
                )
            params = _params(event, provider_id, event.organization_id)
            params["id"] = event.call_record_id
            cur = await conn.execute(
                f"""
                insert into public.call_records as cr (id, {_COLUMNS})
                values (coalesce(%(id)s::uuid, gen_random_uuid()), {_VALUES})
                on conflict (provider_id, provider_call_id) do update set {_MERGE}
                {_RETURNING}
                """,
                params,
            )
        record = await cur.fetchone()
        if record["organization_id"] != params["organization_id"]:  # lost a race to another tenant's row
            raise IngestError(f"{event.provider} call {event.provider_call_id} belongs to another organisation")

        cost, details = event.cost, {}
        items = (event.usage or {}).get("items") if isinstance(event.usage, dict) else None
        day = _usage_day(record)
        if cost is None and items:
            priced = await price_usage(conn, [UsageItem.model_validate(i) for i in items], day)
            cost = priced.cost
            details = {"lines": [line.model_dump(mode="json") for line in priced.lines]}
            if priced.missing:
                log.warning(
                    "%s call %s: no price in force for %s; those lines cost 0 (estimated)",
                    event.provider, event.provider_call_id,
                    ", ".join(f"{m.subject}/{m.component}/{m.unit}" for m in priced.missing),
                )
        if event.usage:
            details["usage"] = event.usage
        usage_recorded = False
        if cost is not None:
            usage_recorded = await _upsert_usage(conn, record, provider_id, cost, details, day)

    return IngestResult(
        call_record_id=record["id"],
        organization_id=record["organization_id"],
        created=bool(record["inserted"]),
        usage_recorded=usage_recorded,
        cost=cost,
    )


def _usage_day(record: dict) -> date:
    at: datetime | None = record["started_at"] or record["ended_at"]
    return (at or datetime.now(timezone.utc)).astimezone(timezone.utc).date()


async def _upsert_usage(
    conn: AsyncConnection, record: dict, provider_id: UUID, cost: CostBreakdown, details: dict, day: date
) -> bool:
    """Insert the call's cost row, or replace it when this figure is better sourced (or larger);
    returns whether anything was written."""
    cur = await conn.execute(
        f"""
        insert into public.provider_usage as pu (organization_id, provider_id, call_id, usage_date,
          duration_seconds, cost_amount, stt_cost, llm_cost, tts_cost, platform_cost, telephony_cost,
          cost_source, details)
        values (%(org)s, %(provider_id)s, %(call_id)s, %(day)s, %(duration)s, %(total)s, %(stt)s, %(llm)s,
          %(tts)s, %(platform)s, %(telephony)s, %(source)s, %(details)s)
        on conflict (call_id) do update set
          provider_id = excluded.provider_id, usage_date = excluded.usage_date,
          duration_seconds = excluded.duration_seconds, cost_amount = excluded.cost_amount,
          stt_cost = excluded.stt_cost, llm_cost = excluded.llm_cost, tts_cost = excluded.tts_cost,
          platform_cost = excluded.platform_cost, telephony_cost = excluded.telephony_cost,
          cost_source = excluded.cost_source, details = excluded.details
        where ({_SOURCE_RANK.format('excluded.cost_source')}, excluded.cost_amount, excluded.duration_seconds)
            > ({_SOURCE_RANK.format('pu.cost_source')}, pu.cost_amount, pu.duration_seconds)
        returning call_id
        """,
        {
            "org": record["organization_id"],
            "provider_id": provider_id,
            "call_id": record["id"],
            "day": day,
            "duration": record["duration_seconds"] or 0,
            "total": cost.total,
            "stt": cost.stt,
            "llm": cost.llm,
            "tts": cost.tts,
            "platform": cost.platform,
            "telephony": cost.telephony,
            "source": cost.source,
            "details": Jsonb(details),
        },
    )
    return await cur.fetchone() is not None
