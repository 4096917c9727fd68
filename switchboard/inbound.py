# Size (over 400 lines): the inbound walk (number, plan, hand-off, failover, record) reads as one story.
"""Routing an inbound call on one of our numbers to a voice-AI platform (the router).

number → organisation and agent (one query) → the routing plan (`switchboard.routing`: split
arm, active platform, fallback order, open circuits skipped) → hand the call to the first
platform that takes it, within one 2 s budget → a `call_records` row (platform, arm, status,
carrier call id) → the SWML or LaML answer. Every hand-off outcome feeds the health buckets
and the circuits its cause concerns: the organisation's own circuit for the platform, and — for a
failure of the platform itself (5xx, timeout, connection) — the platform's shared one
(`switchboard.health`). An unknown number, or no platform taking the call, gets a spoken
apology and a hang-up.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar
from uuid import UUID
from xml.sax.saxutils import escape

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from switchboard import telemetry
from switchboard.batching import WriteBehind
from switchboard.cache import TTLCache
from switchboard.db import Database, database_unavailable
from switchboard.health import Cause, CircuitBreaker, failure_cause
from switchboard.logs import bind
from switchboard.providers import registry
from switchboard.providers.base import ProviderError, ProviderRejected, VoiceAIProvider, WebhookRejected
from switchboard.providers.resilience import deadline
from switchboard.routing import ATTEMPT_SHARE, DEFAULT_BUDGET_SECONDS, AgentRouting, Budget, RoutePlan, plan_route
from switchboard.spec import (
    AgentRef,
    AgentSpec,
    AgentSpecInvalid,
    HandOff,
    InboundCall,
    InboundRequest,
    agent_spec_from_row,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

AnswerFormat = Literal["swml", "laml"]
# Call record ids are derived from the carrier's call id, so a retried call request (SignalWire
# re-asks when our answer is slow) updates the same row instead of making a second one.
CALL_RECORD_NAMESPACE = uuid.UUID("0f6c1d0e-8a55-4a53-9f0e-5b1e0c7d2a11")

UNKNOWN_NUMBER_MESSAGE = "Sorry, this number is not in service. Goodbye."
NO_PLATFORM_MESSAGE = "Sorry, we cannot take your call right now. Please try again in a few minutes. Goodbye."
AGENT_INVALID_MESSAGE = "Sorry, this line is not set up to take calls right now. Goodbye."


_NO_ANSWER_YET = HandOff()  # replaced by the platform's answer, or by the apology


def call_record_id_for(telephony_call_id: str) -> UUID:
    return uuid.uuid5(CALL_RECORD_NAMESPACE, telephony_call_id)


# ---------------------------------------------------------------------------------------------
# The number's agent
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberRoute:
    organization_id: UUID
    agent_config_id: UUID
    spec: AgentSpec | None  # None: the stored spec cannot run (`spec_error` says why)
    routing: AgentRouting
    refs: dict[str, AgentRef]  # platform code → the platform's ids for this agent
    secrets_version: dict[str, str] = field(default_factory=dict)  # vendor → updated_at (cache key)
    spec_error: str | None = None
    agent_version_id: UUID | None = None  # the live version, read with the spec (named on the call)


_LOOKUP_SQL = """
select pn.organization_id, ac.id as agent_config_id, ac.live_version_id,
       ac.name, ac.prompt, ac.begin_message, ac.voice, ac.language, ac.tools, ac.analysis,
       ac.max_duration_seconds, ac.metadata, ac.fallback_order, ac.traffic_split,
       vp.code as active_code,
       coalesce((select jsonb_object_agg(p.code, jsonb_build_object(
                   'agent_id', pc.agent_id, 'llm_id', pc.llm_id, 'voice_id', pc.voice_id, 'settings', pc.settings))
                 from public.provider_configs pc join public.voice_ai_providers p on p.id = pc.provider_id
                 where pc.agent_config_id = ac.id and pc.organization_id = ac.organization_id
                   and pc.is_active and p.is_active), '{}'::jsonb) as refs,
       coalesce((select jsonb_object_agg(s.vendor, s.updated_at)
                 from public.organization_secrets s where s.organization_id = pn.organization_id), '{}'::jsonb)
         as secrets_version
from public.phone_numbers pn
join public.agent_configs ac on ac.id = pn.agent_config_id and ac.organization_id = pn.organization_id
left join public.voice_ai_providers vp on vp.id = ac.active_provider_id and vp.is_active
where pn.e164 = %s
"""


async def lookup_number(conn: AsyncConnection, e164: str) -> NumberRoute | None:
    """The organisation and agent answering `e164`, or None when the number is not ours or has no agent."""
    row = await (await conn.execute(_LOOKUP_SQL, (e164,))).fetchone()
    if row is None:
        return None
    refs = {code: AgentRef.model_validate(v) for code, v in row["refs"].items()}
    active = row["active_code"]
    try:
        spec, spec_error = agent_spec_from_row(row), None
    except AgentSpecInvalid as exc:  # answered per call (an apology), not raised: the number stays ours
        spec, spec_error = None, str(exc)
    return NumberRoute(
        organization_id=row["organization_id"],
        agent_config_id=row["agent_config_id"],
        spec=spec,
        spec_error=spec_error,
        routing=AgentRouting(active, tuple(row["fallback_order"] or ()), row["traffic_split"] or {}),
        refs=refs,
        secrets_version={k: str(v) for k, v in row["secrets_version"].items()},
        agent_version_id=row["live_version_id"],
    )


# ---------------------------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------------------------


def apology_answer(answer_format: AnswerFormat, message: str) -> HandOff:
    """A spoken apology and a hang-up, in SWML or LaML."""
    if answer_format == "laml":
        return HandOff(laml=f'<?xml version="1.0" encoding="UTF-8"?><Response><Say>{escape(message)}</Say><Hangup/></Response>')
    return HandOff(swml={"version": "1.0.0", "sections": {"main": [{"play": {"url": f"say:{message}"}}, {"hangup": {}}]}})


# ---------------------------------------------------------------------------------------------
# The router
# ---------------------------------------------------------------------------------------------


class ProviderSource(Protocol):
    """Gives the adapter for one organisation's platform (its own keys, else the defaults)."""

    async def get(self, organization_id: UUID, code: str, secrets_version: str | None = None, *,
                  known_version: bool = False) -> VoiceAIProvider: ...


@dataclass
class Attempt:
    provider: str
    ok: bool
    latency_ms: float
    error: str | None = None


@dataclass
class RoutingResult:
    outcome: Literal["routed", "unknown_number", "no_platform", "agent_invalid", "error"]
    answer: HandOff
    provider: str | None = None
    arm: str | None = None
    call_record_id: UUID | None = None
    organization_id: UUID | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def failovers(self) -> list[str]:
        """Platforms that failed before the call found one (or gave up)."""
        return [a.provider for a in self.attempts if not a.ok]

    def span_attributes(self) -> dict[str, Any]:
        return {"switchboard.outcome": self.outcome, "switchboard.platform": self.provider, "switchboard.arm": self.arm,
                "switchboard.failovers": len(self.failovers)}


class InboundRouter:
    def __init__(
        self,
        db: Database,
        breaker: CircuitBreaker,
        providers: ProviderSource,
        *,
        budget_seconds: float = DEFAULT_BUDGET_SECONDS,
        on_attempt: Callable[[Attempt], None] | None = None,
        on_records_dropped: Callable[[int], None] | None = None,
        lookup_ttl: float = 1.0,
    ):
        self.db = db
        self.breaker = breaker
        self.providers = providers
        self.budget_seconds = budget_seconds
        self.on_attempt = on_attempt
        self.lookup_ttl = lookup_ttl
        self._numbers: TTLCache[str, NumberRoute | None] = TTLCache(lookup_ttl, stale_if=database_unavailable,
                                                                         refresh_ahead=0.75)
        self.records: WriteBehind[dict[str, Any]] = WriteBehind(
            self._write_records, name="routing records", on_drop=on_records_dropped, transient=database_unavailable,
            linger=0.02)

    async def resolve(self, to_number: str) -> NumberRoute | None:
        """The organisation and agent of the number called (None: not ours). Each process keeps
        an answer for `lookup_ttl` seconds (1 s), re-read in the background as it ages: a change
        to an agent reaches every replica within that, a burst of calls costs one query per
        number a second, and no call waits for it. While the database is away, the last answer
        (up to 5 minutes old) keeps the number's calls flowing."""
        return await self._numbers.get(to_number, lambda: self._lookup(to_number))

    async def _lookup(self, to_number: str) -> NumberRoute | None:
        async with self.db.as_service() as conn:
            return await lookup_number(conn, to_number)

    async def answer(self, req: InboundRequest, verify: Callable[[VoiceAIProvider], object]) -> RoutingResult:
        """The carrier's call request, end to end: the number's organisation, the carrier's
        adapter with that organisation's keys (the server's for a number we do not know, so a
        forged request is refused the same way either way), `verify(adapter)` — which raises
        `WebhookRejected` — and only then the routing. Anything that goes wrong while checking
        is a refusal; past it, an apology and a hang-up. Database outages are raised (503)."""
        try:
            number = await self.resolve(req.to_number)
            carrier = registry.carrier().code
            adapter = await self.providers.get(number.organization_id if number else None, carrier,
                                               number.secrets_version.get(carrier) if number else None,
                                               known_version=True)
            verify(adapter)
        except WebhookRejected:
            raise
        except Exception as exc:
            if database_unavailable(exc):
                raise
            log.exception("call request refused: checking it raised")
            raise WebhookRejected("checking the call request raised") from None
        try:
            return await self.route(req, number)
        except Exception as exc:
            if database_unavailable(exc):
                raise
            log.exception("routing the call raised: apology and hang-up")
            return RoutingResult("error", apology_answer(req.answer_format, NO_PLATFORM_MESSAGE))

    @telemetry.traced("routing.route", RoutingResult.span_attributes)
    async def route(self, req: InboundRequest, number: NumberRoute | None = None) -> RoutingResult:
        """Hand the call to a platform. Pass `number` when the caller resolved it already (to
        check the request's signature with the organisation's key first)."""
        bind(call_id=req.telephony_call_id)
        if number is None:
            number = await self.resolve(req.to_number)
        if number is None:  # the one unknown-number branch
            log.warning("call to a number with no agent: apology and hang-up",
                        extra={"to_number": req.to_number, "from_number": req.from_number})
            return RoutingResult("unknown_number", apology_answer(req.answer_format, UNKNOWN_NUMBER_MESSAGE))

        record_id = call_record_id_for(req.telephony_call_id)
        bind(call_record_id=str(record_id), organization_id=str(number.organization_id))
        if number.spec is None:
            log.error("the number's agent spec cannot run: apology and hang-up", extra={"error": number.spec_error})
            result = RoutingResult("agent_invalid", apology_answer(req.answer_format, AGENT_INVALID_MESSAGE),
                                   call_record_id=record_id, organization_id=number.organization_id)
            await self._record(number, req, result, provider_call_id=None)
            return result
        available = set(number.refs) | ({number.routing.active} if number.routing.active else set())
        plan = plan_route(req.telephony_call_id, number.routing, available=available,
                          open_circuits=await self.breaker.blocked(number.organization_id))
        budget = Budget(self.budget_seconds)
        result = RoutingResult("no_platform", _NO_ANSWER_YET, arm=plan.arm, call_record_id=record_id,
                               organization_id=number.organization_id)
        call = InboundCall(
            telephony_call_id=req.telephony_call_id, from_number=req.from_number, to_number=req.to_number,
            answer_format=req.answer_format, organization_id=number.organization_id,
            agent_config_id=number.agent_config_id, call_record_id=record_id,
            metadata={**req.metadata, "experiment_arm": plan.arm} if plan.arm else dict(req.metadata),
        )
        spec = number.spec

        async def hand_off(code: str) -> HandOff:
            provider = await self.providers.get(number.organization_id, code, number.secrets_version.get(code),
                                                known_version=True)
            handoff = await provider.hand_off_inbound(number.refs.get(code, AgentRef()), spec, call)
            if handoff.swml is None and handoff.laml is None:
                raise ProviderRejected(code, "the platform gave no answer document")
            return handoff

        code, handoff = await first_taker(plan, budget, self.breaker, number.organization_id, hand_off, result.attempts,
                                          share=self.budget_seconds * ATTEMPT_SHARE, on_attempt=self.on_attempt)
        if handoff is not None:
            result.outcome, result.answer, result.provider = "routed", handoff, code
        if result.provider is None:
            result.answer = apology_answer(req.answer_format, NO_PLATFORM_MESSAGE)
        await self._record(number, req, result, provider_call_id=result.answer.provider_call_id if result.provider else None)
        if result.outcome == "routed":
            if log.isEnabledFor(logging.INFO):
                log.info("call routed", extra={"provider": result.provider, "arm": plan.arm, "failovers": result.failovers})
        else:
            log.error("no platform took the call: apology and hang-up",
                      extra={"tried": [a.provider for a in result.attempts], "errors": [a.error for a in result.attempts]})
        return result

    async def _record(self, number: NumberRoute, req: InboundRequest, result: RoutingResult, *, provider_call_id: str | None) -> None:
        # Written behind the answer (`WriteBehind`): the caller hears the platform without
        # waiting for our disk, and the row is there milliseconds later, long before the
        # platform's first webhook (which merges into it, or creates it if it comes first).
        self.records.put({
            "id": str(result.call_record_id), "org": str(number.organization_id), "agent": str(number.agent_config_id),
            "version": str(number.agent_version_id) if number.agent_version_id else None,
            "provider": result.provider, "pcid": provider_call_id, "tcid": req.telephony_call_id,
            "from": req.from_number, "to": req.to_number,
            "status": "registered" if result.outcome == "routed" else "not_connected", "arm": result.arm,
            "reason": {"routed": None, "agent_invalid": "agent_spec_invalid"}.get(result.outcome, "no_platform_available"),
            "meta": {"routing": {
                "arm": result.arm,
                "attempts": [{"provider": a.provider, "ok": a.ok, "latency_ms": round(a.latency_ms, 1), "error": a.error}
                             for a in result.attempts],
            }},
        })

    async def _write_records(self, rows: Sequence[dict[str, Any]]) -> None:
        merged = [{"version": None, **r} for r in merge_retried(rows)]  # rows queued without a version
        columns = [[r[k] for r in merged] for k in _RECORD_KEYS]
        columns[-1] = [Jsonb(m) for m in columns[-1]]
        async with self.db.as_service(pipeline=True) as conn:
            await conn.execute(_RECORDS_SQL, columns)


async def first_taker(plan: RoutePlan, budget: Budget, breaker: CircuitBreaker, organization_id: UUID,
                      attempt: Callable[[str], Awaitable[T]], attempts: list[Attempt], *, share: float,
                      on_attempt: Callable[[Attempt], None] | None = None) -> tuple[str | None, T | None]:
    """Try the plan's platforms in order until one takes the call (`attempt(code)` returns
    without raising), within `budget`; each attempt but the last gets at most `share` seconds.
    Every outcome is appended to `attempts` and fed to the circuits (whose failure it was: the
    organisation's or the platform's). The one failover loop: inbound hand-offs and outbound
    calls both go through it."""
    for i, code in enumerate(plan.candidates):
        if budget.exhausted():
            break
        # Closed circuits answer from cache; an open one due a probe is claimed by one process.
        if not await breaker.allow(code, organization_id) and code not in plan.skipped_open:
            continue
        last = i == len(plan.candidates) - 1
        t0 = time.perf_counter()
        error: str | None = None
        value: T | None = None
        cause: Cause = "tenant"  # whose failure it is, if it fails (see `failure_cause`)
        # A platform that hangs may not use up the time the next one needs.
        timeout = budget.attempt_timeout(None if last else share)
        with telemetry.span("hand_off", {"switchboard.platform": code, "switchboard.attempt": i + 1}) as span:
            try:
                async with asyncio.timeout(timeout):
                    with deadline(timeout):
                        value = await attempt(code)
            # `error` is kept with the call (tenants read it): our words only, never an exception's.
            except TimeoutError as exc:
                error, cause = f"no answer within {timeout:.2f}s", failure_cause(exc)
            except ProviderError as exc:
                error, cause = exc.message, failure_cause(exc)
            except Exception:  # an adapter bug must not drop the call: try the next platform
                log.exception("hand-off to %s raised", code)
                error = "the hand-off failed on our side"
            telemetry.failed(span, error)
        ok = error is None
        latency_ms = (time.perf_counter() - t0) * 1000
        record = Attempt(code, ok, latency_ms, error)
        attempts.append(record)
        if on_attempt is not None:
            on_attempt(record)
        await breaker.outcome(code, "handoff", ok, latency_ms, organization_id=organization_id, cause=cause)
        if ok:
            return code, value
        log.warning("hand-off failed, trying the next platform", extra={"provider": code, "error": error})
    return None, None


def merge_retried(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per call record id (a carrier that re-asks for the same call inside one batch
    would otherwise make the upsert touch a row twice), later values winning where they are
    set, in id order so concurrent batches lock in the same order."""
    by_id: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen = by_id.get(row["id"])
        if seen is None:
            by_id[row["id"]] = row
        else:
            by_id[row["id"]] = {**seen, **{k: v for k, v in row.items() if v is not None},
                                "meta": {**seen["meta"], **row["meta"]}}
    return [by_id[k] for k in sorted(by_id)]


# One statement for the whole batch, the rows travelling as one array per column (as the webhook
# inbox's batches do): per row, a statement costs more than its insert.
_RECORD_KEYS = ("id", "org", "agent", "version", "provider", "pcid", "tcid", "from", "to", "status", "arm", "reason", "meta")
_RECORDS_SQL = """
insert into public.call_records as cr
  (id, organization_id, agent_config_id, agent_version_id, provider_id, provider_call_id, telephony_call_id,
   direction, from_number, to_number, status, experiment_arm, disconnection_reason, metadata)
select r.id, r.org, r.agent, r.version, p.id, r.pcid, r.tcid, 'inbound', r.from_number, r.to_number, r.status, r.arm, r.reason, r.meta
from unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
            %s::text[], %s::text[], %s::text[], %s::jsonb[])
  as r(id, org, agent, version, provider, pcid, tcid, from_number, to_number, status, arm, reason, meta)
left join public.voice_ai_providers p on p.code = r.provider
on conflict (id) do update set
  provider_id = coalesce(excluded.provider_id, cr.provider_id),
  agent_version_id = coalesce(excluded.agent_version_id, cr.agent_version_id),
  provider_call_id = coalesce(excluded.provider_call_id, cr.provider_call_id),
  experiment_arm = excluded.experiment_arm,
  status = case when cr.status = 'registered' then excluded.status else cr.status end,
  metadata = cr.metadata || excluded.metadata
"""
