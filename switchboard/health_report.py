"""What the platform-health page shows: per platform over a window (the last hour, 24 hours or
7 days), success rate and latency (from the router's minute buckets, summed in the database)
and the shared circuit breaker's state. Reads only; the buckets and circuits are written by
`switchboard.health`.

Platform health is not tenant data: any signed-in user may read it (RLS `health_read`). The
worker's STT/LLM/TTS vendors are reported the same way (`vendor_health`), with the remaining
quota the vendor publishes for the caller's organisation (`vendor_quotas`, its own rows)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

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


async def _rates(conn: AsyncConnection, *, hours: int, now: datetime | None, kind: str | None = None) -> dict:
    """The window's minute buckets summed per provider code (of one kind, or all)."""
    since = (now or datetime.now(timezone.utc)) - timedelta(hours=hours)
    cur = await conn.execute(
        "select provider_code, min(minute) as minute, sum(successes)::int as successes, "
        "sum(failures)::int as failures, sum(latency_ms_sum) as latency_ms_sum, max(latency_ms_max) as latency_ms_max "
        "from public.provider_health_minutely where minute >= %s and (%s::text is null or kind = %s) group by provider_code",
        (since, kind, kind),
    )
    return success_rates(await cur.fetchall())


async def platform_health(conn: AsyncConnection, *, hours: int = 24, now: datetime | None = None) -> list[PlatformHealth]:
    rates = await _rates(conn, hours=hours, now=now)
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


# ---------------------------------------------------------------------------------------------
# Vendors (the LiveKit worker's STT/LLM/TTS): attempts from inside calls, remaining quota
# ---------------------------------------------------------------------------------------------
class VendorHealth(BaseModel):
    key: str  # catalog key, e.g. 'cartesia-tts'
    name: str
    type: str  # stt | llm | tts
    attempts: int
    success_rate: float | None
    avg_latency_ms: float | None
    max_latency_ms: float | None
    quota_remaining: Decimal | None = None  # what the vendor says is left on the organisation's key
    quota_limit: Decimal | None = None
    quota_unit: str | None = None
    quota_resets_at: datetime | None = None
    quota_checked_at: datetime | None = None

    def quota_words(self) -> str:
        """The remaining quota as the health page says it ("" when the vendor publishes none)."""
        if self.quota_remaining is None:
            return ""
        if self.quota_remaining <= 0:
            words = "Quota used up: calls use the next vendor"
        elif self.quota_unit == "usd":
            words = f"${self.quota_remaining:,.2f} of credit left"
        else:
            words = f"{self.quota_remaining:,.0f} {self.quota_unit} left"
            if self.quota_limit is not None:
                words += f" of {self.quota_limit:,.0f}"
        if self.quota_resets_at is not None:
            words += f" · resets {self.quota_resets_at:%d %b %Y %H:%M} UTC"
        return words


async def vendor_health(conn: AsyncConnection, *, hours: int = 24, now: datetime | None = None) -> list[VendorHealth]:
    """The vendors the caller's organisations use (configured, or seen in calls in the window),
    with their attempts' success and latency (all organisations' calls: vendor health, like
    platform health, is not tenant data) and the organisation's remaining quota (RLS: its own)."""
    rates = await _rates(conn, hours=hours, now=now, kind="vendor")
    cur = await conn.execute(
        "select p.key, p.name, p.type, p.vendor from public.providers p where p.is_active and (p.key = any(%s) "
        "or exists (select 1 from public.organization_provider_configs c where c.provider_id = p.id and c.is_enabled)) "
        "order by p.type, p.name",
        (list(rates),),
    )
    providers = await cur.fetchall()
    cur = await conn.execute("select vendor, remaining, quota_limit, unit, resets_at, checked_at from public.vendor_quotas")
    quotas = {q["vendor"]: q for q in await cur.fetchall()}
    report = []
    for p in providers:
        r, q = rates.get(p["key"]), quotas.get(p["vendor"])
        report.append(VendorHealth(
            key=p["key"], name=p["name"], type=p["type"], attempts=int(r["total"]) if r else 0,
            success_rate=r["success_rate"] if r else None,
            avg_latency_ms=r["avg_latency_ms"] if r else None, max_latency_ms=r["max_latency_ms"] if r else None,
            quota_remaining=q["remaining"] if q else None, quota_limit=q["quota_limit"] if q else None,
            quota_unit=q["unit"] if q else None, quota_resets_at=q["resets_at"] if q else None,
            quota_checked_at=q["checked_at"] if q else None,
        ))
    return report
