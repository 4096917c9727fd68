"""Group commit for hot write paths. `GroupWriter`: concurrent callers' rows are written together in one
transaction, and each caller resumes only when that transaction has committed — the same
promise as writing alone (the row is on disk when `submit` returns), at a fraction of the round
trips. While one batch is being written the next one gathers, so under load batches grow and
at low load a row waits for nothing but its own transaction. `WriteBehind`: the same batching
for rows nobody waits for (written after the answer, retried while the database is away).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class GroupWriter(Generic[T, R]):
    def __init__(self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *, max_batch: int = 256):
        """`write(items)` writes every item in one transaction and returns one result per item
        (in order); a result that is an exception instance is raised to that item's caller alone
        (a row the database refused), and if `write` raises, every caller of that batch gets it."""
        self._write = write
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._running: asyncio.Task | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._running is None:
            self._running = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(0)  # let callers of this loop iteration join the first batch
            while self._pending:
                batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch:]
                try:
                    results = await self._write([item for item, _ in batch])
                except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._running = None
            if self._pending:  # cancelled mid-way: fail the rest rather than leave them waiting
                for _, future in self._pending:
                    if not future.done():
                        future.set_exception(RuntimeError("writer stopped"))
                self._pending = []


class WriteBehind(Generic[T]):
    """Rows written just after the answer that produced them, in group commits: the caller does
    not wait for the database at all (a routing answer is dead air on the caller's line; the
    platform's first webhook comes seconds later).

    * A batch that fails for a `transient` reason (the database is away) is retried with backoff,
      so `write` must be idempotent (an upsert). Any other failure is a bad row: the batch is
      written again one row at a time, and the row that still fails is dropped and reported,
      so one bad row neither blocks nor takes down the rest.
    * At most `max_pending` rows wait; past that the oldest are dropped and reported to
      `on_drop`, so an outage cannot exhaust memory.
    * `flush()` waits until everything put so far is written (shutdown, tests).
    * `linger`: how long the first row of a batch waits for others to join it.
    """

    def __init__(self, write: Callable[[Sequence[T]], Awaitable[object]], *, name: str, max_batch: int = 256,
                 max_pending: int = 10_000, backoff: Sequence[float] = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
                 on_drop: Callable[[int], None] | None = None,
                 transient: Callable[[BaseException], bool] = lambda exc: True, linger: float = 0.0):
        self._write = write
        self.linger = linger
        self.transient = transient
        self.name = name
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.backoff = tuple(backoff)
        self.on_drop = on_drop
        self._pending: deque[T] = deque()
        self._in_flight = 0
        self._one_by_one = 0  # rows left to write alone, looking for a bad one
        self._running: asyncio.Task | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def pending(self) -> int:
        """Rows not yet on disk (waiting or being written)."""
        return len(self._pending) + self._in_flight

    def put(self, item: T) -> None:
        self._pending.append(item)
        self._cap()
        self._idle.clear()
        if self._running is None:
            self._running = asyncio.get_running_loop().create_task(self._drain())

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every row put so far is written (TimeoutError after `timeout` seconds)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    def _cap(self) -> None:
        excess = len(self._pending) + self._in_flight - self.max_pending
        if excess > 0:
            dropped = 0
            while self._pending and dropped < excess:
                self._pending.popleft()
                dropped += 1
            log.error("%s: %d rows dropped, %d still waiting for the database", self.name, dropped, self.pending)
            if self.on_drop is not None:
                self.on_drop(dropped)

    async def _drain(self) -> None:
        failures = 0
        try:
            while self._pending:
                if len(self._pending) < self.max_batch and not self._one_by_one:
                    # Nobody waits for these rows: gathering them a little longer makes fewer,
                    # fuller transactions (less CPU here and in Postgres, one WAL flush for many).
                    await asyncio.sleep(self.linger)
                size = 1 if self._one_by_one else min(self.max_batch, len(self._pending))
                batch = [self._pending.popleft() for _ in range(size)]
                self._in_flight = len(batch)
                try:
                    await self._write(batch)
                except Exception as exc:  # noqa: BLE001 - sorted below: the database away, or a bad row
                    self._in_flight = 0
                    if not self.transient(exc):
                        if len(batch) > 1:
                            self._pending.extendleft(reversed(batch))
                            self._one_by_one = len(batch)
                        else:
                            self._one_by_one = max(0, self._one_by_one - 1)
                            log.error("%s: a row was refused and dropped (%s: %s)", self.name, type(exc).__name__, exc)
                            if self.on_drop is not None:
                                self.on_drop(1)
                        continue
                    self._pending.extendleft(reversed(batch))
                    self._cap()
                    delay = self.backoff[min(failures, len(self.backoff) - 1)]
                    failures += 1
                    log.warning("%s: writing %d rows failed (%s: %s), retrying in %.2fs", self.name, len(batch),
                                type(exc).__name__, exc, delay)
                    await asyncio.sleep(delay)
                    continue
                self._in_flight = 0
                self._one_by_one = max(0, self._one_by_one - len(batch))
                failures = 0
        finally:
            self._in_flight = 0
            self._running = None
            if self._pending:  # cancelled (shutdown): what is left is reported, not silently lost
                log.error("%s: stopped with %d rows unwritten", self.name, len(self._pending))
            self._idle.set()
