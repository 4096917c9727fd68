"""Dashboard queries at scale: seeds N calls (default 1,000,000) into a throwaway Postgres
cluster, then runs each dashboard query as the demo organisation's signed-in member (RLS on,
through `db.as_user`) and prints p50/p95. Target: p95 ≤ 150 ms for each at 1M calls.

    python bench/bench_dashboard.py [--calls N] [--runs R]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from switchboard import analytics  # noqa: E402
from switchboard.db import Database  # noqa: E402
from switchboard.db.local import LocalCluster, free_port  # noqa: E402
from switchboard.db.migrate import migrate  # noqa: E402
from switchboard.pipeline.catalog import sync_catalog_at  # noqa: E402
from switchboard.demo import seed_demo  # noqa: E402

from _stats import timing_line, verdict  # noqa: E402  (this directory is on sys.path when run as a script)

TARGET_P95_MS = 150.0



async def main(calls: int, runs: int) -> int:
    root = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    import os

    os.environ.setdefault("SWITCHBOARD_DATA_DIR", str(root / "data"))
    cluster = LocalCluster(data_dir=root, port=free_port(), fast=True)
    cluster.ensure_running()
    try:
        migrate(cluster.url())
        sync_catalog_at(cluster.url())
        async with Database(cluster.url(), min_size=2, max_size=4) as db:
            t = time.perf_counter()
            report = await seed_demo(db, calls, seed=7)
            print(f"seeded {report.calls:,} calls (+ as many usage rows) in {report.seconds:.1f} s "
                  f"= {report.rows_per_second:,.0f} rows/s (setup {time.perf_counter() - t - report.seconds:.1f} s)")
            org, claims = report.demo.organization_id, report.demo.claims
            queries = {
                "spend this month": lambda c: analytics.spend_this_month(c, org),
                "cost per provider per day (30 d)": lambda c: analytics.cost_per_provider_per_day(c, org, days=30),
                "component breakdown (30 d)": lambda c: analytics.component_breakdown(c, org, days=30),
                "cost per minute per provider (30 d)": lambda c: analytics.cost_per_minute_by_provider(c, org, days=30),
            }
            worst = 0.0
            print(f"{'query':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  (n={runs}, as_user, RLS on)")
            for name, query in queries.items():
                for _ in range(3):  # warm the pool and the plan cache
                    async with db.as_user(claims) as conn:
                        await query(conn)
                samples = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    async with db.as_user(claims) as conn:
                        result = await query(conn)
                    samples.append((time.perf_counter() - t0) * 1000)
                assert result is not None
                worst = max(worst, timing_line(name, samples, width=40))
            return verdict(worst, TARGET_P95_MS)
    finally:
        cluster.destroy()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.calls, args.runs)))
