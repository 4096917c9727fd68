# Size (over 400 lines): one outcome writes its minute bucket and its circuits in one transaction (record_outcome), read back by the breaker.
"""Platform health: per-minute success/latency buckets (`provider_health_minutely`, for the
dashboard) and circuit breakers whose state every process shares through Postgres.

Circuits per cause: every platform has one shared circuit (`provider_circuits`) and every
organisation may have its own circuit for it (`provider_org_circuits`).

* A failure of the platform itself — 5xx, a timeout, a connection error (`failure_cause`:
  "platform") — counts towards the shared circuit, which opens only once the run of failures has
  been seen from more than one organisation (`min_organizations`): one tenant cannot make a
  platform look down for everyone. A failure seen by no tenant in particular (the server's own
  keys) counts as the platform's on its own.
* Every failure of an organisation's call — its own (401/403/other 4xx, a bad key, an agent the
  platform refuses: "tenant") or the platform's — counts towards that organisation's circuit,
  which opens for that organisation only: its calls fail over to its next platform.

Each circuit: closed → open after `failure_threshold` consecutive failures → after `cool_down`
one process claims a probe (half-open, atomically in the database) → the probe's success closes
it, its failure opens it again. Reads are cheap: each process caches all circuit rows (shared,
and the organisations' that have failures) for about a second (`ttl`), re-read in the
background, so routing does not query the database per call; the database stays the only truth.

Hand-off and API outcomes drive the breaker; webhook and vendor outcomes are recorded in the
buckets only (a malformed webhook says nothing about whether the platform takes calls).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from psycopg import AsyncConnection

from switchboard.cache import TTLCache
from switchboard.db.pool import database_unavailable
from switchboard.providers.base import ProviderError, ProviderUnavailable

if TYPE_CHECKING:
    from switchboard.db import Database

log = logging.getLogger(__name__)

Kind = Literal["handoff", "webhook", "api", "vendor"]
CircuitStateName = Literal["closed", "open", "half_open"]
Cause = Literal["platform", "tenant"]

BREAKER_KINDS: frozenset[str] = frozenset({"handoff", "api"})
FAILURE_THRESHOLD = 5
COOL_DOWN_SECONDS = 30.0
PROBE_TIMEOUT_SECONDS = 15.0  # a claimed probe that never reports lets another process try
MIN_ORGANIZATIONS = 2  # a shared circuit opens only on failures seen from this many organisations
# An organisation's run of failures is forgotten after this long without one (its row is then
# no longer read, so a success would not have reset it).
ORG_FAILURE_WINDOW_SECONDS = 600.0
NO_ORGANIZATION = UUID(int=0)  # the origin of a failure seen by no tenant in particular
_MAX_FAILING_ORGS = 16


def failure_cause(exc: BaseException | None) -> Cause:
    """Whose failure this is. "platform": the platform is not serving — 5xx, a timeout, a
    connection error (`ProviderUnavailable` and `ProviderTimeout`, or a bare TimeoutError /
    OSError). "tenant": everything else — the platform refused the request (401/403/other 4xx:
    the organisation's key or agent), 429 (the organisation's own rate limit), an agent the
    platform's compiler refuses, an adapter error on the organisation's spec."""
    if isinstance(exc, ProviderUnavailable):
        return "tenant" if exc.status_code == 429 else "platform"
    if isinstance(exc, ProviderError):
        return "tenant"
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return "platform"
    return "tenant"


@dataclass(frozen=True)
class CircuitState:
    provider_code: str
    state: CircuitStateName = "closed"
    consecutive_failures: int = 0
    retry_at: datetime | None = None

    def blocks(self, now: datetime) -> bool:
        """Whether a call must skip this platform (open or probing, and not yet due a probe)."""
        if self.state == "closed":
            return False
        return self.retry_at is None or self.retry_at > now


@dataclass
class Circuits:
    """Every circuit as one process last read it: the shared ones by platform, and the
    organisations' own (only those with failures) by organisation and platform."""

    shared: dict[str, CircuitState] = field(default_factory=dict)
    orgs: dict[UUID, dict[str, CircuitState]] = field(default_factory=dict)


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
  state = 'closed', consecutive_failures = 0, opened_at = null, retry_at = null, failing_orgs = '{}',
  updated_at = now()
where c.state <> 'closed' or c.consecutive_failures <> 0
returning state, consecutive_failures, retry_at
"""

# The organisations of the run of failures, this one's added (a few are enough to know).
_NEW_ORGS = (f"(case when %(org)s::uuid = any(c.failing_orgs) or cardinality(c.failing_orgs) >= {_MAX_FAILING_ORGS} "
             "then c.failing_orgs else c.failing_orgs || %(org)s::uuid end)")
_SHARED_TRIPS = (
    "(c.state = 'half_open' or (c.state = 'closed' and c.consecutive_failures + 1 >= %(threshold)s and "
    f"('{NO_ORGANIZATION}'::uuid = any({_NEW_ORGS}) or cardinality({_NEW_ORGS}) >= %(min_orgs)s)))"
)
_FAILURE_SQL = f"""
insert into public.provider_circuits as c (provider_code, state, consecutive_failures, opened_at, retry_at, failing_orgs)
values (%(code)s,
        case when %(opens_at_once)s then 'open' else 'closed' end, 1,
        case when %(opens_at_once)s then now() end,
        case when %(opens_at_once)s then now() + make_interval(secs => %(cool_down)s) end,
        array[%(org)s::uuid])
on conflict (provider_code) do update set
  consecutive_failures = c.consecutive_failures + 1,
  failing_orgs = {_NEW_ORGS},
  state = case when {_SHARED_TRIPS} then 'open' else c.state end,
  opened_at = case when {_SHARED_TRIPS} then now() else c.opened_at end,
  retry_at = case when {_SHARED_TRIPS} then now() + make_interval(secs => %(cool_down)s) else c.retry_at end,
  updated_at = now()
returning state, consecutive_failures, retry_at
"""

# An organisation's circuit: a row only while it has failures (a success deletes it); a closed
# row whose last failure is older than the window starts a new run.
_ORG_COUNT = ("(case when c.state = 'closed' and c.updated_at < now() - make_interval(secs => %(window)s) "
              "then 0 else c.consecutive_failures end)")
_ORG_TRIPS = f"(c.state = 'half_open' or (c.state = 'closed' and {_ORG_COUNT} + 1 >= %(threshold)s))"
_ORG_FAILURE_SQL = f"""
insert into public.provider_org_circuits as c
  (organization_id, provider_code, state, consecutive_failures, opened_at, retry_at)
values (%(org)s, %(code)s,
        case when %(threshold)s <= 1 then 'open' else 'closed' end, 1,
        case when %(threshold)s <= 1 then now() end,
        case when %(threshold)s <= 1 then now() + make_interval(secs => %(cool_down)s) end)
on conflict (organization_id, provider_code) do update set
  consecutive_failures = {_ORG_COUNT} + 1,
  state = case when {_ORG_TRIPS} then 'open' else c.state end,
  opened_at = case when {_ORG_TRIPS} then now() else c.opened_at end,
  retry_at = case when {_ORG_TRIPS} then now() + make_interval(secs => %(cool_down)s) else c.retry_at end,
  updated_at = now()
returning state, consecutive_failures, retry_at
"""
_ORG_SUCCESS_SQL = """
delete from public.provider_org_circuits where organization_id = %s and provider_code = %s returning state
"""


async def _bucket(conn: AsyncConnection, code: str, kind: str, minute: datetime | None, ok: int, failed: int, lat_sum: float, lat_max: float) -> None:
    await conn.execute(_BUCKET_SQL, (code, kind, minute, ok, failed, lat_sum, lat_max))


async def _circuit(conn: AsyncConnection, code: str, ok: bool, *, threshold: int, cool_down: float,
                   organization_id: UUID | None = None, min_orgs: int = MIN_ORGANIZATIONS) -> CircuitState | None:
    """The shared circuit after one outcome (None: a success on a closed circuit, nothing changed)."""
    org = organization_id or NO_ORGANIZATION
    cur = await conn.execute(
        _SUCCESS_SQL if ok else _FAILURE_SQL,
        {"code": code, "threshold": threshold, "cool_down": cool_down, "org": org, "min_orgs": min_orgs,
         "opens_at_once": threshold <= 1 and (org == NO_ORGANIZATION or min_orgs <= 1)},
    )
    row = await cur.fetchone()
    if row is None:  # success on an already-closed circuit: nothing changed
        return None
    return CircuitState(code, row["state"], row["consecutive_failures"], row["retry_at"])


async def _org_circuit(conn: AsyncConnection, organization_id: UUID, code: str, ok: bool, *, threshold: int,
                       cool_down: float, window: float = ORG_FAILURE_WINDOW_SECONDS) -> CircuitState | None:
    """The organisation's circuit after one outcome (None: closed, no failures — no row)."""
    if ok:
        await conn.execute(_ORG_SUCCESS_SQL, (organization_id, code))
        return None
    cur = await conn.execute(_ORG_FAILURE_SQL, {"org": organization_id, "code": code, "threshold": threshold,
                                                "cool_down": cool_down, "window": window})
    row = await cur.fetchone()
    return CircuitState(code, row["state"], row["consecutive_failures"], row["retry_at"])


async def record_outcome(
    conn: AsyncConnection,
    provider_code: str,
    kind: Kind,
    ok: bool,
    latency_ms: float,
    *,
    organization_id: UUID | None = None,
    cause: Cause = "platform",
    failure_threshold: int = FAILURE_THRESHOLD,
    cool_down_seconds: float = COOL_DOWN_SECONDS,
    min_organizations: int = MIN_ORGANIZATIONS,
) -> CircuitState | None:
    """Record one outcome now: its minute bucket and, for hand-offs and API calls, the circuits
    its cause concerns. Returns the shared circuit's new state when it changed (None otherwise)."""
    await _bucket(conn, provider_code, kind, None, int(ok), int(not ok), float(latency_ms), float(latency_ms))
    if kind not in BREAKER_KINDS:
        return None
    if organization_id is not None:
        await _org_circuit(conn, organization_id, provider_code, ok, threshold=failure_threshold,
                           cool_down=cool_down_seconds)
    if not ok and organization_id is not None and cause != "platform":
        return None  # the organisation's own failure: the platform's circuit does not move
    return await _circuit(conn, provider_code, ok, threshold=failure_threshold, cool_down=cool_down_seconds,
                          organization_id=organization_id, min_orgs=min_organizations)


async def load_circuits(conn: AsyncConnection) -> dict[str, CircuitState]:
    """The shared circuits, by platform."""
    cur = await conn.execute(
        "select provider_code, state, consecutive_failures, retry_at from public.provider_circuits"
    )
    return {
        r["provider_code"]: CircuitState(r["provider_code"], r["state"], r["consecutive_failures"], r["retry_at"])
        for r in await cur.fetchall()
    }


async def load_org_circuits(conn: AsyncConnection, *, window: float = ORG_FAILURE_WINDOW_SECONDS
                            ) -> dict[UUID, dict[str, CircuitState]]:
    """The organisations' circuits that matter now (open or probing, or failing lately)."""
    cur = await conn.execute(
        "select organization_id, provider_code, state, consecutive_failures, retry_at from public.provider_org_circuits "
        "where state <> 'closed' or updated_at >= now() - make_interval(secs => %s)",
        (window,),
    )
    out: dict[UUID, dict[str, CircuitState]] = defaultdict(dict)
    for r in await cur.fetchall():
        out[r["organization_id"]][r["provider_code"]] = CircuitState(
            r["provider_code"], r["state"], r["consecutive_failures"], r["retry_at"])
    return dict(out)


# ---------------------------------------------------------------------------------------------
# The breaker as a process sees it: cached reads, probe claims, buffered buckets
# ---------------------------------------------------------------------------------------------

_EMPTY: dict[str, CircuitState] = {}


class CircuitBreaker:
    """One per process. `allow()` answers from a ~1 s cache; `outcome()` records an outcome,
    writing the circuits at once only when it matters (a failure, or a success on a circuit that
    is not plainly closed) and buffering the minute buckets for `flush()`."""

    def __init__(
        self,
        db: Database,
        *,
        ttl: float = 1.0,
        failure_threshold: int = FAILURE_THRESHOLD,
        cool_down_seconds: float = COOL_DOWN_SECONDS,
        probe_timeout_seconds: float = PROBE_TIMEOUT_SECONDS,
        min_organizations: int = MIN_ORGANIZATIONS,
    ):
        self.db = db
        self.ttl = ttl
        self.failure_threshold = failure_threshold
        self.cool_down_seconds = cool_down_seconds
        self.probe_timeout_seconds = probe_timeout_seconds
        self.min_organizations = min_organizations
        self._circuits: TTLCache[str, Circuits] = TTLCache(ttl, stale_if=database_unavailable, refresh_ahead=0.75)
        # (code, kind, minute) -> [successes, failures, latency sum, latency max]
        self._buckets: dict[tuple[str, str, datetime], list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])

    # --- reads --------------------------------------------------------------------------
    async def circuits(self) -> Circuits:
        """Every circuit, at most `ttl` old (re-read in the background as it ages, so a call
        does not wait for it) — or, while the database is away, as last read: calls keep being
        routed on what was known."""
        return await self._circuits.get("all", self._load)

    async def states(self) -> dict[str, CircuitState]:
        """The shared circuits, by platform (see `circuits`)."""
        return (await self.circuits()).shared

    async def _load(self) -> Circuits:
        async with self.db.as_service() as conn:
            return Circuits(await load_circuits(conn), await load_org_circuits(conn))

    @property
    def _known(self) -> Circuits:
        """The circuits as last read (changed in place by this process's own outcomes)."""
        known = self._circuits.peek("all")
        if known is None:
            return Circuits()  # nothing read yet: a change made now is picked up by the first read
        return known

    @property
    def _states(self) -> dict[str, CircuitState]:
        return self._known.shared

    def invalidate(self) -> None:
        self._circuits.invalidate("all")

    async def blocked(self, organization_id: UUID | None = None) -> set[str]:
        """Platforms a call (of `organization_id`) must skip right now: the shared circuits and
        the organisation's own that are open and not yet due a probe."""
        now = datetime.now(UTC)
        known = await self.circuits()
        out = {code for code, st in known.shared.items() if st.blocks(now)}
        own = known.orgs.get(organization_id) if organization_id is not None else None
        if own:
            out.update(code for code, st in own.items() if st.blocks(now))
        return out

    async def allow(self, provider_code: str, organization_id: UUID | None = None) -> bool:
        """Whether a call (of `organization_id`) may go to this provider: both its circuits
        closed → yes; one open and due a probe → yes for the one process that claims the probe
        in the database; otherwise no."""
        known = await self.circuits()
        shared = known.shared.get(provider_code)
        own = known.orgs.get(organization_id, _EMPTY).get(provider_code) if organization_id is not None else None
        if (shared is None or shared.state == "closed") and (own is None or own.state == "closed"):
            return True  # the common case: nothing to check against the clock
        now = datetime.now(UTC)
        if (shared is not None and shared.blocks(now)) or (own is not None and own.blocks(now)):
            return False
        for st, org in ((own, organization_id), (shared, None)):
            if st is None or st.state == "closed":
                continue
            try:
                row = await self._claim_probe(provider_code, org)
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                return False  # no probe while the claim cannot be made: another process may hold it
            if row is None:
                self.invalidate()
                return False
            self._remember(provider_code, org, CircuitState(provider_code, row["state"], row["consecutive_failures"],
                                                            row["retry_at"]))
        return True

    async def _claim_probe(self, provider_code: str, organization_id: UUID | None = None):
        async with self.db.as_service() as conn:
            if organization_id is None:
                cur = await conn.execute(
                    """
                    update public.provider_circuits
                    set state = 'half_open', retry_at = now() + make_interval(secs => %s), updated_at = now()
                    where provider_code = %s and state <> 'closed' and retry_at <= now()
                    returning state, consecutive_failures, retry_at
                    """,
                    (self.probe_timeout_seconds, provider_code),
                )
            else:
                cur = await conn.execute(
                    """
                    update public.provider_org_circuits
                    set state = 'half_open', retry_at = now() + make_interval(secs => %s), updated_at = now()
                    where organization_id = %s and provider_code = %s and state <> 'closed' and retry_at <= now()
                    returning state, consecutive_failures, retry_at
                    """,
                    (self.probe_timeout_seconds, organization_id, provider_code),
                )
            return await cur.fetchone()

    def _remember(self, code: str, organization_id: UUID | None, state: CircuitState | None) -> None:
        """This process's own change, until the next read."""
        known = self._circuits.peek("all")
        if known is None:
            return
        if organization_id is None:
            known.shared[code] = state or CircuitState(code)
        elif state is None:
            known.orgs.get(organization_id, {}).pop(code, None)
        else:
            known.orgs.setdefault(organization_id, {})[code] = state

    # --- writes -------------------------------------------------------------------------
    async def outcome(self, provider_code: str, kind: Kind, ok: bool, latency_ms: float, *,
                      organization_id: UUID | None = None, cause: Cause = "platform") -> None:
        """Record one outcome. A failure's `cause` ("platform" or "tenant", see `failure_cause`)
        says which circuits it counts towards; `organization_id` is whose call it was."""
        minute = datetime.now(UTC).replace(second=0, microsecond=0)
        b = self._buckets[(provider_code, kind, minute)]
        b[0 if ok else 1] += 1
        b[2] += latency_ms
        b[3] = max(b[3], latency_ms)
        if kind not in BREAKER_KINDS:
            return
        known = self._known
        shared = known.shared.get(provider_code)
        own = known.orgs.get(organization_id, _EMPTY).get(provider_code) if organization_id is not None else None
        if ok:
            write_shared = not (shared is None or (shared.state == "closed" and shared.consecutive_failures == 0))
            write_own = own is not None
        else:
            write_own = organization_id is not None
            # A tenant's own failure says nothing about the platform; one seen by no tenant does.
            write_shared = cause == "platform" or organization_id is None
        if not (write_shared or write_own):
            return  # the common case costs no database write
        try:
            async with self.db.as_service() as conn:
                if write_own:
                    changed_own = await _org_circuit(conn, organization_id, provider_code, ok,
                                                     threshold=self.failure_threshold, cool_down=self.cool_down_seconds)
                if write_shared:
                    changed = await _circuit(conn, provider_code, ok, threshold=self.failure_threshold,
                                             cool_down=self.cool_down_seconds, organization_id=organization_id,
                                             min_orgs=self.min_organizations)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            # The shared circuits cannot move while the database is away; the call goes on.
            log.warning("circuit of %s not updated: %s", provider_code, type(exc).__name__)
            return
        if write_own:
            self._remember(provider_code, organization_id, changed_own)
        if write_shared and (changed is not None or ok):
            self._remember(provider_code, None, changed)

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
