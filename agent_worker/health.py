"""Vendor health from inside calls: every vendor attempt (ok or failed, with its latency) goes into
an in-memory bucket per vendor and minute; buckets are written to `provider_health_minutely`
(kind 'vendor') through `switchboard.health` every `flush_interval`, at once when an adapter
reports a vendor's availability changed, and at the end of the call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from switchboard.health import minute_of, record_outcomes

log = logging.getLogger(__name__)


@dataclass
class _Bucket:
    successes: int = 0
    failures: int = 0
    latency_ms_sum: float = 0.0
    latency_ms_max: float = 0.0


class VendorHealth:
    def __init__(self, db, *, flush_interval: float = 30.0, write_timeout: float = 5.0) -> None:
        self._db = db  # switchboard.db.Database, or None (nothing is written)
        self._flush_interval = flush_interval
        self._write_timeout = write_timeout
        self._buckets: dict[tuple[str, datetime], _Bucket] = {}
        self._task: asyncio.Task | None = None
        self._pending_flush: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    # AttemptObserver
    def observe(self, key: str, ok: bool, latency_ms: float) -> None:
        bucket = self._buckets.setdefault((key, minute_of()), _Bucket())
        if ok:
            bucket.successes += 1
        else:
            bucket.failures += 1
        bucket.latency_ms_sum += latency_ms
        bucket.latency_ms_max = max(bucket.latency_ms_max, latency_ms)

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

    def pending(self) -> dict[tuple[str, datetime], _Bucket]:
        return dict(self._buckets)

    async def flush(self) -> None:
        if self._db is None or not self._buckets:
            return
        async with self._lock:
            buckets, self._buckets = self._buckets, {}
            try:
                async with asyncio.timeout(self._write_timeout):
                    async with self._db.as_service() as conn:
                        for (key, minute), b in sorted(buckets.items(), key=lambda kv: (kv[0][0], kv[0][1])):
                            await record_outcomes(
                                conn, key, "vendor", successes=b.successes, failures=b.failures,
                                latency_ms_sum=b.latency_ms_sum, latency_ms_max=b.latency_ms_max, at=minute,
                            )
            except Exception as exc:  # health must never take a call down; keep the counts for later
                log.warning("vendor health not written (%s); will retry", type(exc).__name__)
                for k, b in buckets.items():
                    cur = self._buckets.setdefault(k, _Bucket())
                    cur.successes += b.successes
                    cur.failures += b.failures
                    cur.latency_ms_sum += b.latency_ms_sum
                    cur.latency_ms_max = max(cur.latency_ms_max, b.latency_ms_max)

    async def start(self) -> None:
        if self._task is None and self._db is not None:
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
