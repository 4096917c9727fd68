"""The management API's call list at scale: seeds N calls (default 1,000,000) with the demo
seeder into a throwaway Postgres cluster, then times `switchboard.calls` as the demo
organisation's signed-in member (RLS on, through `db.as_user`): the first page, a page
100,000 rows deep (keyset: it costs what the first does), each filter, a search by number, one
call, and a full HTTP round trip through the API router. Prints p50/p95/max per query.

    python bench/bench_api.py [--calls N] [--runs R]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from switchboard import calls  # noqa: E402
from switchboard.db import Database  # noqa: E402
from switchboard.db.local import LocalCluster, free_port  # noqa: E402
from switchboard.db.migrate import migrate  # noqa: E402
from switchboard.pipeline.catalog import sync_catalog_at  # noqa: E402
from switchboard.demo import seed_demo  # noqa: E402
from switchboard.models import CallFilters  # noqa: E402

from _stats import timing_line, verdict  # noqa: E402  (this directory is on sys.path when run as a script)

TARGET_P95_MS = 50.0  # a page of the call list, however deep


async def _measure(run, runs: int, warm: int = 3) -> list[float]:
    """Milliseconds of `runs` awaits of `run()`, after `warm` untimed ones."""
    for _ in range(warm):
        await run()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples



async def _deep_cursor(db: Database, claims, org, depth: int) -> str:
    """The cursor after `depth` rows, found by walking pages of 200 (as a client would)."""
    cursor = None
    async with db.as_user(claims) as conn:
        for _ in range(depth // 200):
            cursor = (await calls.list_calls(conn, org, limit=200, cursor=cursor)).next_cursor
    assert cursor is not None
    return cursor


async def main(n_calls: int, runs: int) -> int:
    root = Path(tempfile.mkdtemp(prefix="sb-bench-api-"))
    os.environ.setdefault("SWITCHBOARD_DATA_DIR", str(root / "data"))
    cluster = LocalCluster(data_dir=root, port=free_port(), fast=True)
    cluster.ensure_running()
    try:
        migrate(cluster.url())
        sync_catalog_at(cluster.url())
        async with Database(cluster.url(), min_size=2, max_size=4) as db:
            report = await seed_demo(db, n_calls, seed=11)
            print(f"seeded {report.calls:,} calls in {report.seconds:.1f} s")
            org, claims = report.demo.organization_id, report.demo.claims
            async with db.as_user(claims) as conn:
                sample = (await calls.list_calls(conn, org, limit=1, cursor=None)).items[0]
            depth = min(100_000, n_calls // 2)
            deep = await _deep_cursor(db, claims, org, depth)
            week_ago = datetime.now(timezone.utc) - timedelta(days=7)
            queries = {
                "first page (50)": lambda c: calls.list_calls(c, org),
                f"page {depth:,} rows deep": lambda c: calls.list_calls(c, org, cursor=deep),
                "provider = vapi": lambda c: calls.list_calls(c, org, CallFilters(provider="vapi")),
                "status = error": lambda c: calls.list_calls(c, org, CallFilters(status="error")),
                "direction = outbound": lambda c: calls.list_calls(c, org, CallFilters(direction="outbound")),
                "experiment arm = B": lambda c: calls.list_calls(c, org, CallFilters(arm="B")),
                "last 7 days": lambda c: calls.list_calls(c, org, CallFilters(started_from=week_ago)),
                "caller's number (exact)": lambda c: calls.list_calls(c, org, CallFilters(number=sample.from_number)),
                "caller's last 4 digits": lambda c: calls.list_calls(c, org, CallFilters(number=sample.from_number[-4:])),
                "one call with its usage": lambda c: calls.get_call(c, org, sample.id),
            }
            worst = 0.0
            print(f"{'query':32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  (n={runs}, as_user, RLS on, {n_calls:,} calls)")
            for name, query in queries.items():
                async def as_member(query=query) -> None:
                    async with db.as_user(claims) as conn:
                        await query(conn)

                worst = max(worst, timing_line(name, await _measure(as_member, runs)))
            # The same first page over HTTP through the router (token check, JSON, validation).
            from edge_functions.api.testapp import create_app
            from switchboard.auth import issue_token

            headers = {"Authorization": f"Bearer {issue_token(claims.user_id, claims.email)}"}
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(db)), base_url="http://bench") as client:
                async def over_http() -> None:
                    assert (await client.get("/api/calls", headers=headers)).status_code == 200

                timing_line("GET /api/calls over the router", await _measure(over_http, runs))
            return verdict(worst, TARGET_P95_MS)
    finally:
        cluster.destroy()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.calls, args.runs)))
