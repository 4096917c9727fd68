"""Crash safety: a real server is SIGKILLed in the middle of a webhook load from every platform;
after a restart every event that got a 2xx is in the database, the ones it had not processed yet
are processed by the restarted server's inbox drain — and only once the price book is loaded, so
every call costs exactly what its platform reported, or what the price book computes from its
usage or duration where the platform reports none: never an estimate where a report exists,
never $0."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from decimal import Decimal

import httpx
import pytest

from switchboard.db import Database
from switchboard.db.local import free_port

from .conftest import TEST_KEYS, Seeded, use_settings
from .payloads import VAPI_SECRET, retell_call, retell_webhook, vapi_message, vapi_webhook
from .server import EdgeServer

pytestmark = pytest.mark.slow

PER_PROVIDER = 140
# What each platform's call costs: reported (Retell's combined_cost, Vapi's costBreakdown),
# computed (SignalWire's 2 accounting minutes × the book's $0.16 + $0.003) or, where the
# platform reports nothing, the book's estimate (LiveKit: 200 s × ($0.01 + $0.003) a minute).
EXPECTED = {"retell": (Decimal("0.144200"), "reported"), "vapi": (Decimal("0.155500"), "reported"),
            "signalwire": (Decimal("0.326000"), "computed"), "livekit": (Decimal("0.043333"), "estimated")}


def _events(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bytes, dict[str, str]]]:
    from switchboard.providers.livekit.webhooks import sign
    from switchboard.providers.registry import get_provider
    from switchboard.providers.signalwire.webhooks import POST_PROMPT_USER, post_prompt_password

    use_settings(monkeypatch)
    password = post_prompt_password(get_provider("signalwire").credentials)
    basic = "Basic " + base64.b64encode(f"{POST_PROMPT_USER}:{password}".encode()).decode()
    ids = {"organization_id": str(seeded.organization_id)}
    out = []
    for i in range(PER_PROVIDER):
        out.append(("retell", *retell_webhook("call_ended", retell_call(f"crash_{i}", ids=ids, to_number=seeded.number))))
        out.append(("vapi", *vapi_webhook(vapi_message("end-of-call-report", f"vapi-crash-{i}", ids=ids, to_number=seeded.number))))
        start_us = 1_795_000_000_000_000
        report = {"content_type": "text/json", "call_id": str(uuid.uuid4()), "ai_session_id": str(uuid.uuid4()),
                  "action": "post_conversation", "app_name": "ai", "global_data": ids,
                  "call_start_date": start_us, "call_answer_date": start_us, "call_end_date": start_us + 100_000_000,
                  "call_log": [{"role": "assistant", "content": "Hello"}], "total_minutes": 2}
        out.append(("signalwire", json.dumps(report).encode(), {"content-type": "application/json", "authorization": basic}))
        room = {"sid": f"RM_{i}", "name": f"crash-room-{i}", "creationTime": "1795255200", "metadata": json.dumps(ids)}
        body = json.dumps({"event": "room_finished", "id": f"EV_crash_{i}", "createdAt": "1795255400", "room": room}).encode()
        out.append(("livekit", body, {"content-type": "application/webhook+json",
                                      "authorization": sign(body, TEST_KEYS["LIVEKIT_API_KEY"], TEST_KEYS["LIVEKIT_API_SECRET"])}))
    return out


async def _count(db: Database, sql: str) -> dict[str, int]:
    async with db.as_service() as conn:
        return {r["provider"]: r["n"] for r in await (await conn.execute(sql)).fetchall()}


async def test_every_acknowledged_event_survives_a_sigkill_and_is_priced_exactly(
        db_url: str, db: Database, seeded: Seeded, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.secrets import put_secret

    async with db.as_service() as conn:
        await put_secret(conn, seeded.organization_id, "vapi", {"api_key": "vapi-org-key", "webhook_secret": VAPI_SECRET})
        # The killed server never gets to read its price book (the database refuses it), so what it
        # acknowledges stays pending: its restart must not price anything before its book is loaded.
    async with db.as_owner() as conn:
        await conn.execute("revoke select on public.price_book from service_role")
    server = EdgeServer(db_url, free_port(), env=dict(TEST_KEYS), log_path=tmp_path / "edge.log").start()
    acked: dict[str, set[str]] = {code: set() for code in EXPECTED}
    refused = 0
    queue: asyncio.Queue = asyncio.Queue()
    for item in _events(seeded, monkeypatch):
        queue.put_nowait(item)

    async def sender(client: httpx.AsyncClient) -> None:
        nonlocal refused
        while not queue.empty():
            code, body, headers = queue.get_nowait()
            path = f"{server.url}/functions/v1/provider-webhook-router/{code}/{seeded.organization_id}"
            try:
                r = await client.post(path, content=body, headers=headers)
            except httpx.HTTPError:
                refused += 1
                continue
            assert r.status_code == 200, (code, r.status_code, r.text)
            acked[code].add(r.json()["event_id"])

    async def killer() -> None:
        while min(len(a) for a in acked.values()) < 100:  # well into the load, for every platform
            await asyncio.sleep(0.005)
        server.kill()

    try:
        async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=16)) as client:
            await asyncio.wait_for(asyncio.gather(killer(), *(sender(client) for _ in range(16))), timeout=60)
    finally:
        server.kill()
    total = sum(len(a) for a in acked.values())
    assert total < 4 * PER_PROVIDER and refused > 0, (total, refused)  # it really died mid-load

    async with db.as_service() as conn:
        stored = {(r["provider"], r["event_id"]) for r in await (await conn.execute(
            "select provider, event_id from webhook_inbox")).fetchall()}
    assert {(c, e) for c, ids in acked.items() for e in ids} <= stored, "acknowledged events lost"
    pending = await _count(db, "select provider, count(*) as n from webhook_inbox where status = 'pending' group by 1")
    assert all(pending.get(code, 0) >= 100 for code in EXPECTED), pending
    assert await _count(db, "select 'all' as provider, count(*) as n from provider_usage") == {"all": 0}

    async with db.as_owner() as conn:
        await conn.execute("grant select on public.price_book to service_role")
    # The restarted server drains what the killed one had stored but not processed.
    server = EdgeServer(db_url, free_port(), env=dict(TEST_KEYS), log_path=tmp_path / "edge2.log").start()
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            left = (await _count(db, "select 'all' as provider, count(*) as n from webhook_inbox "
                                     "where status <> 'processed'"))["all"]
            if not left:
                break
            await asyncio.sleep(0.5)
        assert left == 0, f"{left} rows not processed"
    finally:
        server.stop()
    async with db.as_service() as conn:
        usage = await (await conn.execute(
            """select vp.code, u.cost_amount, u.cost_source, count(*) as n
               from call_records c join voice_ai_providers vp on vp.id = c.provider_id
               left join provider_usage u on u.call_id = c.id group by 1, 2, 3""")).fetchall()
    found = {r["code"]: [] for r in usage}
    for r in usage:
        found[r["code"]].append((r["cost_amount"], r["cost_source"], r["n"]))
    n_stored = {code: sum(1 for c, _ in stored if c == code) for code in EXPECTED}
    assert found == {code: [(*EXPECTED[code], n_stored[code])] for code in EXPECTED}
