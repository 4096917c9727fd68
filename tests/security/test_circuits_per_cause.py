"""Circuits per cause (issue #11, point 5): one tenant's bad key must not move anyone else's
traffic. Org A's 401s from Retell open only A's circuit for Retell (A fails over to its next
platform, B keeps routing to Retell); 5xx seen from two organisations open Retell's shared one."""

from __future__ import annotations

import asyncio
import json

from switchboard.db import Database
from switchboard.health import FAILURE_THRESHOLD
from switchboard.secrets import put_secret
from tests.edge.conftest import running_edge, seed_org, use_settings
from tests.edge.test_router import ROUTER, records, swml_request


class RetellByKey:
    """A stand-in for Retell's API answering by the caller's API key: `statuses[key]` (401, 500,
    …), or a registered phone call (200) for any other key. Counts requests per key."""

    def __init__(self, statuses: dict[str, int]):
        self.statuses = statuses
        self.requests: dict[str, int] = {}

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head.split("\r\n")[1:] if line)}
            length = int(headers.get("content-length", "0") or 0)
            if length:
                await reader.readexactly(length)
            key = headers.get("authorization", "").removeprefix("Bearer ").strip()
            self.requests[key] = self.requests.get(key, 0) + 1
            status = self.statuses.get(key, 200)
            if status == 200:
                body = json.dumps({"call_id": f"call_{sum(self.requests.values())}", "agent_id": "retell-agent-1",
                                   "call_type": "phone_call", "call_status": "registered", "direction": "inbound",
                                   "from_number": "+14155550123", "to_number": "+15550000000"}).encode()
                reason = "OK"
            else:
                body, reason = b'{"error_message": "refused"}', {401: "Unauthorized", 403: "Forbidden"}.get(status, "Error")
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                         "Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (Exception, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> "RetellByKey":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()


async def _org_with_retell_key(db: Database, key: str):
    s = await seed_org(db, active="retell", fallback=["signalwire"])
    async with db.as_service() as conn:
        await put_secret(conn, s.organization_id, "retell", {"api_key": key})
    return s


async def _call(edge, number: str) -> str:
    r = await edge.client.post(ROUTER, content=(req := swml_request(number))[0], headers=req[1])
    assert r.status_code == 200, r.text
    return r.text


async def _shared_retell(db: Database) -> dict | None:
    async with db.as_service() as conn:
        return await (await conn.execute("select * from provider_circuits where provider_code = 'retell'")).fetchone()


async def test_one_tenants_bad_key_does_not_open_shared_circuit(db_url: str, db: Database, monkeypatch) -> None:
    async with RetellByKey({"key-a-revoked": 401, "key-c": 500, "key-d": 500}) as retell:
        use_settings(monkeypatch, RETELL_BASE_URL=retell.url)
        async with running_edge(db_url) as edge:
            a = await _org_with_retell_key(db, "key-a-revoked")
            b = await _org_with_retell_key(db, "key-b-good")
            for _ in range(FAILURE_THRESHOLD):  # A's own key refused, each call failing over to SignalWire
                assert '"ai"' in await _call(edge, a.number)
            asked_for_a = retell.requests["key-a-revoked"]
            edge.runtime.breaker.invalidate()
            # A's circuit for Retell is open: A's next call does not even ask Retell.
            assert '"ai"' in await _call(edge, a.number)
            assert retell.requests["key-a-revoked"] == asked_for_a
            # B is unaffected: its calls still go to Retell.
            for _ in range(3):
                assert "sip.retellai.com" in await _call(edge, b.number)
            shared = await _shared_retell(db)
            assert shared is None or shared["state"] == "closed"
            async with db.as_service() as conn:
                own = await (await conn.execute(
                    "select state from provider_org_circuits where organization_id = %s and provider_code = 'retell'",
                    (a.organization_id,))).fetchone()
            assert own["state"] == "open"
            rows = [r for r in await records(db) if r["organization_id"] == b.organization_id]
            assert {r["code"] for r in rows} == {"retell"}

            # Retell answering 5xx to two organisations is Retell's failure: the shared circuit opens.
            c = await _org_with_retell_key(db, "key-c")
            d = await _org_with_retell_key(db, "key-d")
            for i in range(FAILURE_THRESHOLD):
                assert '"ai"' in await _call(edge, (c, d)[i % 2].number)
            shared = await _shared_retell(db)
            assert shared["state"] == "open"
            edge.runtime.breaker.invalidate()
            before = retell.requests.get("key-b-good", 0)
            assert '"ai"' in await _call(edge, b.number)  # B now skips Retell too, to its fallback
            assert retell.requests.get("key-b-good", 0) == before


async def test_5xx_from_a_single_organisation_opens_only_its_circuit(db: Database) -> None:
    """Even 5xx seen by one organisation alone do not open the shared circuit (that one tenant
    cannot prove the platform down for everyone); they do open the organisation's own."""
    from switchboard.health import CircuitBreaker

    a = await seed_org(db)
    b = await seed_org(db)
    br = CircuitBreaker(db, ttl=0)
    for _ in range(FAILURE_THRESHOLD + 2):
        await br.outcome("vapi", "handoff", False, 5, organization_id=a.organization_id, cause="platform")
    assert await br.blocked(a.organization_id) == {"vapi"}
    assert await br.blocked(b.organization_id) == set() and await br.allow("vapi", b.organization_id)
    await br.outcome("vapi", "handoff", False, 5, organization_id=b.organization_id, cause="platform")
    assert await br.blocked(b.organization_id) == {"vapi"}  # seen from a second organisation: shared open
