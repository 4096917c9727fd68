"""Provider health: per-minute success/latency buckets (`provider_health_minutely`, for the
dashboard) and a per-provider circuit breaker whose state every process shares through
`provider_circuits`.

The breaker: closed → open after `failure_threshold` consecutive failures → after `cool_down`
one process claims a probe (half-open, atomically in the database) → the probe's success closes
it, its failure opens it again. Reads are cheap: each process caches all circuit rows for about
a second (`ttl`), so routing does not query the database per call; the database stays the only
truth, and a cached state is simply re-read when it expires.

Hand-off and API outcomes drive the breaker; webhook and vendor outcomes are recorded in the
buckets only (a malformed webhook says nothing about whether the platform takes calls).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from psycopg import AsyncConnection

from switchboard.cache import TTLCache
from switchboard.db.pool import database_unavailable

if TYPE_CHECKING:
    from switchboard.db import Database

log = logging.getLogger(__name__)

Kind = Literal["handoff", "webhook", "api", "vendor"]
CircuitStateName = Literal["closed", "open", "half_open"]

BREAKER_KINDS: frozenset[str] = frozenset({"handoff", "api"})
FAILURE_THRESHOLD = 5
COOL_DOWN_SECONDS = 30.0
PROBE_TIMEOUT_SECONDS = 15.0  # a claimed probe that never reports lets another process try


@dataclass(frozen=True)
class CircuitState:
    provider_code: str
    state: CircuitStateName = "closed"
    consecutive_failures: int = 0
    retry_at: datetime | None = None

    def blocks(self, now: datetime) -> bool:
        """Whether a call must skip this provider (open or probing, and not yet due a probe)."""
        if self.state == "closed":
            return False
        return self.retry_at is None or self.retry_at > now


# ---------------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------------

_BUCKET_SQL = """
insert into public.provider_health_minutely as h
  (provider_code, kind, minute, successes, failures, latency_ms_sum, latency_ms_max)
values (%s, %s, date_trunc('minute', coalesce(%s, now())), %s, %s, %s, %s)
on conflict (provider_code, kind, minute) do update set
  successes = h.successes + excluded.successes,
  failures = h.failures + excluded.failures,
  latency_ms_sum = h.latency_ms_sum + excluded.latency_ms_sum,
  latency_ms_max = greatest(h.latency_ms_max, excluded.latency_ms_max)
"""

_SUCCESS_SQL = """
insert into public.provider_circuits as c (provider_code) values (%(code)s)
on conflict (provider_code) do update set
  state = 'closed', consecutive_failures = 0, opened_at = null, retry_at = null, updated_at = now()
where c.state <> 'closed' or c.consecutive_failures <> 0
returning state, consecutive_failures, retry_at
"""

_FAILURE_SQL = """
insert into public.provider_circuits as c (provider_code, state, consecutive_failures, opened_at, retry_at)
values (%(code)s,
        case when %(threshold)s <= 1 then 'open' else 'closed' end, 1,
        case when %(threshold)s <= 1 then now() end,
        case when %(threshold)s <= 1 then now() + make_interval(secs => %(cool_down)s) end)
on conflict (provider_code) do update set
  consecutive_failures = c.consecutive_failures + 1,
  state = case when c.state = 'half_open'
                 or (c.state = 'closed' and c.consecutive_failures + 1 >= %(threshold)s) then 'open'
               else c.state end,
  opened_at = case when c.state = 'half_open'
                     or (c.state = 'closed' and c.consecutive_failures + 1 >= %(threshold)s) then now()
                   else c.opened_at end,
  retry_at = case when c.state = 'half_open'
                    or (c.state = 'closed' and c.consecutive_failures + 1 >= %(threshold)s)
                  then now() + make_interval(secs => %(cool_down)s)
                  else c.retry_at end,
  updated_at = now()
returning state, consecutive_failures, retry_at
"""


async def _bucket(conn: AsyncConnection, code: str, kind: str, minute: datetime | None, ok: int, failed: int, lat_sum: float, lat_max: float) -> None:
    await conn.execute(_BUCKET_SQL, (code, kind, minute, ok, failed, lat_sum, lat_max))


async def _circuit(conn: AsyncConnection, code: str, ok: bool, *, threshold: int, cool_down: float) -> CircuitState | None:
    cur = await conn.execute(
        _SUCCESS_SQL if ok else _FAILURE_SQL,
        {"code": code, "threshold": threshold, "cool_down": cool_down},
    )
    row = await cur.fetchone()
    if row is None:  # success on an already-closed circuit: nothing changed
        return None
    return CircuitState(code, row["state"], row["consecutive_failures"], row["retry_at"])


async def record_outcome(
    conn: AsyncConnection,
    provider_code: str,
    kind: Kind,
    ok: bool,
    latency_ms: float,
    *,
    failure_threshold: int = FAILURE_THRESHOLD,
    cool_down_seconds: float = COOL_DOWN_SECONDS,
) -> CircuitState | None:
    """Record one outcome now: its minute bucket and, for hand-offs and API calls, the circuit.
    Returns the circuit's new state when it changed (None otherwise)."""
    await _bucket(conn, provider_code, kind, None, int(ok), int(not ok), float(latency_ms), float(latency_ms))
    if kind not in BREAKER_KINDS:
        return None
    return await _circuit(conn, provider_code, ok, threshold=failure_threshold, cool_down=cool_down_seconds)


async def load_circuits(conn: AsyncConnection) -> dict[str, CircuitState]:
    cur = await conn.execute(
        "select provider_code, state, consecutive_failures, retry_at from public.provider_circuits"
    )
    return {
        r["provider_code"]: CircuitState(r["provider_code"], r["state"], r["consecutive_failures"], r["retry_at"])
        for r in await cur.fetchall()
    }


# ---------------------------------------------------------------------------------------------
# The breaker as a process sees it: cached reads, probe claims, buffered buckets
# ---------------------------------------------------------------------------------------------


class CircuitBreaker:
    """One per process. `allow()` answers from a ~1 s cache; `outcome()` records an outcome,
    writing the circuit at once only when it matters (a failure, or a success on a circuit that
    is not plainly closed) and buffering the minute buckets for `flush()`."""

    def __init__(
        self,
        db: Database,
        *,
        ttl: float = 1.0,
        failure_threshold: int = FAILURE_THRESHOLD,
        cool_down_seconds: float = COOL_DOWN_SECONDS,
        probe_timeout_seconds: float = PROBE_TIMEOUT_SECONDS,
    ):
        self.db = db
        self.ttl = ttl
        self.failure_threshold = failure_threshold
        self.cool_down_seconds = cool_down_seconds
        self.probe_timeout_seconds = probe_timeout_seconds
        self._circuits: TTLCache[str, dict[str, CircuitState]] = TTLCache(
            ttl, stale_if=database_unavailable, refresh_ahead=0.75)
        # (code, kind, minute) -> [successes, failures, latency sum, latency max]
        self._buckets: dict[tuple[str, str, datetime], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])

    # --- reads --------------------------------------------------------------------------
    async def states(self) -> dict[str, CircuitState]:
        """Every circuit, at most `ttl` old (re-read in the background as it ages, so a call
        does not wait for it) — or, while the database is away, as last read: calls keep being
        routed on what was known."""
        return await self._circuits.get("all", self._load)

    async def _load(self) -> dict[str, CircuitState]:
        async with self.db.as_service() as conn:
            return await load_circuits(conn)

    @property
    def _states(self) -> dict[str, CircuitState]:
        """The circuits as last read (changed in place by this process's own outcomes)."""
        states = self._circuits.peek("all")
        if states is None:
            return {}  # nothing read yet: a change made now is picked up by the first read
        return states

    def invalidate(self) -> None:
        self._circuits.invalidate("all")

    async def blocked(self) -> set[str]:
        """Providers a call must skip right now (open, not yet due a probe)."""
        now = datetime.now(UTC)
        return {code for code, st in (await self.states()).items() if st.blocks(now)}

    async def allow(self, provider_code: str) -> bool:
        """Whether a call may go to this provider: closed → yes; open and due a probe → yes for
        the one process that claims the probe in the database; otherwise no."""
        st = (await self.states()).get(provider_code)
        if st is None or st.state == "closed":
            return True
        if st.blocks(datetime.now(UTC)):
            return False
        try:
            row = await self._claim_probe(provider_code)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            return False  # no probe while the claim cannot be made: another process may hold it
        if row is None:
            self.invalidate()
            return False
        self._states[provider_code] = CircuitState(provider_code, row["state"], row["consecutive_failures"], row["retry_at"])
        return True

    async def _claim_probe(self, provider_code: str):
        async with self.db.as_service() as conn:
            cur = await conn.execute(
                """
                update public.provider_circuits
                set state = 'half_open', retry_at = now() + make_interval(secs => %s), updated_at = now()
                where provider_code = %s and state <> 'closed' and retry_at <= now()
                returning state, consecutive_failures, retry_at
                """,
                (self.probe_timeout_seconds, provider_code),
            )
            return await cur.fetchone()

    # --- writes -------------------------------------------------------------------------
    async def outcome(self, provider_code: str, kind: Kind, ok: bool, latency_ms: float) -> None:
        minute = datetime.now(UTC).replace(second=0, microsecond=0)
        b = self._buckets[(provider_code, kind, minute)]
        b[0 if ok else 1] += 1
        b[2] += latency_ms
        b[3] = max(b[3], latency_ms)
        if kind not in BREAKER_KINDS:
            return
        cached = self._states.get(provider_code)
        if ok and (cached is None or (cached.state == "closed" and cached.consecutive_failures == 0)):
            return  # the common case costs no database write
        try:
            async with self.db.as_service() as conn:
                changed = await _circuit(
                    conn, provider_code, ok, threshold=self.failure_threshold, cool_down=self.cool_down_seconds
                )
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            # The shared circuit cannot move while the database is away; the call goes on.
            log.warning("circuit of %s not updated: %s", provider_code, type(exc).__name__)
            return
        if changed is not None:
            self._states[provider_code] = changed
        elif ok:
            self._states[provider_code] = CircuitState(provider_code)

    async def flush(self) -> int:
        """Write the buffered minute buckets; returns how many were written."""
        if not self._buckets:
            return 0
        buckets, self._buckets = self._buckets, defaultdict(lambda: [0, 0, 0.0, 0.0])
        try:
            async with self.db.as_service() as conn:
                async with conn.cursor() as cur:
                    await cur.executemany(
                        _BUCKET_SQL,
                        [(code, kind, minute, int(b[0]), int(b[1]), b[2], b[3]) for (code, kind, minute), b in buckets.items()],
                    )
        except Exception:
            for key, b in buckets.items():  # keep them for the next flush
                mine = self._buckets[key]
                mine[0] += b[0]
                mine[1] += b[1]
                mine[2] += b[2]
                mine[3] = max(mine[3], b[3])
            raise
        return len(buckets)


def success_rates(rows: list[dict], *, since: datetime | None = None) -> dict[str, dict[str, float]]:
    """Summarise minute buckets into {provider: {success_rate, avg_latency_ms, max_latency_ms, total}}."""
    out: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for r in rows:
        if since is not None and r["minute"] < since:
            continue
        a = out[r["provider_code"]]
        a[0] += r["successes"]
        a[1] += r["failures"]
        a[2] += r["latency_ms_sum"]
        a[3] = max(a[3], r["latency_ms_max"])
    summary = {}
    for code, (ok, failed, lat_sum, lat_max) in out.items():
        total = ok + failed
        summary[code] = {
            "success_rate": ok / total if total else 1.0,
            "avg_latency_ms": lat_sum / total if total else 0.0,
            "max_latency_ms": lat_max,
            "total": total,
        }
    return summary
