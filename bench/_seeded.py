"""What the database benchmarks share: a throwaway Postgres cluster seeded with N demo calls,
a timed loop, and the table of queries run as the demo organisation's signed-in member (RLS
on, through `db.as_user`). Each bench says only what it times."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from switchboard.db import Database  # noqa: E402
from switchboard.db.local import LocalCluster, free_port  # noqa: E402
from switchboard.db.migrate import migrate  # noqa: E402
from switchboard.pipeline.catalog import sync_catalog_at  # noqa: E402
from switchboard.demo import seed_demo  # noqa: E402

from _stats import timing_line  # noqa: E402  (this directory is on sys.path when run as a script)


@asynccontextmanager
async def seeded(n_calls: int, *, seed: int, prefix: str) -> AsyncIterator[tuple[Database, Any]]:
    """A fresh cluster, migrated, with `n_calls` demo calls: (database, the seeder's report).
    The cluster is destroyed afterwards, whatever happened."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.setdefault("SWITCHBOARD_DATA_DIR", str(root / "data"))
    cluster = LocalCluster(data_dir=root, port=free_port(), fast=True)
    cluster.ensure_running()
    try:
        migrate(cluster.url())
        sync_catalog_at(cluster.url())
        async with Database(cluster.url(), min_size=2, max_size=4) as db:
            t0 = time.perf_counter()
            report = await seed_demo(db, n_calls, seed=seed)
            print(f"seeded {report.calls:,} calls (+ as many usage rows) in {report.seconds:.1f} s "
                  f"= {report.rows_per_second:,.0f} rows/s (setup {time.perf_counter() - t0 - report.seconds:.1f} s)")
            yield db, report
    finally:
        cluster.destroy()


async def measure(run: Callable[[], Awaitable[Any]], runs: int, warm: int = 3) -> list[float]:
    """Milliseconds of `runs` awaits of `run()`, after `warm` untimed ones."""
    for _ in range(warm):
        await run()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


async def time_as_member(db: Database, claims: Any, queries: dict[str, Callable[[Any], Awaitable[Any]]], runs: int,
                         *, what: str, width: int = 32, warm: int = 3) -> float:
    """Each query (`connection → awaitable`) timed in its own transaction as the member; prints a
    line per query under a header and returns the worst p95."""
    print(f"{'query':{width}} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  (n={runs}, as_user, RLS on{what})")
    worst = 0.0
    for name, query in queries.items():
        async def as_member(query=query) -> None:
            async with db.as_user(claims) as conn:
                assert await query(conn) is not None

        worst = max(worst, timing_line(name, await measure(as_member, runs, warm), width=width))
    return worst


def arguments(doc: str | None, *, runs: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=runs)
    return parser.parse_args()
