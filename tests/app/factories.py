"""Test data for the app's tests, written the way the trusted paths write it (service role),
with users created as GoTrue would (auth.users)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from uuid import UUID

from switchboard.db import Database
from switchboard.tenancy import Claims


async def make_user(db: Database, email: str | None = None) -> Claims:
    user_id = uuid.uuid4()
    email = email or f"user-{user_id.hex[:8]}@example.test"
    async with db.pool.connection() as conn:  # auth.users belongs to the auth service, not the API roles
        await conn.execute(
            "insert into auth.users (id, aud, role, email, created_at, updated_at) "
            "values (%s, 'authenticated', 'authenticated', %s, now(), now())",
            (user_id, email),
        )
    return Claims(sub=user_id, email=email)


async def make_org(db: Database, owner: Claims, name: str = "Acme Dental") -> UUID:
    async with db.as_user(owner) as conn:
        cur = await conn.execute("select public.create_organization(%s) as id", (name,))
        return (await cur.fetchone())["id"]


async def make_agent(db: Database, org: UUID, *, provider: str = "retell", custom_voice: bool = False) -> UUID:
    async with db.as_service() as conn:
        cur = await conn.execute(
            "insert into public.agent_configs (organization_id, name, voice, active_provider_id) "
            "select %s, 'Front desk', jsonb_build_object('vendor', 'cartesia', 'voice_id', 'v-1', 'custom', %s::boolean), id "
            "from public.voice_ai_providers where code = %s returning id",
            (org, custom_voice, provider),
        )
        return (await cur.fetchone())["id"]


async def add_calls(
    db: Database, org: UUID, agent: UUID | None, provider: str, n: int, *,
    arm: str | None = None, cost_per_minute: float = 0.10, cpm_jitter: float = 0.01,
    duration: int = 180, success_rate: float = 0.8, positive_rate: float = 0.5,
    started: datetime | None = None, seed: int = 1, version: UUID | None = None,
) -> None:
    """n ended calls with usage (served by `version`, else by the agent's live one). Values vary deterministically (hash of the row number) so that
    means and variances are known-ish but not constant."""
    started = started or datetime.now(timezone.utc) - timedelta(hours=1)
    async with db.as_service() as conn:
        await conn.execute(
            """
            with p as (select id from public.voice_ai_providers where code = %(provider)s),
            g as (
              select i,
                ((hashtext(%(seed)s::text || ':' || i::text) & 65535) / 65535.0) as r1,
                ((hashtext('b' || %(seed)s::text || ':' || i::text) & 65535) / 65535.0) as r2,
                ((hashtext('c' || %(seed)s::text || ':' || i::text) & 65535) / 65535.0) as r3
              from generate_series(1, %(n)s) i
            ),
            calls as (
              insert into public.call_records (organization_id, agent_config_id, provider_id, provider_call_id,
                direction, status, started_at, ended_at, duration_seconds, successful, sentiment, experiment_arm,
                from_number, to_number, transcript, agent_version_id)
              select %(org)s, %(agent)s, p.id, 'call-' || %(seed)s || '-' || %(provider)s || '-' || g.i || '-' || gen_random_uuid(),
                'inbound', 'ended', %(started)s - (g.i || ' seconds')::interval,
                %(started)s - (g.i || ' seconds')::interval + (greatest(10, round(%(duration)s * (0.5 + g.r1)))::int || ' seconds')::interval,
                greatest(10, round(%(duration)s * (0.5 + g.r1)))::int,
                g.r2 < %(success)s,
                case when g.r3 < %(positive)s then 'positive' when g.r3 < %(positive)s + 0.2 then 'neutral' else 'negative' end,
                %(arm)s, '+15550100' || lpad((g.i %% 100)::text, 2, '0'), '+15550199999',
                'Agent: Hello! User: I would like an appointment.', %(version)s::uuid
              from g, p
              returning id, provider_id, duration_seconds, started_at
            )
            insert into public.provider_usage (organization_id, provider_id, call_id, usage_date, duration_seconds,
              cost_amount, stt_cost, llm_cost, tts_cost, platform_cost, telephony_cost)
            select %(org)s, c.provider_id, c.id, (c.started_at at time zone 'utc')::date, c.duration_seconds,
              x.total, x.total * 0.1, x.total * 0.2, x.total * 0.2, x.total * 0.4, x.total * 0.1
            from calls c,
              lateral (select round((c.duration_seconds / 60.0) *
                (%(cpm)s::numeric + %(jitter)s::numeric * (((hashtext(c.id::text) & 65535) / 65535.0) - 0.5) * 2), 6) as total) x
            """,
            {"provider": provider, "seed": seed, "n": n, "org": org, "agent": agent, "started": started,
             "duration": duration, "success": success_rate, "positive": positive_rate, "arm": arm,
             "cpm": cost_per_minute, "jitter": cpm_jitter, "version": version},
        )
