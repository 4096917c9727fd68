"""Vendor health from inside calls. Every vendor attempt (ok or failed, with its latency) is an
outcome of kind 'vendor' for `switchboard.health` (the same minute buckets the edge functions
write, buffered by its CircuitBreaker); buffered buckets are written every `flush_interval`, at
once when an adapter reports that a vendor's availability changed, and at the end of the call."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from switchboard.health import CircuitBreaker

log = logging.getLogger(__name__)


class VendorHealth:
    def __init__(self, db, *, flush_interval: float = 30.0, write_timeout: float = 5.0) -> None:
        self._breaker = CircuitBreaker(db) if db is not None else None
        self._flush_interval = flush_interval
        self._write_timeout = write_timeout
        self._task: asyncio.Task | None = None
        self._pending_flush: asyncio.Task | None = None

    async def observe(self, key: str, ok: bool, latency_ms: float) -> None:
        """An AttemptObserver (agent_worker.bounded): buffered, no database round trip."""
        if self._breaker is not None:
            await self._breaker.outcome(key, "vendor", ok, latency_ms)

    def availability_changed(self, key: str, available: bool) -> None:
        """From the FallbackAdapters' *_availability_changed events."""
        if available:
            log.info("vendor %s is available again", key)
        else:
            log.warning("vendor %s is unavailable; its chain fails over to the next vendor", key)
        if self._pending_flush is None or self._pending_flush.done():
            with contextlib.suppress(RuntimeError):  # no running loop: the next flush takes it
                self._pending_flush = asyncio.get_running_loop().create_task(self.flush())

    def attach(self, chains) -> None:
        """Listen to a call's adapters (agent_worker.chains.Chains)."""
        chains.stt_fallback.on("stt_availability_changed", lambda ev: self.availability_changed(ev.stt.key, ev.available))
        chains.llm.on("llm_availability_changed", lambda ev: self.availability_changed(ev.llm.key, ev.available))
        chains.tts.on("tts_availability_changed", lambda ev: self.availability_changed(ev.tts.key, ev.available))

    async def flush(self) -> None:
        if self._breaker is None:
            return
        try:
            async with asyncio.timeout(self._write_timeout):
                await self._breaker.flush()
        except Exception as exc:  # kept by the breaker for the next flush; never fails a call
            log.warning("vendor health not written yet (%s)", type(exc).__name__)

    async def start(self) -> None:
        if self._task is None and self._breaker is not None:
            self._task = asyncio.create_task(self._run(), name="vendor-health-flush")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            await self.flush()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._pending_flush is not None:
            with contextlib.suppress(Exception):
                await self._pending_flush
        await self.flush()
