"""Group commit for hot write paths: concurrent callers' rows are written together in one
transaction, and each caller resumes only when that transaction has committed — the same
promise as writing alone (the row is on disk when `submit` returns), at a fraction of the round
trips. While one batch is being written the next one gathers, so under load batches grow and
at low load a row waits for nothing but its own transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupWriter(Generic[T, R]):
    def __init__(self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *, max_batch: int = 256):
        """`write(items)` writes every item in one transaction and returns one result per item
        (in order); if it raises, every caller of that batch gets the error."""
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
                    if not future.done():
                        future.set_result(result)
        finally:
            self._running = None
            if self._pending:  # cancelled mid-way: fail the rest rather than leave them waiting
                for _, future in self._pending:
                    if not future.done():
                        future.set_exception(RuntimeError("writer stopped"))
                self._pending = []
