"""At a call's start, in the background: the remaining quota of the chains' vendors that publish
it (switchboard.pipeline.quota_readers), read with the organisation's own key at most every
`MIN_INTERVAL_SECONDS` per organisation and vendor, logged, kept in `vendor_quotas` for the
health page, and — when it is used up — the vendor held out of the organisation's chains until
its published reset (agent_worker.failover.QUOTAS), so the next attempts go to the next vendor
without a refused request first."""

from __future__ import annotations

import logging
import time

from agent_worker.failover import QUOTAS
from switchboard.pipeline.config import PipelineConfig
from switchboard.pipeline.failover import DEFAULT_HOLD_SECONDS, QuotaBook
from switchboard.pipeline.quota_readers import READERS, RemainingQuota, read_remaining, store
from switchboard.providers.base import ProviderError

log = logging.getLogger(__name__)

MIN_INTERVAL_SECONDS = 300.0
_last_read: dict[tuple[str, str], float] = {}


async def refresh(db, pipeline: PipelineConfig, *, quotas: QuotaBook | None = None, force: bool = False) -> list[RemainingQuota]:
    """Read, keep and act on what the chains' vendors publish; never raises (a call goes on)."""
    quotas = quotas or QUOTAS
    scope = str(pipeline.organization_id)
    by_vendor: dict[str, list] = {}
    for service in ("stt", "llm", "tts"):
        for v in pipeline.chain(service):
            # The operator's key is not the organisation's quota: only its own key is read.
            if v.vendor in READERS and v.credential_source == "organization":
                by_vendor.setdefault(v.vendor, []).append(v)
    readings = []
    for vendor, members in by_vendor.items():
        now = time.monotonic()
        if not force and now - _last_read.get((scope, vendor), -MIN_INTERVAL_SECONDS) < MIN_INTERVAL_SECONDS:
            continue
        _last_read[(scope, vendor)] = now
        try:
            quota = await read_remaining(vendor, members[0].config)
        except ProviderError as exc:
            log.warning("%s remaining quota for organisation %s: %s", vendor, scope, exc.message)
            continue
        if quota is None:
            continue
        readings.append(quota)
        resets = quota.resets_at.strftime("%Y-%m-%d %H:%M:%SZ") if quota.resets_at else "no reset"
        log.info("%s quota for organisation %s: %s %s left of %s (%s)", vendor, scope, quota.remaining, quota.unit,
                 quota.limit if quota.limit is not None else "—", resets)
        if quota.exhausted:
            until = quota.resets_at.timestamp() if quota.resets_at else time.time() + DEFAULT_HOLD_SECONDS
            for v in members:
                quotas.hold_until(scope, v.key, until, "quota used up")
            log.warning("%s: quota used up for organisation %s; out of its chains until %s", vendor, scope, resets)
        if db is not None:
            try:
                async with db.as_service() as conn:
                    await store(conn, pipeline.organization_id, quota)
            except Exception as exc:  # the reading still holds the vendor out; the page waits for the next
                log.warning("could not keep the %s quota reading: %s", vendor, type(exc).__name__)
    return readings
