"""The webhook inbox, conducted end to end: receive → verify → store → process → drain.

Invariants, in the order a webhook meets them:

* **The organisation is decided once, here** (`WebhookInbox.organisation` and `speaking_for`): the
  organisation in the path, else the one the event's metadata claims — in both cases only if it
  exists (an unknown one is refused before anything is stored: `unknown_organisation`, a 404) —
  else none (the server's default keys). Its key must verify the request, and every event of the
  request then speaks for that organisation and no other, whatever its payload says. The stored
  row keeps it, and the drain applies the same rule to what it re-parses.
* **Authentic or nothing**: a signature that does not verify stores nothing (`rejected`, 401).
* **Understood, or kept with the reason**: an authentic body we cannot parse goes to the dead
  letters with the reason (`malformed`, 400).
* **A 2xx means on disk**: the raw event is committed to the inbox (group commit, synchronous
  commit on) before the answer; a redelivery is stored once (`duplicate`). A row the database
  refuses fails alone (`refused`), never the other rows of its batch.
* **Credentials are never stored**: the usual header names, plus those the organisation's
  adapter is configured to take them in (`VoiceAIProvider.credential_headers()`).
* **Nothing is processed before prices**: processing (just after the answer, or by the drain of
  any replica) waits for the price book; until then rows stay pending. Usage the book cannot
  price yet is kept *unpriced* and priced by the drain when a new book arrives.

No web framework here: the edge function hands over a `Delivery` and renders the `Outcome`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from switchboard import telemetry
from switchboard.batching import GroupWriter
from switchboard.ingest import (
    InboxItem,
    InboxRefused,
    claim_event,
    claim_pending,
    process_inbox_row,
    reprice_unpriced,
    store_dead_letter,
    store_webhooks,
    strip_credentials,
)
from switchboard.logs import bind, call_context
from switchboard.providers.base import VoiceAIProvider, WebhookMalformed, WebhookRejected
from switchboard.spec import CallEvent, WebhookRequest

if TYPE_CHECKING:
    from switchboard.billing import PriceBook
    from switchboard.db import Database
    from switchboard.health import CircuitBreaker
    from switchboard.platforms import PlatformSource

log = logging.getLogger(__name__)

Status = Literal["stored", "duplicate", "unknown_organisation", "rejected", "malformed", "refused"]
_NOT_DURABLE = "set local synchronous_commit = off"  # processing: the inbox row is the durable truth


@dataclass(frozen=True)
class Delivery:
    """One webhook as received: the platform, the organisation its URL names (or None), the
    headers (names lower-case), the raw body, the URL the platform called (what it signed) and,
    built only if the first check fails, the URL as received (behind no proxy)."""

    provider: str
    organization_id: UUID | None
    headers: dict[str, str]
    body: bytes
    url: str
    received_url: Callable[[], str] | None = None
    remote_addr: str | None = None


@dataclass(frozen=True)
class Outcome:
    status: Status
    event_id: str | None = None
    error: str | None = None


def speaking_for(events: list[CallEvent], organization_id: UUID | None) -> list[CallEvent]:
    """The one rule: every event of a request speaks for the organisation the inbox decided on."""
    return [e if e.organization_id == organization_id else e.model_copy(update={"organization_id": organization_id})
            for e in events]


def inbox_event_id(events: list[CallEvent], body: bytes) -> str:
    """The de-duplication key: the platform event's id, or a hash of the body when the request
    carries several events or none we record."""
    if len(events) == 1:
        return events[0].event_id
    return "sha256:" + hashlib.sha256(body).hexdigest()


class WebhookInbox:
    def __init__(self, db: Database, providers: PlatformSource, breaker: CircuitBreaker, *,
                 prices: Callable[[], PriceBook | None], load_prices: Callable[[], Awaitable[object]],
                 spawn: Callable[[Coroutine], object], processing: asyncio.Semaphore | None = None,
                 writer: GroupWriter[InboxItem, bool] | None = None,
                 count: Callable[[str, str], None] = lambda provider, outcome: None):
        """`prices()` is the price book in force (None until loaded), `load_prices()` (re)loads
        it; `spawn` runs work after the answer; `count(provider, outcome)` feeds metrics."""
        self.db = db
        self.providers = providers
        self.breaker = breaker
        self.prices = prices
        self.load_prices = load_prices
        self.spawn = spawn
        self.count = count
        # Processing after the answer is bounded, so a burst of webhooks cannot starve the
        # requests of connections; what waits is safe in the inbox.
        self.processing = processing or asyncio.Semaphore(4)
        self.writer = writer or GroupWriter(self._store)
        self._repriced_with: PriceBook | None = None

    async def _store(self, items):
        async with self.db.as_service(pipeline=True) as conn:
            return await store_webhooks(conn, items)

    # --- receive → verify → store ------------------------------------------------------------
    async def organisation(self, code: str, organization_id: UUID | None, headers: dict[str, str],
                           body: bytes) -> tuple[bool, UUID | None, str | None]:
        """(acceptable, the organisation, its secret's version) — see the module's first rule."""
        if organization_id is None:
            organization_id = await self._claimed(code, headers, body)
            if organization_id is None:
                return True, None, None
            known, version = await self.providers.lookup(organization_id, code)
            return True, organization_id if known else None, version if known else None
        known, version = await self.providers.lookup(organization_id, code)
        return known, organization_id, version

    @telemetry.traced("webhook.receive", lambda o: {"switchboard.outcome": o.status, "switchboard.event_id": o.event_id})
    async def receive(self, d: Delivery) -> Outcome:
        t0 = time.perf_counter()
        code = d.provider
        telemetry.annotate({"switchboard.platform": code})
        known, org, version = await self.organisation(code, d.organization_id, d.headers, d.body)
        if not known:
            self.count(code, "unknown_organisation")
            return Outcome("unknown_organisation", error="no such organisation")
        adapter = await self.providers.get(org, code, version, known_version=True)
        try:
            wreq = _verify(adapter, d)
        except WebhookRejected as rejected:
            # Not counted in the platform's health: a forged request is not the platform's outcome.
            self.count(code, "rejected")
            log.warning("webhook refused: %s", rejected, extra={"provider": code})
            return Outcome("rejected", error=str(rejected))
        headers = strip_credentials(d.headers, adapter.credential_headers())
        try:
            events = adapter.parse_webhook(wreq)
        except Exception as exc:  # WebhookMalformed, or a payload our parser did not expect
            # The sender hears our words; the dead letter keeps what our parser said, for inspection.
            words = str(exc) if isinstance(exc, WebhookMalformed) else "unreadable payload: its fields are not what the platform publishes"
            reason = words if isinstance(exc, WebhookMalformed) else f"{words} ({type(exc).__name__}: {exc})"
            async with self.db.as_service() as conn:
                await store_dead_letter(conn, code, reason, headers, d.body, d.remote_addr)
            self.count(code, "malformed")
            await self.breaker.outcome(code, "webhook", False, (time.perf_counter() - t0) * 1000)
            log.warning("webhook malformed: %s", reason, extra={"provider": code})
            return Outcome("malformed", error=words)

        events = speaking_for(events, org)
        event_id = inbox_event_id(events, d.body)
        first = events[0] if events else None
        bind(call_id=first.provider_call_id if first else None, event_id=event_id, provider=code, organization_id=org)
        try:
            new = await self.writer.submit(InboxItem(
                code, event_id, first.event_type if first else _event_type(d.body), headers, d.body, org,
                first.provider_call_id if first else None,
            ))
        except InboxRefused as exc:
            self.count(code, "refused")
            log.error("webhook refused by the database: %s", exc, extra={"provider": code})
            return Outcome("refused", event_id, "the event could not be stored; retry later")
        # Committed (synchronous_commit on): from here the event survives a crash of this process.
        self.count(code, "stored" if new else "duplicate")
        await self.breaker.outcome(code, "webhook", True, (time.perf_counter() - t0) * 1000)
        if new:
            self.spawn(self._process(code, event_id, events))
        return Outcome("stored" if new else "duplicate", event_id)

    async def _claimed(self, code: str, headers: dict[str, str], body: bytes) -> UUID | None:
        """Without an organisation in the path: the one the event's metadata names (we attached it
        at hand-off). Only a hint for choosing the key: the signature must then verify under that
        organisation's key, so a forged claim fails like any bad signature."""
        try:
            events = (await self.providers.get(None, code)).parse_webhook(WebhookRequest(headers=headers, body=body, url=""))
        except Exception:
            return None
        return events[0].organization_id if events else None

    # --- process → drain ---------------------------------------------------------------------
    async def _process(self, code: str, event_id: str, events: list[CallEvent]) -> None:
        """Merge a just-stored event (after the answer went out). Without a price book, or when
        every processing slot is busy, the event stays pending for the drain, which merges rows
        in batches: under a burst, answering (and storing) comes first.

        Processing commits without waiting for the disk: a crash can lose a merge, but then it
        also loses the row's `processed` mark (same transaction), so the drain merges it again."""
        prices = self.prices()
        if prices is None or self.processing.locked():
            self.count(code, "deferred")
            return
        first = events[0] if events else None
        with call_context(call_id=first and first.provider_call_id, event_id=event_id, provider=code,
                          organization_id=first and first.organization_id), \
                telemetry.span("webhook.process", {"switchboard.platform": code, "switchboard.event_id": event_id}) as span:
            ok = False
            try:
                async with self.processing, self.db.as_service() as conn:
                    await conn.execute(_NOT_DURABLE)
                    row = await claim_event(conn, code, event_id)
                    if row is None:
                        return  # another process has it, or it is done
                    ok = await process_inbox_row(conn, row, events, prices)
            except Exception as exc:  # left pending/failed in the inbox: the drain retries it
                log.warning("processing deferred: %s", type(exc).__name__)
            self.count(code, "processed" if ok else "failed")
            span.set_attribute("switchboard.outcome", "processed" if ok else "failed")

    async def price_book(self) -> PriceBook | None:
        """The price book, loading it if it is not loaded yet (None while it cannot be)."""
        if self.prices() is None:
            try:
                await self.load_prices()
            except Exception as exc:  # the database away, or the book unreadable: try next time
                log.warning("price book not loaded: %s: %s", type(exc).__name__, exc)
        return self.prices()

    async def drain(self, *, older_than_seconds: float = 1.0, limit: int = 200) -> int:
        """Process inbox rows still pending (deferred, or left by a crash) or failed with
        attempts left, `limit` per transaction until none is left — once the price book is
        loaded, and then price what was kept unpriced under an earlier book. Returns how many
        rows succeeded."""
        prices = await self.price_book()
        if prices is None:
            return 0  # nothing is processed before prices: the rows wait, pending
        done = 0
        while True:
            ok, claimed = await self._drain_batch(prices, older_than_seconds, limit)
            done += ok
            if claimed < limit:
                break
        if self._repriced_with is not prices:
            async with self.db.as_service() as conn:
                n = await reprice_unpriced(conn, prices)
            self._repriced_with = prices
            if n:
                log.info("priced unpriced usage", extra={"rows": n})
        return done

    async def _drain_batch(self, prices: PriceBook, older_than_seconds: float, limit: int) -> tuple[int, int]:
        done = 0
        async with self.db.as_service() as conn:
            await conn.execute(_NOT_DURABLE)
            rows = await claim_pending(conn, limit=limit, older_than_seconds=older_than_seconds)
            for row in rows:
                adapter = await self.providers.get(row["organization_id"], row["provider"])

                def parse(r: dict[str, Any], adapter: VoiceAIProvider = adapter) -> list[CallEvent]:
                    req = WebhookRequest(headers=dict(r["headers"]), body=bytes(r["body"]), url="")
                    return speaking_for(adapter.parse_webhook(req), r["organization_id"])

                ok = await process_inbox_row(conn, row, parse, prices)
                self.count(row["provider"], "processed" if ok else "failed")
                done += ok
        if rows:
            log.info("drained the webhook inbox", extra={"rows": len(rows), "processed": done})
        return done, len(rows)


def _verify(provider: VoiceAIProvider, d: Delivery) -> WebhookRequest:
    """The request as verified: signed for the public URL (what the platform called) or, behind
    no proxy, for the URL as received. Raises WebhookRejected."""
    signed = WebhookRequest(headers=d.headers, body=d.body, url=d.url)
    try:
        provider.verify_webhook(signed)
    except WebhookRejected:
        received = d.received_url() if d.received_url else d.url
        if received == d.url:
            raise
        signed = WebhookRequest(headers=d.headers, body=d.body, url=received)
        provider.verify_webhook(signed)
    return signed


def _event_type(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if isinstance(payload, dict):
        for key in ("event", "type"):
            if isinstance(payload.get(key), str):
                return payload[key]
        msg = payload.get("message")
        if isinstance(msg, dict) and isinstance(msg.get("type"), str):
            return msg["type"]
    return None
