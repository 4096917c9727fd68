"""A per-process cache of database answers that may be up to `ttl` seconds old. One load per key
at a time: callers arriving while it runs share its answer, so a burst of requests at the moment
an entry expires costs one query, not one each. With `stale_if`, an expired answer is served
(for up to `max_stale` seconds) when reloading fails for a reason `stale_if` accepts — the
database being away: calls to a number seen recently keep being routed through the outage.
With `refresh_ahead` (a fraction of ttl), a hit on an answer older than that fraction starts
a reload in the background: under steady traffic nobody waits for the database, and answers
stay within `ttl` of the truth as long as the reload takes less than the rest of it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    def __init__(self, ttl: float, *, max_entries: int = 50_000,
                 stale_if: Callable[[BaseException], bool] | None = None, max_stale: float = 300.0,
                 refresh_ahead: float | None = None):
        self.ttl = ttl
        self.refresh_after = None if refresh_ahead is None else ttl * refresh_ahead
        self.max_entries = max_entries
        self.stale_if = stale_if
        self.max_stale = max_stale
        self._entries: dict[K, tuple[float, V, float]] = {}  # key → (expires, value, loaded at)
        self._loading: dict[K, asyncio.Future[V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        hit = self._entries.get(key)
        if hit is not None:
            now = time.monotonic()
            if hit[0] > now:
                if self.refresh_after is not None and now - hit[2] > self.refresh_after and key not in self._loading:
                    self._start(key, load).add_done_callback(_log_failure)
                return hit[1]
        loading = self._loading.get(key) or self._start(key, load)
        # Shielded: one caller giving up (its request cancelled) does not cancel the others' load.
        return await asyncio.shield(loading)

    def peek(self, key: K) -> V | None:
        """The cached answer however old, without loading."""
        hit = self._entries.get(key)
        return None if hit is None else hit[1]

    def invalidate(self, key: K) -> None:
        """The next `get` loads (the answer stays for `peek` and as the stale fallback)."""
        hit = self._entries.get(key)
        if hit is not None:
            self._entries[key] = (0.0, hit[1], hit[2])

    def _start(self, key: K, load: Callable[[], Awaitable[V]]) -> asyncio.Future[V]:
        loading = self._loading[key] = asyncio.ensure_future(self._load(key, load))
        loading.add_done_callback(lambda _f: self._loading.pop(key, None))
        return loading

    async def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        started = time.monotonic()  # the answer's age counts from before the query
        try:
            value = await load()
        except Exception as exc:
            old = self._entries.get(key)
            now = time.monotonic()
            if self.stale_if is None or old is None or not self.stale_if(exc) or now - old[2] > self.max_stale:
                raise
            log.warning("serving an answer %.0fs old: reloading it failed (%s)", now - old[2], type(exc).__name__)
            # Ask the database again after one more ttl, not on every request meanwhile.
            self._entries[key] = (now + self.ttl, old[1], old[2])
            return old[1]
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (started + self.ttl, value, started)
        return value


def _log_failure(future: asyncio.Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("refreshing a cached answer failed: %s", type(future.exception()).__name__)
