# Size (over 400 lines): one recipe — the demo tenants, the vectorised call generator and its COPY loader share the demo's rates.
"""Demo data: `switchboard seed --demo [--calls N]`.

Creates (idempotently) the organisation "Demo Dental" with its user demo@switchboard.local /
demo-password, an agent spec with a 50/50 experiment between the first two platforms of the
registry, a phone number, a provider config on each platform (its folder's `DemoProfile`) and
the worker's STT/LLM/TTS chain; and
"Other Org" with its own user, so tenant isolation can be seen. Then it replaces both
organisations' calls with N calls (Other Org: a few hundred) over the last 90 days, with
durations, outcomes, short transcripts and costs.

Costs come from the database's `price_book` (the price in force on each call's day; before the
first recorded price, the earliest one), split into the components the price book lists for the
platform; a vendor-chain platform's (LiveKit's) STT/LLM/TTS are priced from the catalog vendors
of the organisation's pipeline. Only the usage profile (tokens and characters per minute of conversation) is assumed
here. Rows go in with COPY, the rollup triggers paused, and the rollups (`usage_daily`, `experiment_daily`,
`latency_daily`) are rebuilt once. Latencies follow each platform's `DemoProfile.latency_ms`.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable
from uuid import UUID

import numpy as np
import psycopg
import typer
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from switchboard.auth import AuthError, sign_in, sign_up
from switchboard.billing import Component, PriceBook, Unit, load_price_book
from switchboard.db import Database
from switchboard.orgs import create_organization
from switchboard.ingest import LATENCY_COLUMNS
from switchboard.providers import registry
from switchboard.providers.descriptor import PlatformDescriptor
from switchboard.spec import LATENCY_PARTS
from switchboard.tenancy import Claims

DEMO_EMAIL, DEMO_PASSWORD, DEMO_ORG = "demo@switchboard.local", "demo-password", "Demo Dental"
OTHER_EMAIL, OTHER_PASSWORD, OTHER_ORG = "other@switchboard.local", "other-password", "Other Org"
DEMO_NUMBER, OTHER_NUMBER = "+14155550123", "+12125550188"
DAYS = 90
COMPONENTS = ("stt", "llm", "tts", "platform", "telephony")
# The usage profile a minute of conversation has on a vendor-chain platform (assumed, not
# priced): LLM tokens and characters spoken.
LLM_INPUT_TOKENS_PER_MINUTE = 2400
LLM_OUTPUT_TOKENS_PER_MINUTE = 180
TTS_CHARACTERS_PER_MINUTE = 650

CHUNK = 20_000


def demo_platforms() -> tuple[PlatformDescriptor, ...]:
    """The platforms in the demo data, in the registry's order (the first two run the A/B split)."""
    return tuple(d for d in registry.descriptors() if d.demo)


def worker_chain() -> dict[str, str]:
    """The STT/LLM/TTS chain (catalog keys) of the demo organisation's vendor-chain platform."""
    return next(d.demo.chain for d in demo_platforms() if d.vendor_chains and d.demo.chain)


# ---------------------------------------------------------------------------------------
# Prices, from the database
# ---------------------------------------------------------------------------------------
@dataclass
class DemoRates:
    """Per-minute rates per platform and component over the demo's days, from the database's
    price book (`switchboard.billing`). Days before the first recorded price use the earliest
    one, so 90 days of history can be priced from today's book."""

    book: PriceBook
    _tables: dict[date, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    async def load(cls, conn: AsyncConnection) -> "DemoRates":
        return cls(await load_price_book(conn))

    def price(self, subject: str, component: Component, unit: Unit, day: date) -> float:
        value = self.book.price(subject, component, unit, day)
        if value is None:
            earliest = min((p for p in self.book.prices if (p.subject, p.component, p.unit) == (subject, component, unit)),
                           key=lambda p: p.effective_from, default=None)
            if earliest is None:
                raise LookupError(f"price_book has no {unit} price for {subject} {component}")
            value = earliest.usd_per_unit
        return float(value)

    def rate_table(self, first_day: date) -> np.ndarray:
        """[day, platform, component] → USD per minute, for DAYS days from first_day."""
        cached = self._tables.get(first_day)
        if cached is None:
            days = [first_day + timedelta(days=i) for i in range(DAYS)]
            codes = [p.code for p in demo_platforms()]
            cached = np.array([[[self.per_minute_rates(p, d)[c] for c in COMPONENTS] for p in codes] for d in days])
            self._tables[first_day] = cached
        return cached

    def per_minute_rates(self, platform: str, day: date) -> dict[str, float]:
        """USD per minute of call for each component of a platform on a day."""
        rates = {c: 0.0 for c in COMPONENTS}
        for component in {p.component for p in self.book.prices if p.subject == platform and p.unit == "minute"}:
            rates[component] = self.price(platform, component, "minute", day)
        if registry.descriptor(platform).vendor_chains:  # the worker's own vendors, from the catalog
            chain = worker_chain()
            rates["stt"] = self.price(chain["stt"], "stt", "minute", day)
            rates["llm"] = (
                LLM_INPUT_TOKENS_PER_MINUTE / 1e6 * self.price(chain["llm"], "llm", "1m_input_tokens", day)
                + LLM_OUTPUT_TOKENS_PER_MINUTE / 1e6 * self.price(chain["llm"], "llm", "1m_output_tokens", day)
            )
            rates["tts"] = TTS_CHARACTERS_PER_MINUTE / 1000 * self.price(chain["tts"], "tts", "1k_characters", day)
        return rates

# ---------------------------------------------------------------------------------------
# Organisations, users, agent, numbers, configs (idempotent)
# ---------------------------------------------------------------------------------------
@dataclass
class Tenant:
    organization_id: UUID
    user_id: UUID
    claims: Claims
    agent_config_id: UUID
    phone_number: str


async def _user(db: Database, email: str, password: str) -> Claims:
    try:
        return (await sign_in(db, email, password)).claims
    except AuthError:
        # The documented demo passwords (README) are not strong ones: the seed is trusted.
        return (await sign_up(db, email, password, check_strength=False)).claims


async def _organization(db: Database, claims: Claims, name: str) -> UUID:
    async with db.as_user(claims) as conn:
        cur = await conn.execute(
            "select o.id from public.organizations o join public.memberships m on m.organization_id = o.id "
            "where m.user_id = auth.uid() and m.role = 'owner' and o.name = %s order by o.created_at limit 1",
            (name,),
        )
        row = await cur.fetchone()
        return row["id"] if row else (await create_organization(conn, name)).id


AGENT_PROMPT = (
    "You are the front desk of {org}, a dental practice. Greet callers warmly, find out whether they "
    "want to book, move or cancel an appointment, or have a billing question. Check availability with "
    "the check_availability tool before offering a time, confirm the patient's name and phone number, "
    "and book with book_appointment. Transfer to a human for emergencies or when asked. Keep answers short."
)
# Tools as the spec model defines them (`switchboard.spec`: end_call, transfer, http):
# every reader of the spec accepts them, so the demo numbers route after `switchboard seed --demo`.
DEMO_TOOLS_URL = "https://dental-demo.example.com/tools"  # a placeholder backend (.example never resolves)
AGENT_TOOLS = [
    {"type": "http", "name": "check_availability", "description": "Free appointment slots on a day.",
     "url": f"{DEMO_TOOLS_URL}/availability", "method": "POST",
     "parameters": {"type": "object", "properties": {"date": {"type": "string", "format": "date"}}, "required": ["date"]}},
    {"type": "http", "name": "book_appointment", "description": "Book a slot for a patient.",
     "url": f"{DEMO_TOOLS_URL}/appointments", "method": "POST",
     "parameters": {"type": "object", "properties": {"start": {"type": "string", "format": "date-time"},
                    "patient_name": {"type": "string"}, "phone": {"type": "string"}},
                    "required": ["start", "patient_name", "phone"]}},
    {"type": "transfer", "name": "transfer_to_front_desk", "description": "Hand the call to a person.",
     "number": "+14155550100"},
    {"type": "end_call", "name": "end_call", "description": "Hang up when the caller is done."},
]
AGENT_ANALYSIS = {"summary": True, "sentiment": True,
                  "success_criteria": "the caller booked, moved or cancelled an appointment, or got a billing answer",
                  "fields": {"intent": "one of book, reschedule, cancel, billing, other"}}


async def _record_live_version(conn: AsyncConnection, org: UUID, agent_id: UUID) -> None:
    """A re-seed changed the live spec in place: it becomes a new version, published, unless the
    live version already holds it (versions stay the history of what served calls)."""
    from switchboard import versions
    from switchboard.spec import AGENT_COLUMNS

    row = await (await conn.execute(
        "select a.*, v.spec as live_spec from public.agent_configs a "
        "left join public.agent_versions v on v.id = a.live_version_id where a.id = %s", (agent_id,))).fetchone()
    current = {k: row[k] for k in AGENT_COLUMNS}
    if row["live_spec"] != current:
        saved = await versions.save_draft(conn, org, agent_id, current)
        await versions.publish(conn, org, agent_id, saved.number)


async def _agent_and_configs(conn: AsyncConnection, org: UUID, org_name: str, number: str,
                             active: str, split: dict[str, int], providers: dict[str, UUID]) -> UUID:
    spec = {
        "prompt": AGENT_PROMPT.format(org=org_name),
        "begin_message": f"Thanks for calling {org_name}, this is Ava. How can I help you today?",
        "voice": Jsonb({"vendor": "cartesia", "voice_id": "f786b574-daa5-4673-aa0c-cbe3e8534c02", "custom": False}),
        "language": "en-US",
        "tools": Jsonb(AGENT_TOOLS),
        "analysis": Jsonb(AGENT_ANALYSIS),
        "active_provider_id": providers[active],
        "fallback_order": [p.code for p in demo_platforms() if p.code != active],
        "traffic_split": Jsonb(split),
    }
    cur = await conn.execute(
        "select id from public.agent_configs where organization_id = %s and name = 'Front desk' order by created_at limit 1",
        (org,),
    )
    row = await cur.fetchone()
    cols = list(spec)
    if row:
        agent_id = row["id"]
        await conn.execute(
            f"update public.agent_configs set {', '.join(f'{c} = %s' for c in cols)} where id = %s",
            (*spec.values(), agent_id),
        )
        await _record_live_version(conn, org, agent_id)
    else:
        cur = await conn.execute(
            f"insert into public.agent_configs (organization_id, name, {', '.join(cols)}) "
            f"values (%s, 'Front desk', {', '.join(['%s'] * len(cols))}) returning id",
            (org, *spec.values()),
        )
        agent_id = (await cur.fetchone())["id"]
    for code, (settings, voice) in ((p.code, (p.demo.settings, p.demo.voice_id)) for p in demo_platforms()):
        await conn.execute(
            """
            insert into public.provider_configs (organization_id, agent_config_id, provider_id, agent_id, settings,
              voice_id, is_active, is_default, sync_status, synced_at)
            values (%s, %s, %s, %s, %s, %s, true, %s, 'synced', now())
            on conflict (agent_config_id, provider_id) do update set agent_id = excluded.agent_id,
              settings = excluded.settings, voice_id = excluded.voice_id, is_default = excluded.is_default
            """,
            (org, agent_id, providers[code], f"demo-{code}-{str(agent_id)[:8]}", Jsonb(settings), voice, code == active),
        )
    await conn.execute(
        """
        insert into public.phone_numbers (organization_id, agent_config_id, e164, carrier, label)
        values (%s, %s, %s, %s, 'Main line')
        on conflict (e164) do update set agent_config_id = excluded.agent_config_id, label = excluded.label
        where public.phone_numbers.organization_id = excluded.organization_id
        """,
        (org, agent_id, number, registry.carrier().code),
    )
    chain = worker_chain()
    for priority, key in ((30, chain["stt"]), (30, chain["llm"]), (30, chain["tts"]),
                          (10, "pocketsphinx-stt"), (10, "espeak-tts")):
        await conn.execute(
            """
            insert into public.organization_provider_configs (organization_id, provider_id, is_enabled, priority)
            select %s, p.id, true, %s from public.providers p where p.key = %s
            on conflict (organization_id, provider_id) do update set is_enabled = true, priority = excluded.priority
            """,
            (org, priority, key),
        )
    return agent_id


async def ensure_tenants(db: Database) -> tuple[Tenant, Tenant]:
    """The demo organisation and the other one, created once and brought up to date after."""
    tenants = []
    a, b = (p.code for p in demo_platforms()[:2])
    for email, password, name, number, active, split in (
        (DEMO_EMAIL, DEMO_PASSWORD, DEMO_ORG, DEMO_NUMBER, a, {a: 50, b: 50}),
        (OTHER_EMAIL, OTHER_PASSWORD, OTHER_ORG, OTHER_NUMBER, b, {}),
    ):
        claims = await _user(db, email, password)
        org = await _organization(db, claims, name)
        async with db.as_service() as conn:
            providers = await _platform_ids(conn)
            agent = await _agent_and_configs(conn, org, name, number, active, split, providers)
        tenants.append(Tenant(org, claims.user_id, claims, agent, number))
    return tenants[0], tenants[1]


async def _platform_ids(conn: AsyncConnection) -> dict[str, UUID]:
    codes = [p.code for p in demo_platforms()]
    cur = await conn.execute("select code, id from public.voice_ai_providers where code = any(%s)", (codes,))
    found = {r["code"]: r["id"] for r in await cur.fetchall()}
    missing = set(codes) - set(found)
    if missing:
        raise LookupError(f"voice_ai_providers lacks {', '.join(sorted(missing))}: run `switchboard db migrate`")
    return found


# ---------------------------------------------------------------------------------------
# Calls (vectorised generation, COPY)
# ---------------------------------------------------------------------------------------
# Demo realism per platform (share of traffic, median call length, success and error rates) is
# each platform's `DemoProfile`.
NOT_CONNECTED_RATE = 0.04
EXPERIMENT_DAYS = 30  # the first two platforms' 50/50 split started a month ago

INTENTS = ("book", "reschedule", "cancel", "billing", "other")
_TRANSCRIPTS = {
    "book": "Agent: Thanks for calling, this is Ava. How can I help?\nUser: I'd like to book a cleaning.\n"
            "Agent: I have Tuesday at 10 or Thursday at 3.\nUser: Thursday at 3 works.\nAgent: You're booked. See you then!",
    "reschedule": "Agent: Thanks for calling, this is Ava. How can I help?\nUser: I need to move my appointment.\n"
                  "Agent: Sure, what day suits you?\nUser: Next Monday morning.\nAgent: Moved to Monday at 9.",
    "cancel": "Agent: Thanks for calling, this is Ava. How can I help?\nUser: I have to cancel tomorrow's visit.\n"
              "Agent: Done. Would you like to rebook?\nUser: Not now, thanks.",
    "billing": "Agent: Thanks for calling, this is Ava. How can I help?\nUser: I have a question about my bill.\n"
               "Agent: Let me transfer you to our billing team.",
    "other": "Agent: Thanks for calling, this is Ava. How can I help?\nUser: Are you open on Saturdays?\n"
             "Agent: Yes, from 9 to 1.\nUser: Great, thanks.",
}
_SUMMARIES = {
    "book": "Caller booked a cleaning.", "reschedule": "Caller moved an appointment.",
    "cancel": "Caller cancelled an appointment.", "billing": "Caller transferred to billing.",
    "other": "Caller asked about opening hours.",
}
SENTIMENTS = ("Positive", "Neutral", "Negative")
REASONS_ENDED = ("user_hangup", "agent_hangup", "call_transfer", "inactivity", "max_duration_reached")


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


_TRANSCRIPT_COPY = {k: _copy_escape(v) for k, v in _TRANSCRIPTS.items()}
_ANALYSIS_COPY = {
    (intent, sentiment): _copy_escape(json.dumps({"call_summary": _SUMMARIES[intent], "intent": intent,
                                                  "user_sentiment": sentiment}))
    for intent in INTENTS for sentiment in SENTIMENTS
}

CALL_COLUMNS = (
    "id", "organization_id", "agent_config_id", "provider_id", "provider_call_id", "telephony_call_id", "direction",
    "from_number", "to_number", "status", "started_at", "ended_at", "duration_seconds", "transcript", "analysis",
    "sentiment", "successful", "disconnection_reason", "experiment_arm", "created_at", "updated_at",
) + LATENCY_COLUMNS
USAGE_COLUMNS = (
    "organization_id", "provider_id", "call_id", "usage_date", "duration_seconds", "cost_amount", "stt_cost",
    "llm_cost", "tts_cost", "platform_cost", "telephony_cost", "cost_source", "details", "created_at", "updated_at",
)


def _hex_ids(rng: np.random.Generator, n: int) -> list[str]:
    """n random version-4 UUIDs as 32 hex digits (Postgres takes them without dashes)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    flat = raw.tobytes().hex()
    return [flat[i : i + 32] for i in range(0, 32 * n, 32)]


def _latency_copy(platforms: tuple[PlatformDescriptor, ...], platform_idx: np.ndarray, connected: np.ndarray,
                  rng: np.random.Generator) -> list[str]:
    """Each call's latency columns as COPY text (LATENCY_COLUMNS' order): the parts its platform
    reports (`DemoProfile.latency_ms`, a median), each call's p50 spread around it and its p90
    30–60 % above; none for a call that never connected or a platform that reports none."""
    n = len(platform_idx)
    medians = np.array([[(p.demo.latency_ms or {}).get(part, np.nan) for part in LATENCY_PARTS] for p in platforms])
    p50 = medians[platform_idx] * np.exp(rng.normal(0, 0.18, size=(n, len(LATENCY_PARTS))))
    p90 = p50 * (1.3 + 0.3 * rng.random((n, len(LATENCY_PARTS))))
    p50[~connected], p90[~connected] = np.nan, np.nan
    turns = np.where(np.isnan(p50).all(axis=1), -1, rng.integers(2, 13, size=n))
    cells = np.empty((n, 1 + 2 * len(LATENCY_PARTS)), dtype=object)
    cells[:, 0] = np.where(turns < 0, "\\N", turns.astype(str))
    for j in range(len(LATENCY_PARTS)):
        for k, values in enumerate((p50[:, j], p90[:, j])):
            cells[:, 1 + 2 * j + k] = np.where(np.isnan(values), "\\N", np.char.mod("%.1f", np.nan_to_num(values)))
    return ["\t".join(row) for row in cells.tolist()]


@dataclass
class CallBatch:
    calls: bytes
    usage: bytes
    rows: int


def generate_calls(tenant: Tenant, providers: dict[str, UUID], book: DemoRates, n: int, *,
                   now: datetime, rng: np.random.Generator) -> CallBatch:
    """n calls over the DAYS days before `now`, as COPY text for call_records and provider_usage."""
    platforms = demo_platforms()
    codes = [p.code for p in platforms]
    shares = np.array([p.demo.share for p in platforms])
    platform_idx = rng.choice(len(platforms), size=n, p=shares / shares.sum())

    # When: uniform over days, business-hours weighted (UTC-8 practice: 16:00–01:00 UTC peak).
    day_offset = rng.integers(0, DAYS, size=n)
    hour_weights = np.array([4, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 9, 8, 9, 9, 7], dtype=float)
    hour = rng.choice(24, size=n, p=hour_weights / hour_weights.sum())
    second_of_hour = rng.integers(0, 3600, size=n)
    start_day = (now - timedelta(days=DAYS - 1)).date()
    day_index = np.clip(day_offset, 0, DAYS - 1)
    base = np.datetime64(start_day.isoformat(), "s")
    started = base + (day_index * 86400 + hour * 3600 + second_of_hour).astype("timedelta64[s]")
    latest = np.datetime64(now.replace(tzinfo=None), "s")
    started = np.minimum(started, latest - np.timedelta64(300, "s"))  # no call starts in the future
    day_index = ((started - base).astype("timedelta64[D]").astype(int))

    medians = np.array([p.demo.median_seconds for p in platforms])[platform_idx]
    duration = np.clip(rng.lognormal(np.log(medians), 0.6), 8, 1800).astype(int)
    u = rng.random(n)
    err = np.array([p.demo.error_rate for p in platforms])[platform_idx]
    not_connected = u < NOT_CONNECTED_RATE
    errored = (~not_connected) & (u < NOT_CONNECTED_RATE + err)
    duration = np.where(not_connected, 0, np.where(errored, np.minimum(duration, 40), duration))
    ended = started + duration.astype("timedelta64[s]")
    successful = (~not_connected) & (~errored) & (rng.random(n) < np.array([p.demo.success_rate for p in platforms])[platform_idx])
    sentiment_idx = np.where(successful, rng.choice(3, size=n, p=[0.62, 0.32, 0.06]), rng.choice(3, size=n, p=[0.15, 0.5, 0.35]))
    intent_idx = rng.choice(len(INTENTS), size=n, p=[0.42, 0.2, 0.1, 0.13, 0.15])
    reason_idx = rng.choice(len(REASONS_ENDED), size=n, p=[0.55, 0.3, 0.1, 0.04, 0.01])
    direction_idx = rng.choice(3, size=n, p=[0.8, 0.12, 0.08])  # inbound, outbound, web
    caller = rng.integers(2_000_000_000, 9_999_999_999, size=n)
    in_experiment = (day_index >= DAYS - EXPERIMENT_DAYS) & np.isin(platform_idx, [0, 1])

    # Costs: per-minute rates of the call's platform on its day, from the price book.
    rates = book.rate_table(start_day)
    minutes = duration / 60.0
    component_cost = np.round(rates[day_index, platform_idx, :] * minutes[:, None], 6)
    web = direction_idx == 2
    component_cost[web, COMPONENTS.index("telephony")] = 0.0  # a web call has no phone leg
    total = np.round(component_cost.sum(axis=1), 6)

    started_s = np.datetime_as_string(started, unit="s")
    ended_s = np.datetime_as_string(ended, unit="s")
    usage_day = np.datetime_as_string(started, unit="D")
    call_ids = _hex_ids(rng, n)
    provider_call_ids = _hex_ids(rng, n)
    telephony_ids = _hex_ids(rng, n)

    org, agent, number = str(tenant.organization_id), str(tenant.agent_config_id), tenant.phone_number
    provider_of = [str(providers[p]) for p in codes]
    prefixes = [p.demo.call_id_prefix for p in platforms]
    now_s = now.strftime("%Y-%m-%d %H:%M:%S+00")
    directions = ("inbound", "outbound", "web")
    pi, di, ii, si, ri = (a.tolist() for a in (platform_idx, direction_idx, intent_idx, sentiment_idx, reason_idx))
    dur, succ, nc, er, exp_arm, callers = (a.tolist() for a in (duration, successful, not_connected, errored, in_experiment, caller))
    costs = component_cost.tolist()
    totals = total.tolist()
    latency = _latency_copy(platforms, platform_idx, ~not_connected, rng)

    call_lines: list[str] = []
    usage_lines: list[str] = []
    for i in range(n):
        p = pi[i]
        d = di[i]
        if d == 2:
            tel, frm, to = "\\N", "\\N", "\\N"
        else:
            tel = telephony_ids[i]
            other = f"+1{callers[i]}"
            frm, to = (other, number) if d == 0 else (number, other)
        if nc[i]:
            status, reason, sentiment, transcript, analysis, success = "not_connected", "dial_no_answer", "\\N", "\\N", "\\N", "\\N"
        else:
            status = "error" if er[i] else "ended"
            reason = "error_llm_websocket_open" if er[i] else REASONS_ENDED[ri[i]]
            sentiment = SENTIMENTS[si[i]]
            intent = INTENTS[ii[i]]
            transcript = _TRANSCRIPT_COPY[intent]
            analysis = _ANALYSIS_COPY[(intent, sentiment)]
            success = "t" if succ[i] else "f"
        arm = codes[p] if exp_arm[i] else "\\N"
        call_lines.append(
            f"{call_ids[i]}\t{org}\t{agent}\t{provider_of[p]}\t{prefixes[p]}{provider_call_ids[i]}\t{tel}\t"
            f"{directions[d]}\t{frm}\t{to}\t{status}\t{started_s[i]}+00\t{ended_s[i]}+00\t{dur[i]}\t{transcript}\t"
            f"{analysis}\t{sentiment}\t{success}\t{reason}\t{arm}\t{now_s}\t{now_s}\t{latency[i]}\n"
        )
        c = costs[i]
        source = "computed" if p == 3 else "reported"
        details = '{"llm_input_tokens": %d, "llm_output_tokens": %d, "tts_characters": %d}' % (
            dur[i] * LLM_INPUT_TOKENS_PER_MINUTE // 60, dur[i] * LLM_OUTPUT_TOKENS_PER_MINUTE // 60,
            dur[i] * TTS_CHARACTERS_PER_MINUTE // 60) if p == 3 else "{}"
        usage_lines.append(
            f"{org}\t{provider_of[p]}\t{call_ids[i]}\t{usage_day[i]}\t{dur[i]}\t{totals[i]:.6f}\t{c[0]:.6f}\t"
            f"{c[1]:.6f}\t{c[2]:.6f}\t{c[3]:.6f}\t{c[4]:.6f}\t{source}\t{details}\t{now_s}\t{now_s}\n"
        )
    return CallBatch("".join(call_lines).encode(), "".join(usage_lines).encode(), n)


BULK_INDEX_THRESHOLD = 100_000


async def _rows_estimate(conn: AsyncConnection) -> float:
    cur = await conn.execute("select greatest(reltuples, 0) as n from pg_class where oid = 'public.call_records'::regclass")
    return float((await cur.fetchone())["n"])


async def _drop_secondary_indexes(conn: AsyncConnection, tables: tuple[str, ...]) -> list[str]:
    """Drop the indexes of `tables` that back no constraint; returns their definitions."""
    cur = await conn.execute(
        """
        select quote_ident(n.nspname) || '.' || quote_ident(i.relname) as name, pg_get_indexdef(x.indexrelid) as definition
        from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace
        where x.indrelid = any(%s::regclass[])
          and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)
        """,
        ([f"public.{t}" for t in tables],),
    )
    rows = await cur.fetchall()
    for r in rows:
        await conn.execute(f"drop index {r['name']}")
    return [r["definition"] for r in rows]


async def _try(conn: AsyncConnection, sql: str) -> bool:
    try:
        async with conn.transaction():
            await conn.execute(sql)
        return True
    except psycopg.errors.InsufficientPrivilege:
        return False


@dataclass
class SeedReport:
    demo: Tenant
    other: Tenant
    calls: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return 2 * self.calls / self.seconds if self.seconds else 0.0  # a call and its usage row


# Rollups kept by per-row triggers, paused for a bulk load and rebuilt once after it:
# (table, trigger) pairs, and each rollup's table and rebuild function.
ROLLUP_TRIGGERS = (("provider_usage", "provider_usage_rollup"), ("provider_usage", "provider_usage_experiment_rollup"),
                   ("call_records", "call_records_experiment_rollup"), ("call_records", "call_records_latency_rollup"))
ROLLUPS = (("usage_daily", "private.rebuild_usage_daily"), ("experiment_daily", "private.rebuild_experiment_daily"),
           ("latency_daily", "private.rebuild_latency_daily"))


async def replace_calls(db: Database, tenants: list[tuple[Tenant, int]], *, now: datetime | None = None,
                        seed: int | None = None, on_progress: Callable[[int], None] | None = None) -> int:
    """Delete the tenants' calls and load new ones, in one transaction: the rollup triggers are
    paused (this transaction holds the tables meanwhile) and the rollups rebuilt once."""
    now = now or datetime.now(timezone.utc)
    rng = np.random.default_rng(seed)
    total = 0
    async with db.as_owner() as conn:
        book = await DemoRates.load(conn)
        providers = await _platform_ids(conn)
        # Deletes run with every trigger on, so cascades to any table referencing the calls happen
        # (the rollup is rebuilt below anyway).
        for tenant, _n in tenants:
            for rollup, _rebuild in ROLLUPS:
                await conn.execute(f"delete from public.{rollup} where organization_id = %s", (tenant.organization_id,))
            await conn.execute("delete from public.provider_usage where organization_id = %s", (tenant.organization_id,))
            await conn.execute("delete from public.call_records where organization_id = %s", (tenant.organization_id,))
        # Then skip per-row trigger work for the load: the rollup, and FK checks on rows generated
        # against keys just read. session_replication_role is superuser-only, so on a hosted
        # project only the rollup trigger is paused (holding provider_usage until commit).
        replica = await _try(conn, "set local session_replication_role = replica")
        if not replica:
            for table, trigger in ROLLUP_TRIGGERS:
                await conn.execute(f"alter table public.{table} disable trigger {trigger}")
        # A large load into small tables builds secondary indexes once at the end (faster than
        # row by row); constraint indexes stay. The indexes are read from the catalog, so ones
        # other migrations add are kept too.
        rebuild: list[str] = []
        if sum(n for _t, n in tenants) >= BULK_INDEX_THRESHOLD and await _rows_estimate(conn) < sum(n for _t, n in tenants):
            rebuild = await _drop_secondary_indexes(conn, ("call_records", "provider_usage"))
        # The next batch is generated in a thread while Postgres ingests the current one.
        jobs = [(tenant, min(CHUNK, n - start)) for tenant, n in tenants for start in range(0, n, CHUNK)]

        def make(job: tuple[Tenant, int]) -> CallBatch:
            return generate_calls(job[0], providers, book, job[1], now=now, rng=rng)

        pending = asyncio.ensure_future(asyncio.to_thread(make, jobs[0])) if jobs else None
        try:
            for i in range(len(jobs)):
                batch = await pending
                pending = asyncio.ensure_future(asyncio.to_thread(make, jobs[i + 1])) if i + 1 < len(jobs) else None
                async with conn.cursor() as cur:
                    async with cur.copy(f"copy public.call_records ({', '.join(CALL_COLUMNS)}) from stdin") as copy:
                        await copy.write(batch.calls)
                    async with cur.copy(f"copy public.provider_usage ({', '.join(USAGE_COLUMNS)}) from stdin") as copy:
                        await copy.write(batch.usage)
                total += batch.rows
                if on_progress:
                    on_progress(batch.rows)
        finally:
            if pending is not None:
                pending.cancel()
        for definition in rebuild:
            await conn.execute(definition)
        for tenant, _n in tenants:
            for _rollup, rebuild in ROLLUPS:
                await conn.execute(f"select {rebuild}(%s)", (tenant.organization_id,))
        if replica:
            await conn.execute("set local session_replication_role = origin")
        else:
            for table, trigger in ROLLUP_TRIGGERS:
                await conn.execute(f"alter table public.{table} enable trigger {trigger}")
    async with db.as_owner() as conn:
        await conn.execute("analyze public.call_records")
        await conn.execute("analyze public.provider_usage")
        for rollup, _rebuild in ROLLUPS:
            await conn.execute(f"analyze public.{rollup}")
    return total


def other_calls_for(calls: int) -> int:
    """Other Org stays small: 1% of the demo's calls, between 50 and 500."""
    return min(500, max(calls // 100, 50))


async def seed_demo(db: Database, calls: int = 50_000, *, other_calls: int | None = None, now: datetime | None = None,
                    seed: int | None = None, on_progress: Callable[[int], None] | None = None) -> SeedReport:
    """Both organisations (created or updated) and their calls (replaced)."""
    if calls < 0:
        raise ValueError("the number of calls cannot be negative")
    demo, other = await ensure_tenants(db)
    from switchboard.scenarios.demo import seed_demo_scenarios

    async with db.as_service() as conn:  # the front desk's test suite (issue #16)
        await seed_demo_scenarios(conn, demo.organization_id, demo.agent_config_id)
    other_calls = other_calls_for(calls) if other_calls is None else other_calls
    began = time.perf_counter()
    total = await replace_calls(db, [(demo, calls), (other, other_calls)], now=now, seed=seed, on_progress=on_progress)
    await seed_platform_health(db, now=now)
    return SeedReport(demo, other, total, time.perf_counter() - began)


async def seed_platform_health(db: Database, *, now: datetime | None = None, days: int = 7) -> None:
    """The router's minute buckets for the demo's calls of the last `days` days (replaced), so the
    health page shows the traffic the dashboard does: one hand-off per call, failed where the
    call errored, with a latency of 80–400 ms drawn per call (a hash of its id and platform)."""
    until = now or datetime.now(timezone.utc)
    async with db.as_service() as conn:
        await conn.execute("delete from public.provider_health_minutely where kind = 'handoff' and minute >= %s",
                           (until - timedelta(days=days),))
        await conn.execute(
            """
            insert into public.provider_health_minutely
              (provider_code, kind, minute, successes, failures, latency_ms_sum, latency_ms_max)
            select vp.code, 'handoff', date_trunc('minute', c.started_at),
                   count(*) filter (where c.status <> 'error'), count(*) filter (where c.status = 'error'),
                   sum(l.ms), max(l.ms)
            from public.call_records c
            join public.voice_ai_providers vp on vp.id = c.provider_id
            cross join lateral (select 80 + abs(hashtext(vp.code || c.id::text)) %% 320 as ms) l
            where c.started_at >= %s and c.started_at <= %s
            group by 1, 3
            on conflict (provider_code, kind, minute) do update
              set successes = excluded.successes, failures = excluded.failures,
                  latency_ms_sum = excluded.latency_ms_sum, latency_ms_max = excluded.latency_ms_max
            """,
            (until - timedelta(days=days), until),
        )


# ---------------------------------------------------------------------------------------
# CLI: `switchboard seed --demo [--calls N]`
# ---------------------------------------------------------------------------------------
def cli(
    demo: bool = typer.Option(False, "--demo", help="Load the demo organisations, users, agents and calls."),
    calls: int = typer.Option(50_000, "--calls", min=0, help="Calls for the demo organisation (over 90 days)."),
) -> None:
    """Load demo data (idempotent: re-running replaces the demo calls, never duplicates)."""
    from switchboard.db import database_url

    console = Console()
    if not demo:
        console.print("Nothing to seed: pass --demo (see `switchboard seed --help`).")
        raise typer.Exit(2)

    async def _run() -> SeedReport:
        async with Database(database_url(), min_size=1, max_size=2, name="seed") as db:
            with Progress(TextColumn("[bold]seeding calls"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console) as progress:
                task = progress.add_task("calls", total=calls + other_calls_for(calls))
                return await seed_demo(db, calls, on_progress=lambda rows: progress.advance(task, rows))

    report = asyncio.run(_run())
    console.print(
        f"[green]{report.calls:,} calls[/] (and their usage rows) in {report.seconds:.1f} s — "
        f"{report.rows_per_second:,.0f} rows/s"
    )
    console.print(f"Sign in as [bold]{DEMO_EMAIL}[/] / [bold]{DEMO_PASSWORD}[/] ({DEMO_ORG}); "
                  f"{OTHER_EMAIL} / {OTHER_PASSWORD} ({OTHER_ORG}) sees only its own data.")
