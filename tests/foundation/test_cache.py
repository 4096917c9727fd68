"""TTLCache: one load per key at a time, reloads ahead of expiry without making anyone wait,
and the last answer served while the database is away (only then, and only so old)."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from switchboard.cache import TTLCache
from switchboard.db import database_unavailable


class Source:
    """Answers 1, 2, 3… — each load can be held open, or made to fail."""

    def __init__(self) -> None:
        self.loads = 0
        self.gate: asyncio.Event | None = None
        self.error: Exception | None = None

    async def load(self) -> int:
        self.loads += 1
        n = self.loads
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return n


async def test_concurrent_misses_share_one_load() -> None:
    cache: TTLCache[str, int] = TTLCache(10)
    src = Source()
    src.gate = asyncio.Event()
    waiting = [asyncio.ensure_future(cache.get("k", src.load)) for _ in range(20)]
    await asyncio.sleep(0)
    src.gate.set()
    assert await asyncio.gather(*waiting) == [1] * 20 and src.loads == 1


async def test_an_ageing_answer_is_reloaded_in_the_background() -> None:
    cache: TTLCache[str, int] = TTLCache(0.2, refresh_ahead=0.5)
    src = Source()
    assert await cache.get("k", src.load) == 1
    assert await cache.get("k", src.load) == 1 and src.loads == 1  # young: no reload
    await asyncio.sleep(0.12)  # past half the ttl
    src.gate = asyncio.Event()  # the reload hangs…
    assert await asyncio.wait_for(cache.get("k", src.load), 0.05) == 1  # …and nobody waits for it
    assert src.loads == 2
    assert await cache.get("k", src.load) == 1 and src.loads == 2  # one reload at a time
    src.gate.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert await cache.get("k", src.load) == 2


async def test_without_refresh_ahead_an_expired_answer_is_reloaded_before_it_is_served() -> None:
    cache: TTLCache[str, int] = TTLCache(0.05)
    src = Source()
    assert await cache.get("k", src.load) == 1
    await asyncio.sleep(0.06)
    assert await cache.get("k", src.load) == 2


async def test_the_last_answer_is_served_while_the_database_is_away_and_only_then() -> None:
    cache: TTLCache[str, int] = TTLCache(0.05, stale_if=database_unavailable, max_stale=0.5)
    src = Source()
    assert await cache.get("k", src.load) == 1
    await asyncio.sleep(0.06)
    src.error = psycopg.OperationalError("connection refused")
    assert await cache.get("k", src.load) == 1  # stale, while the database is away
    loads = src.loads
    assert await cache.get("k", src.load) == 1 and src.loads == loads  # not re-asked on every call
    src.error = psycopg.errors.UndefinedTable("relation does not exist")
    await asyncio.sleep(0.06)
    with pytest.raises(psycopg.errors.UndefinedTable):  # a real error is not hidden
        await cache.get("k", src.load)
    src.error = psycopg.OperationalError("connection refused")
    await asyncio.sleep(0.5)
    with pytest.raises(psycopg.OperationalError):  # too old to serve
        await cache.get("k", src.load)
    with pytest.raises(psycopg.OperationalError):  # nothing to fall back on
        await cache.get("other", src.load)
