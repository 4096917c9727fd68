"""Dashboard queries at scale: seeds N calls (default 1,000,000) into a throwaway Postgres
cluster, then runs each dashboard query as the demo organisation's signed-in member (RLS on,
through `db.as_user`) and prints p50/p95. Target: p95 ≤ 150 ms for each at 1M calls.

    python bench/bench_dashboard.py [--calls N] [--runs R]
"""

from __future__ import annotations

import asyncio
import sys

from _seeded import arguments, seeded, time_as_member  # this directory is on sys.path when run as a script
from _stats import verdict

from switchboard import analytics

TARGET_P95_MS = 150.0


async def main(calls: int, runs: int) -> int:
    async with seeded(calls, seed=7, prefix="sb-bench-") as (db, report):
        org, claims = report.demo.organization_id, report.demo.claims
        queries = {
            "spend this month": lambda c: analytics.spend_this_month(c, org),
            "cost per platform per day (30 d)": lambda c: analytics.cost_per_provider_per_day(c, org, days=30),
            "component breakdown (30 d)": lambda c: analytics.component_breakdown(c, org, days=30),
            "cost per minute per platform (30 d)": lambda c: analytics.cost_per_minute_by_provider(c, org, days=30),
            "latency per platform (30 d)": lambda c: analytics.latency_by_provider(c, org, days=30),
            "latency per platform (90 d)": lambda c: analytics.latency_by_provider(c, org, days=90),
        }
        return verdict(await time_as_member(db, claims, queries, runs, what="", width=40), TARGET_P95_MS)


if __name__ == "__main__":
    args = arguments(__doc__, runs=50)
    sys.exit(asyncio.run(main(args.calls, args.runs)))
