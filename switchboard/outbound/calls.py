"""Placing and ending outbound calls.

Invariants:
* a refused call stores nothing: the number (E.164), the caller id (one of the organisation's
  own numbers; by default the agent's, else the organisation's first), the do-not-call list and
  the platform are all checked, as the caller under RLS, before anything is written;
* an accepted call's record (direction `outbound`, the routing arm) is written before the first
  platform is asked, with our id in the metadata every platform carries into its webhooks, so
  the webhooks complete the same row (by its id, then by the platform's call id, set here);
* the platform is the one asked for, or the agent's routing (`routing.plan_route`: split arm,
  active platform, fallback order, open circuits last), tried through the router's one failover
  loop (`inbound.first_taker`) within one budget, every outcome feeding the circuits;
* the platforms' answers never reach the caller: only our words for each attempt.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from switchboard.access import resolve_access
from switchboard.db import Database
from switchboard.providers import registry
from switchboard.errors import FieldError, Forbidden, InvalidInput, NotFound, PlatformFailed, Upstream
from switchboard.health import CircuitBreaker
from switchboard.inbound import Attempt, ProviderSource, first_taker
from switchboard.outbound.do_not_call import checked_number, is_listed
from switchboard.providers.base import ProviderError
from switchboard.spec import AgentRef
from switchboard.routing import ATTEMPT_SHARE, DEFAULT_BUDGET_SECONDS, AgentRouting, Budget, RoutePlan, plan_route
from switchboard.tenancy import Claims

if TYPE_CHECKING:
    from collections.abc import Callable

LIVE_STATUSES = ("registered", "ongoing")


class CallNotPlaced(Upstream):
    """No platform took the call (each attempt's reason in words); the record says not_connected."""

    code = "call_not_placed"


class CallRequest(BaseModel):
    agent_id: UUID
    to: str
    from_number: str | None = None
    platform: str | None = None


class PlacedCall(BaseModel):
    id: UUID
    status: Literal["registered", "not_connected"]
    platform: str | None
    arm: str | None
    provider_call_id: str | None
    from_number: str
    to_number: str
    attempts: list[Attempt]  # each platform tried, in order, with our words for a failure


class EndedCall(BaseModel):
    id: UUID
    platform: str
    status: str


# --- checks, as the caller -----------------------------------------------------------------------

_AGENT_SQL = """
select ac.id, ac.fallback_order, ac.traffic_split, vp.code as active_code,
       coalesce((select jsonb_object_agg(p.code, jsonb_build_object(
                   'agent_id', pc.agent_id, 'llm_id', pc.llm_id, 'voice_id', pc.voice_id, 'settings', pc.settings))
                 from public.provider_configs pc join public.voice_ai_providers p on p.id = pc.provider_id
                 where pc.agent_config_id = ac.id and pc.organization_id = ac.organization_id
                   and pc.is_active and p.is_active), '{}'::jsonb) as refs,
       (select pn.e164 from public.phone_numbers pn where pn.organization_id = ac.organization_id
        order by (pn.agent_config_id = ac.id) is true desc, pn.created_at, pn.e164 limit 1) as default_from
from public.agent_configs ac
left join public.voice_ai_providers vp on vp.id = ac.active_provider_id and vp.is_active
where ac.id = %s and ac.organization_id = %s
"""


class _Checked(BaseModel):
    organization_id: UUID
    agent_id: UUID
    from_number: str
    to_number: str
    record_id: UUID
    refs: dict[str, AgentRef]


async def _check(conn, organization_id: UUID, request: CallRequest, open_circuits: set[str]) -> tuple[_Checked, RoutePlan]:
    to = checked_number(request.to, "to")
    frm = checked_number(request.from_number, "from") if request.from_number is not None else None
    if request.platform is not None and request.platform not in registry.PLATFORMS:
        raise InvalidInput(FieldError("platform", f"one of {', '.join(registry.codes())}"))
    row = await (await conn.execute(_AGENT_SQL, (request.agent_id, organization_id))).fetchone()
    if row is None:
        raise NotFound("agent not found")
    if frm is None:
        frm = row["default_from"]
        if frm is None:
            raise InvalidInput(FieldError("from", "your organisation has no phone number to call from: add one first"))
    else:
        mine = await (await conn.execute(
            "select 1 from public.phone_numbers where organization_id = %s and e164 = %s", (organization_id, frm))).fetchone()
        if mine is None:
            raise Forbidden(f"{frm} is not one of your organisation's numbers: call from a number of yours")
    if await is_listed(conn, organization_id, to):
        raise Forbidden(f"{to} is on your organisation's do-not-call list")
    refs = {code: AgentRef.model_validate(v) for code, v in row["refs"].items()}
    routing = AgentRouting(row["active_code"], tuple(row["fallback_order"] or ()), row["traffic_split"] or {})
    available = set(refs) | ({routing.active} if routing.active else set())
    record_id = uuid.uuid4()
    if request.platform is not None:
        if request.platform not in available:
            raise InvalidInput(FieldError("platform", "this agent is not set up on that platform: sync it there first"))
        # Asked for by name: tried even while its circuit is open (the caller chose it).
        plan = RoutePlan(arm=None, candidates=(request.platform,),
                         skipped_open=(request.platform,) if request.platform in open_circuits else ())
    else:
        plan = plan_route(str(record_id), routing, available=available, open_circuits=open_circuits)
        if not plan.candidates:
            raise InvalidInput(FieldError("agent_id", "this agent is not set up on any platform yet"))
    checked = _Checked(organization_id=organization_id, agent_id=row["id"], from_number=frm, to_number=to,
                       record_id=record_id, refs=refs)
    return checked, plan


# --- placing ------------------------------------------------------------------------------------

_INSERT_SQL = """
insert into public.call_records (id, organization_id, agent_config_id, direction, from_number, to_number,
                                 status, experiment_arm, metadata)
values (%s, %s, %s, 'outbound', %s, %s, 'registered', %s, %s)
"""

# The webhooks may have reached the row first: what they set is kept (the platform's call id,
# a status further along); ours fills what is missing.
_SETTLE_SQL = """
update public.call_records cr set
  provider_id = coalesce(cr.provider_id, (select id from public.voice_ai_providers where code = %(provider)s)),
  provider_call_id = coalesce(cr.provider_call_id, %(pcid)s),
  status = case when %(placed)s or cr.status <> 'registered' then cr.status else 'not_connected' end,
  disconnection_reason = case when %(placed)s then cr.disconnection_reason
                              else coalesce(cr.disconnection_reason, 'no_platform_available') end,
  metadata = cr.metadata || %(meta)s
where cr.id = %(id)s
"""


async def place_call(db: Database, claims: Claims, organization_id: UUID | None, request: CallRequest, *,
                     platforms: ProviderSource, breaker: CircuitBreaker,
                     budget_seconds: float = DEFAULT_BUDGET_SECONDS,
                     on_attempt: Callable[[Attempt], None] | None = None) -> PlacedCall:
    """Check the call as the caller (scope write), write its record, dial through the first
    platform that takes it. Raises `CallNotPlaced` (with every attempt's reason) when none did."""
    async with db.as_user(claims) as conn:
        access = await resolve_access(conn, claims, organization_id)
        access.require("write")
        org = access.organization_id
        checked, plan = await _check(conn, org, request, await breaker.blocked(org))
    record_id = checked.record_id
    async with db.as_service() as conn:
        await conn.execute(_INSERT_SQL, (record_id, org, checked.agent_id, checked.from_number, checked.to_number,
                                         plan.arm, Jsonb({"routing": {"arm": plan.arm}, "placed_by": str(access.user_id)})))
    metadata = {"organization_id": str(org), "agent_config_id": str(checked.agent_id), "call_record_id": str(record_id)}
    if plan.arm:
        metadata["experiment_arm"] = plan.arm

    async def dial(code: str):
        provider = await platforms.get(org, code)
        return await provider.create_call(checked.refs.get(code, AgentRef()), from_number=checked.from_number,
                                          to_number=checked.to_number, metadata=metadata)

    attempts: list[Attempt] = []
    code, placed = await first_taker(plan, Budget(budget_seconds), breaker, org, dial, attempts,
                                     share=budget_seconds * ATTEMPT_SHARE, on_attempt=on_attempt)
    for a in attempts:
        a.latency_ms = round(a.latency_ms, 1)
    meta = {"routing": {"arm": plan.arm, "attempts": [dataclasses.asdict(a) for a in attempts]}}
    async with db.as_service() as conn:
        await conn.execute(_SETTLE_SQL, {"id": record_id, "provider": code, "pcid": placed.provider_call_id if placed else None,
                                         "placed": placed is not None, "meta": Jsonb(meta)})
    if placed is None:
        reasons = "; ".join(f"{a.provider}: {a.error}" for a in attempts) or "no platform could be tried"
        raise CallNotPlaced(f"the call was not placed ({reasons})")
    return PlacedCall(id=record_id, status="registered", platform=code, arm=plan.arm,
                      provider_call_id=placed.provider_call_id, from_number=checked.from_number,
                      to_number=checked.to_number, attempts=attempts)


# --- ending -------------------------------------------------------------------------------------

async def end_call(db: Database, claims: Claims, organization_id: UUID | None, call_id: UUID, *,
                   platforms: ProviderSource) -> EndedCall:
    """Ask the call's platform to hang up a live call (scope write). The webhooks record the end."""
    async with db.as_user(claims) as conn:
        access = await resolve_access(conn, claims, organization_id)
        access.require("write")
        row = await (await conn.execute(
            """select c.status, c.provider_call_id, vp.code from public.call_records c
               left join public.voice_ai_providers vp on vp.id = c.provider_id
               where c.id = %s and c.organization_id = %s""", (call_id, access.organization_id))).fetchone()
    if row is None:
        raise NotFound("call not found")
    if row["status"] not in LIVE_STATUSES:
        raise InvalidInput(FieldError("call_id", "this call is not live (it has ended or never connected)"))
    if not row["provider_call_id"] or not row["code"]:
        raise InvalidInput(FieldError("call_id", "this call has no platform call to end"))
    provider = await platforms.get(access.organization_id, row["code"])
    try:
        await provider.end_call(row["provider_call_id"])
    except ProviderError as exc:
        raise PlatformFailed(f"the platform did not end the call: {exc.message}") from None
    async with db.as_service() as conn:
        await conn.execute("update public.call_records set metadata = metadata || %s where id = %s",
                           (Jsonb({"end_requested": {"at": datetime.now(UTC).isoformat(), "by": str(access.user_id)}}), call_id))
    return EndedCall(id=call_id, platform=row["code"], status="ending")
