"""What the platform-health page shows: per platform over a window (the last hour, 24 hours or
7 days), success rate and latency (from the router's minute buckets, summed in the database)
and the shared circuit breaker's state. Reads only; the buckets and circuits are written by
`switchboard.health`.

Platform health is not tenant data: any signed-in user may read it (RLS `health_read`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from psycopg import AsyncConnection
from pydantic import BaseModel

from switchboard.health import load_circuits, success_rates


class PlatformHealth(BaseModel):
    code: str
    name: str
    attempts: int
    success_rate: float | None
    avg_latency_ms: float | None
    max_latency_ms: float | None
    circuit: str  # closed | open | half_open
    consecutive_failures: int


# The windows the page offers, in hours, by the label it shows.
WINDOWS = {"1 h": 1, "24 h": 24, "7 d": 24 * 7}


async def platform_health(conn: AsyncConnection, *, hours: int = 24, now: datetime | None = None) -> list[PlatformHealth]:
    since = (now or datetime.now(timezone.utc)) - timedelta(hours=hours)
    cur = await conn.execute(
        "select provider_code, min(minute) as minute, sum(successes)::int as successes, "
        "sum(failures)::int as failures, sum(latency_ms_sum) as latency_ms_sum, max(latency_ms_max) as latency_ms_max "
        "from public.provider_health_minutely where minute >= %s group by provider_code",
        (since,),
    )
    rates = success_rates(await cur.fetchall())
    circuits = await load_circuits(conn)
    cur = await conn.execute("select code, name from public.voice_ai_providers where is_active order by name")
    report = []
    for p in await cur.fetchall():
        r = rates.get(p["code"])
        c = circuits.get(p["code"])
        report.append(PlatformHealth(
            code=p["code"], name=p["name"], attempts=int(r["total"]) if r else 0,
            success_rate=r["success_rate"] if r else None,
            avg_latency_ms=r["avg_latency_ms"] if r else None, max_latency_ms=r["max_latency_ms"] if r else None,
            circuit=c.state if c else "closed", consecutive_failures=c.consecutive_failures if c else 0,
        ))
    return report
