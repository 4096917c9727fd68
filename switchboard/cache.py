"""A per-process cache of database answers that may be up to `ttl` seconds old. One load per key
at a time: callers arriving while it runs share its answer, so a burst of requests at the moment
an entry expires costs one query, not one each."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    def __init__(self, ttl: float, *, max_entries: int = 50_000):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, asyncio.Future[V]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        hit = self._entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        loading = self._loading.get(key)
        if loading is None:
            loading = self._loading[key] = asyncio.ensure_future(self._load(key, load))
            loading.add_done_callback(lambda _f: self._loading.pop(key, None))
        # Shielded: one caller giving up (its request cancelled) does not cancel the others' load.
        return await asyncio.shield(loading)

    async def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        expires = time.monotonic() + self.ttl  # counted from before the query: never older than ttl
        value = await load()
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (expires, value)
        return value
