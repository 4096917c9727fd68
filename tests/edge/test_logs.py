"""JSON logs: one object a line, carrying the call id bound for the work in progress, kept apart
between concurrent requests."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from switchboard.logs import JsonFormatter, bind, call_context


async def test_each_request_logs_its_own_call_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("test.edge.logs")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False

    async def request(call_id: str) -> None:
        with call_context(request_id=f"req-{call_id}"):
            bind(call_id=call_id)
            await asyncio.sleep(0.01)  # interleave with the other request
            log.info("routed", extra={"provider": "vapi"})

    try:
        await asyncio.gather(asyncio.create_task(request("CA1")), asyncio.create_task(request("CA2")))
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("outside any call")
    finally:
        log.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    routed = {line["call_id"]: line for line in lines if line["msg"] == "routed"}
    assert set(routed) == {"CA1", "CA2"}
    assert routed["CA1"]["request_id"] == "req-CA1" and routed["CA2"]["request_id"] == "req-CA2"
    assert routed["CA1"]["provider"] == "vapi" and routed["CA1"]["level"] == "info"
    last = lines[-1]
    assert "call_id" not in last and last["error"] == "ValueError: boom"
