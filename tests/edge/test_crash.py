"""Crash safety: a real server is SIGKILLed in the middle of a webhook load; after a restart
every event that got a 2xx is in the database, and the ones it had not processed yet are
processed by the restarted server's inbox drain."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from switchboard.db import Database
from switchboard.db.local import free_port

from .conftest import TEST_KEYS, Seeded
from .payloads import retell_call, retell_webhook
from .server import EdgeServer

pytestmark = pytest.mark.slow


async def test_every_acknowledged_event_survives_a_sigkill(db_url: str, db: Database, seeded: Seeded, tmp_path) -> None:
    server = EdgeServer(db_url, free_port(), env=dict(TEST_KEYS), log_path=tmp_path / "edge.log").start()
    acked: set[str] = set()
    refused = 0
    path = f"{server.url}/functions/v1/provider-webhook-router/retell/{seeded.organization_id}"
    ids = {"organization_id": str(seeded.organization_id)}
    bodies = [retell_webhook("call_ended", retell_call(f"crash_{i}", ids=ids, to_number=seeded.number)) for i in range(1500)]
    queue: asyncio.Queue = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal refused
        while not queue.empty():
            body, headers = queue.get_nowait()
            try:
                r = await client.post(path, content=body, headers=headers)
            except httpx.HTTPError:
                refused += 1
                continue
            if r.status_code == 200:
                acked.add(r.json()["event_id"])

    async def killer() -> None:
        while len(acked) < 100:  # well into the load
            await asyncio.sleep(0.01)
        server.kill()

    try:
        async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=16)) as client:
            await asyncio.wait_for(asyncio.gather(killer(), *(sender(client) for _ in range(16))), timeout=120)
    finally:
        server.kill()
    assert 100 <= len(acked) < 1500 and refused > 0, (len(acked), refused)  # it really died mid-load

    async with db.as_service() as conn:
        stored = {r["event_id"] for r in await (await conn.execute("select event_id from webhook_inbox")).fetchall()}
    assert acked <= stored, f"{len(acked - stored)} acknowledged events lost"

    # The restarted server drains what the killed one had stored but not processed.
    server = EdgeServer(db_url, free_port(), env=dict(TEST_KEYS), log_path=tmp_path / "edge2.log").start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            async with db.as_service() as conn:
                pending = (await (await conn.execute(
                    "select count(*) as n from webhook_inbox where status <> 'processed'")).fetchone())["n"]
            if pending == 0:
                break
            await asyncio.sleep(0.5)
        assert pending == 0
    finally:
        server.stop()
    async with db.as_service() as conn:
        calls = {r["provider_call_id"] for r in await (await conn.execute("select provider_call_id from call_records")).fetchall()}
    assert {e.removesuffix(":call_ended") for e in acked} <= calls
