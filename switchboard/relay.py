"""The local stand-in for Supabase database webhooks: LISTEN on `switchboard_db_webhook` (the
triggers of migration 20261122000400 NOTIFY Supabase's webhook payload there) and POST each
payload to the sync-agent function with the service-role bearer token, as Supabase would.

A NOTIFY is not durable (one sent while the relay is down is gone), so nothing depends on the
relay alone: sync-agent records each config's sync state, and the functions server's retry loop
picks up configs still pending or failed.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import psycopg

CHANNEL = "switchboard_db_webhook"
log = logging.getLogger(__name__)


async def post_payload(client: httpx.AsyncClient, url: str, token: str, payload: str, *, attempts: int = 3) -> bool:
    """POST one payload, retrying briefly on connection errors and 5xx. Returns whether it was accepted."""
    delay = 0.2
    for attempt in range(1, attempts + 1):
        try:
            resp = await client.post(
                url, content=payload.encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            if resp.status_code < 500:
                if resp.status_code >= 400:
                    log.warning("sync-agent refused a database webhook: %s %s", resp.status_code, resp.text[:200])
                return resp.status_code < 400
            log.warning("sync-agent answered %s (attempt %s)", resp.status_code, attempt)
        except httpx.HTTPError as exc:
            log.warning("sync-agent unreachable (attempt %s): %s", attempt, type(exc).__name__)
        await asyncio.sleep(delay)
        delay *= 3
    return False


async def run_relay(dsn: str, target_url: str, token: str, *, stop: asyncio.Event | None = None,
                    ready: asyncio.Event | None = None) -> None:
    """Relay until `stop` is set, reconnecting to Postgres when the connection drops."""
    stop = stop or asyncio.Event()
    backoff = 0.5
    async with httpx.AsyncClient(timeout=15) as client:
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    await conn.execute(f"listen {CHANNEL}")
                    log.info("relay listening on %s, posting to %s", CHANNEL, target_url)
                    if ready is not None:
                        ready.set()
                    backoff = 0.5
                    while not stop.is_set():
                        async for notify in conn.notifies(timeout=0.5):
                            await post_payload(client, target_url, token, notify.payload)
            except (psycopg.OperationalError, OSError) as exc:
                if stop.is_set():
                    break
                log.warning("relay lost the database (%s); reconnecting in %.1fs", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
