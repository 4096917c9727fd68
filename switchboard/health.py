"""Provider health: per-minute outcome buckets in `provider_health_minutely`, shared by every
process (edge functions record hand-offs, webhooks and API calls; the LiveKit worker records its
STT/LLM/TTS vendors). Writers add to the bucket of the minute the outcome happened in."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from psycopg import AsyncConnection

HealthKind = Literal["handoff", "webhook", "api", "vendor"]


def minute_of(at: datetime | None = None) -> datetime:
    at = at or datetime.now(timezone.utc)
    return at.astimezone(timezone.utc).replace(second=0, microsecond=0)


async def record_outcomes(
    conn: AsyncConnection,
    provider_code: str,
    kind: HealthKind,
    *,
    successes: int = 0,
    failures: int = 0,
    latency_ms_sum: float = 0.0,
    latency_ms_max: float = 0.0,
    at: datetime | None = None,
) -> None:
    """Add a batch of outcomes to one minute bucket (a process that aggregates in memory flushes
    with one statement per provider and minute)."""
    if successes < 0 or failures < 0 or latency_ms_sum < 0 or latency_ms_max < 0:
        raise ValueError("outcome counts and latencies cannot be negative")
    if successes == 0 and failures == 0:
        return
    await conn.execute(
        """
        insert into public.provider_health_minutely as h
          (provider_code, kind, minute, successes, failures, latency_ms_sum, latency_ms_max)
        values (%s, %s, %s, %s, %s, %s, %s)
        on conflict (provider_code, kind, minute) do update set
          successes = h.successes + excluded.successes,
          failures = h.failures + excluded.failures,
          latency_ms_sum = h.latency_ms_sum + excluded.latency_ms_sum,
          latency_ms_max = greatest(h.latency_ms_max, excluded.latency_ms_max)
        """,
        (provider_code, kind, minute_of(at), successes, failures, latency_ms_sum, latency_ms_max),
    )


async def record_outcome(
    conn: AsyncConnection,
    provider_code: str,
    kind: HealthKind,
    ok: bool,
    latency_ms: float,
    *,
    at: datetime | None = None,
) -> None:
    """One outcome (success or failure, with its latency) into its minute bucket."""
    latency_ms = max(0.0, float(latency_ms))
    await record_outcomes(
        conn,
        provider_code,
        kind,
        successes=1 if ok else 0,
        failures=0 if ok else 1,
        latency_ms_sum=latency_ms,
        latency_ms_max=latency_ms,
        at=at,
    )
