"""What tracing costs a routing decision, in process: signed SWML call requests straight into the
edge-functions ASGI app (no sockets, so the load generator costs nothing) → voice-ai-router →
LiveKit SIP hand-off → call record, over a real Postgres (its own LocalCluster). Rounds alternate
between tracing off (what a server without OTEL_EXPORTER_OTLP_ENDPOINT runs) and on (the spans
built and handed to an exporter that drops them), so both see the same machine. Prints CPU time
of this process per decision (Postgres excluded) and in-process latency p50/p99 for each.

Compare the "off" line with the same script's figure on a tree before tracing (the shared
edge benchmark, `bench_edge.py`, measures end to end but its p99 moves more with the machine's
load than with a few microseconds).

    python bench/bench_tracing.py [--rounds 6] [--per-round 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult  # noqa: E402

from _stats import pct  # noqa: E402
from switchboard import telemetry  # noqa: E402
from switchboard.db import Database  # noqa: E402
from switchboard.db.local import LocalCluster, free_port  # noqa: E402
from switchboard.db.migrate import migrate  # noqa: E402
from switchboard.pipeline.catalog import sync_catalog_at  # noqa: E402
from tests.edge.conftest import TEST_KEYS, seed_org  # noqa: E402
from tests.edge.test_router import ROUTER, swml_request  # noqa: E402


class Dropped(SpanExporter):
    def export(self, spans) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def asgi_request(body: bytes, headers: dict[str, str]) -> dict:
    raw = [(b"host", b"127.0.0.1:54321"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": ROUTER, "raw_path": ROUTER.encode(), "query_string": b"", "headers": raw,
            "server": ("127.0.0.1", 54321), "client": ("127.0.0.1", 5555), "root_path": ""}


async def serve_one(app, body: bytes, headers: dict[str, str]) -> None:
    delivered = False

    async def receive() -> dict:
        nonlocal delivered
        if delivered:
            await asyncio.sleep(3600)  # the client stays connected
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    status: list[int] = []

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(asgi_request(body, headers), receive, send)
    if status != [200]:
        raise SystemExit(f"the router answered {status}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--per-round", type=int, default=2000)
    args = ap.parse_args()
    for k, v in TEST_KEYS.items():
        os.environ[k] = v
    for k in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        os.environ.pop(k, None)
    os.environ["SWITCHBOARD_DATA_DIR"] = tempfile.mkdtemp(prefix="sb-bench-tracing-data-")
    logging.disable(logging.INFO)  # the access log line costs more than what is measured

    cluster = LocalCluster(data_dir=Path(tempfile.mkdtemp(prefix="sb-bench-tracing-")), port=free_port(), fast=True)
    cluster.ensure_running()
    try:
        url = cluster.url()
        migrate(url)
        sync_catalog_at(url)
        async with Database(url, min_size=1, max_size=2) as db:
            number = (await seed_org(db, active="livekit")).number
        from edge_functions.app import create_app

        app = create_app(database_url=url, background_loops=False)
        async with app.router.lifespan_context(app):
            for body, headers in (swml_request(number) for _ in range(1000)):  # warm-up
                await serve_one(app, body, headers)
            cpu: dict[str, list[float]] = {"off": [], "on": []}
            latency: dict[str, list[float]] = {"off": [], "on": []}
            for r in range(args.rounds):
                mode = "off" if r % 2 == 0 else "on"
                if mode == "on":
                    telemetry.configure("bench", exporter=Dropped())
                batch = [swml_request(number) for _ in range(args.per_round)]  # built outside the clock
                c0 = time.process_time()
                for body, headers in batch:
                    t0 = time.perf_counter()
                    await serve_one(app, body, headers)
                    latency[mode].append(time.perf_counter() - t0)
                    await asyncio.sleep(0)  # the write-behind and the cache refresh get their turn
                cpu[mode].append((time.process_time() - c0) / len(batch) * 1000)
                telemetry.shutdown()
                await app.state.runtime.router.records.flush(timeout=10)
        print(f"routing decisions in process, {args.rounds} alternating rounds of {args.per_round}, "
              f"load average {os.getloadavg()[0]:.1f}")
        for mode in ("off", "on"):
            lat = latency[mode]
            print(f"  tracing {mode:3}: CPU per decision median {statistics.median(cpu[mode]):.3f} ms "
                  f"(min {min(cpu[mode]):.3f}); latency p50 {pct(lat, 0.5) * 1000:.3f} ms  p99 {pct(lat, 0.99) * 1000:.3f} ms")
    finally:
        cluster.destroy()


if __name__ == "__main__":
    asyncio.run(main())
