"""Where a scenario run lives: in Postgres, not in one process's memory. The organisation's
concurrency limit, the runner executing a run, and whether that runner is still alive.

Invariants:
- a run is executed by one runner at a time: `take_over` gives it a fresh `runner_token` (only
  when it is new, interrupted or its heartbeat is stale) and drops the slots of any earlier
  runner; the runner beats `heartbeat_at` every HEARTBEAT_SECONDS while it executes;
- a run whose last beat is over STALE_SECONDS old is interrupted: `shown` says so on every read,
  `sweep_interrupted` stores it (the server runs it periodically); a resumed run keeps its stored
  results (the runner runs the pairs not stored);
- a pair holds a slot of its organisation while its conversation is open; claims of one
  organisation are serialised by a transaction-level advisory lock on it, then counted: at most
  `scenario_concurrency` slots of live runners, whatever the runs and processes. Who waits holds
  a ticket (a slot row not yet held), granted oldest first, so a process recycling its own
  releases does not starve another process's run. A dead runner's
  slots stop counting by themselves (its run is no longer beating); other organisations never
  wait on that lock;
- in a process, one waiter per organisation claims at a time, first come first served (the
  others queue locally, not in the database); it is woken as soon as a slot of its organisation
  is released here — what other processes release (or stale slots) it sees by polling every
  POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from uuid import UUID

from switchboard.db import Database
from switchboard.errors import Conflict, NotFound
from switchboard.tenancy import Claims

HEARTBEAT_SECONDS = 2.0
STALE_SECONDS = 10.0  # five missed beats
POLL_SECONDS = 0.25
log = logging.getLogger(__name__)

_STALE = "r.status = 'running' and r.heartbeat_at < now() - make_interval(secs => %(stale)s)"


def interrupted_words(done: int, total: int, heartbeat_at: datetime) -> str:
    missing = total - done
    return (f"interrupted: the process running it stopped (no sign of life since {heartbeat_at:%Y-%m-%d %H:%M:%S} UTC); "
            f"{done} of {total} results are kept — resume it to run the {missing} missing"
            if missing > 0 else
            f"interrupted: the process running it stopped (no sign of life since {heartbeat_at:%Y-%m-%d %H:%M:%S} UTC) "
            f"after storing all {total} results — resume it to finish")


def shown(run: dict) -> tuple[str, str | None]:
    """A run row's (status, error) as users see them: a running run that stopped beating is
    interrupted, in words (`run` has `stale`, from `stale_column`)."""
    if run["status"] == "running" and run.get("stale"):
        return "interrupted", interrupted_words(run["done"], run["total"], run["heartbeat_at"])
    return run["status"], run["error"]


def stale_column() -> tuple[str, dict]:
    """A select-list column `stale` for a query over `public.scenario_runs r`, and its parameters."""
    return f"({_STALE}) as stale", {"stale": STALE_SECONDS}


async def take_over(db: Database, claims: Claims, organization_id: UUID, run_id: UUID) -> UUID:
    """Make this runner the run's one executor; its token. Refused (Conflict, in words) while
    another runner is alive, or once the run has finished."""
    async with db.as_user(claims) as conn:
        row = await (await conn.execute(
            f"""
            update public.scenario_runs r set runner_token = gen_random_uuid(), heartbeat_at = now(),
              status = 'running', error = null, finished_at = null
            where r.organization_id = %(org)s and r.id = %(run)s
              and (r.status = 'interrupted' or (r.status = 'running' and (r.runner_token is null or {_STALE})))
            returning r.runner_token
            """, {"org": organization_id, "run": run_id, "stale": STALE_SECONDS})).fetchone()
        if row is not None:
            await conn.execute("delete from public.scenario_slots where run_id = %s", (run_id,))
            return row["runner_token"]
        run = await (await conn.execute(
            "select status, heartbeat_at, extract(epoch from now() - heartbeat_at) as quiet from public.scenario_runs "
            "where organization_id = %s and id = %s", (organization_id, run_id))).fetchone()
    if run is None:
        raise NotFound("scenario run not found")
    if run["status"] == "running":
        raise Conflict(f"this run is still running (its last sign of life was {float(run['quiet']):.0f} s ago); "
                       "follow it, or resume it once it is shown interrupted")
    raise Conflict(f"this run has finished ({run['status']}); start a new run to test again")


async def sweep_interrupted(db: Database) -> int:
    """Store 'interrupted' (with the words) on every run whose runner stopped beating; how many."""
    async with db.as_service() as conn:
        rows = await (await conn.execute(
            f"""
            update public.scenario_runs r set status = 'interrupted'
            where {_STALE} returning r.id, r.done, r.total, r.heartbeat_at
            """, {"stale": STALE_SECONDS})).fetchall()
        for r in rows:
            await conn.execute("update public.scenario_runs set error = %s where id = %s",
                               (interrupted_words(r["done"], r["total"], r["heartbeat_at"]), r["id"]))
        await conn.execute("delete from public.scenario_slots s using public.scenario_runs r "
                           "where r.id = s.run_id and r.status <> 'running'")
    return len(rows)


@asynccontextmanager
async def beating(db: Database, claims: Claims, run_id: UUID, token: UUID) -> AsyncIterator[None]:
    """Beat the run's heartbeat while the block runs. Another runner taking the run over (it
    thought this one dead) cancels the block: two runners never store into one run."""
    block = asyncio.current_task()

    async def beat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                async with db.as_user(claims) as conn:
                    mine = await (await conn.execute(
                        "update public.scenario_runs set heartbeat_at = now() where id = %s and runner_token = %s "
                        "and status = 'running' returning id", (run_id, token))).fetchone()
            except Exception:  # a missed beat; the next may pass (staleness allows several)
                log.warning("scenario run heartbeat failed", exc_info=True, extra={"run_id": str(run_id)})
                continue
            if mine is None and block is not None:
                log.warning("scenario run taken over by another runner", extra={"run_id": str(run_id)})
                block.cancel()
                return

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


class _Waker:
    """The organisation's local queue of claimants and the releases that wake its head;
    `generation` counts releases so none is missed between a failed claim and the wait."""

    def __init__(self) -> None:
        self.generation = 0
        self.condition = asyncio.Condition()
        self.queue = asyncio.Lock()  # FIFO

    async def released(self) -> None:
        async with self.condition:
            self.generation += 1
            self.condition.notify()

    async def wait(self, seen: int, timeout: float) -> None:
        async with self.condition:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.condition.wait_for(lambda: self.generation > seen), timeout)


_wakers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[UUID, _Waker]] = weakref.WeakKeyDictionary()


def _waker(organization_id: UUID) -> _Waker:
    return _wakers.setdefault(asyncio.get_running_loop(), {}).setdefault(organization_id, _Waker())


async def _claim(db: Database, claims: Claims, organization_id: UUID, run_id: UUID, token: UUID,
                 ticket: UUID | None) -> tuple[bool, UUID]:
    """(granted, the slot row): granted while fewer than the limit are held by live runners
    counting the live tickets queued before `ticket` (all of them for a first try); a first
    try that is not granted leaves a ticket in the queue."""
    async with db.as_user(claims) as conn:
        await conn.execute("select pg_advisory_xact_lock(hashtextextended('scenario_slots:' || %s, 0))",
                           (str(organization_id),))
        row = await (await conn.execute(
            f"""
            with live as (
              select s.id, s.held, s.claimed_at from public.scenario_slots s join public.scenario_runs r on r.id = s.run_id
              where s.organization_id = %(org)s and r.runner_token = s.runner_token and r.status = 'running'
                and not ({_STALE})),
            mine as (select claimed_at, id from public.scenario_slots where id = %(ticket)s)
            select o.scenario_concurrency as limit, (select count(*) from live where held) as held,
              (select count(*) from live where not held and (%(ticket)s::uuid is null
                 or (live.claimed_at, live.id) < (select claimed_at, id from mine))) as ahead
            from public.organizations o where o.id = %(org)s
            """, {"org": organization_id, "stale": STALE_SECONDS, "ticket": ticket})).fetchone()
        granted = row is not None and row["held"] + row["ahead"] < row["limit"]
        if ticket is None:
            ticket = (await (await conn.execute(
                "insert into public.scenario_slots (organization_id, run_id, runner_token, held) values (%s, %s, %s, %s) "
                "returning id", (organization_id, run_id, token, granted))).fetchone())["id"]
        elif granted:
            await conn.execute("update public.scenario_slots set held = true where id = %s", (ticket,))
    return granted, ticket


@asynccontextmanager
async def slot(db: Database, claims: Claims, organization_id: UUID, run_id: UUID, token: UUID) -> AsyncIterator[None]:
    """Hold one of the organisation's conversation slots for the block (queueing for one first)."""
    waker = _waker(organization_id)
    ticket: UUID | None = None
    try:
        async with waker.queue:
            while True:
                seen = waker.generation
                granted, ticket = await _claim(db, claims, organization_id, run_id, token, ticket)
                if granted:
                    break
                await waker.wait(seen, POLL_SECONDS)
        yield
    finally:
        if ticket is not None:
            try:
                async with db.as_user(claims) as conn:
                    await conn.execute("delete from public.scenario_slots where id = %s", (ticket,))
            finally:
                await waker.released()
