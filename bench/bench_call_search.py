"""The call list's search, count and CSV export at scale (issue #13): seeds N calls (default
1,000,000) with the demo seeder into a throwaway Postgres cluster, then times, as the demo
organisation's signed-in member (RLS on, through `db.as_user`):

- a search by a rare transcript word (3 calls), by a word in no call, by a common word (said
  in a fifth of the calls), a common word with a rare filter, the platform's call id, our id;
- the capped count ("10,000+ calls") unfiltered, by platform, by a rare and a common word;
- the first 10,000 rows of the CSV export (streamed by keyset pages).

Prints p50/p95/max per query; target p95 ≤ 50 ms for a page and a count.

    python bench/bench_call_search.py [--calls N] [--runs R]
"""

from __future__ import annotations

import asyncio
import sys
import time

from _seeded import arguments, measure, seeded, time_as_member  # this directory is on sys.path when run as a script
from _stats import timing_line, verdict

from switchboard import calls
from switchboard.models import CallFilters

TARGET_P95_MS = 50.0


async def main(n_calls: int, runs: int) -> int:
    async with seeded(n_calls, seed=11, prefix="sb-bench-search-") as (db, report):
        org, claims = report.demo.organization_id, report.demo.claims
        async with db.as_service() as conn:
            await conn.execute("analyze public.call_records")
            rows = await (await conn.execute(
                "select id, provider_call_id from public.call_records where organization_id = %s "
                "and started_at is not null order by started_at limit 3", (org,))).fetchall()
            for r in rows:  # a word said in three calls only, the oldest ones (the worst case for a walk)
                await conn.execute("update public.call_records set transcript = transcript || ' zygomatic' "
                                   "where id = %s", (r["id"],))
            n_org = (await (await conn.execute(
                "select count(*) as n from public.call_records where organization_id = %s", (org,))).fetchone())["n"]
        print(f"the demo organisation holds {n_org:,} calls")
        oldest = rows[0]
        queries = {
            "search: rare word (3 calls)": lambda c: calls.list_calls(c, org, CallFilters(q="zygomatic"), limit=25),
            "search: word in no call": lambda c: calls.list_calls(c, org, CallFilters(q="dentures"), limit=25),
            "search: common word (~20%)": lambda c: calls.list_calls(c, org, CallFilters(q="saturdays"), limit=25),
            "search: common word + status": lambda c: calls.list_calls(
                c, org, CallFilters(q="saturdays", status="error"), limit=25),
            "search: platform call id": lambda c: calls.list_calls(
                c, org, CallFilters(q=oldest["provider_call_id"] or "none"), limit=25),
            "search: our call id": lambda c: calls.list_calls(c, org, CallFilters(q=str(oldest["id"])), limit=25),
            "search: last 4 digits": lambda c: calls.list_calls(c, org, CallFilters(q="0142"), limit=25),
            "count: all (capped 10,000)": lambda c: calls.count_calls(c, org),
            "count: provider = vapi": lambda c: calls.count_calls(c, org, CallFilters(provider="vapi")),
            "count: status = error": lambda c: calls.count_calls(c, org, CallFilters(status="error")),
            "count: rare word": lambda c: calls.count_calls(c, org, CallFilters(q="zygomatic")),
            "count: common word": lambda c: calls.count_calls(c, org, CallFilters(q="saturdays")),
        }
        worst = await time_as_member(db, claims, queries, runs, what=f", {n_calls:,} calls", warm=2)

        async def export(limit_rows: int = 10_000) -> None:
            n = 0
            async with db.as_user(claims) as conn:
                async for chunk in calls.export_csv(conn, org):
                    n += chunk.count("\n")
                    if n > limit_rows:
                        break

        timing_line("CSV: first 10,000 rows", await measure(export, 5, warm=1))
        t0 = time.perf_counter()
        await export(10**9)
        print(f"CSV: all {n_org:,} rows streamed in {time.perf_counter() - t0:.1f} s")
        return verdict(worst, TARGET_P95_MS)


if __name__ == "__main__":
    args = arguments(__doc__, runs=20)
    sys.exit(asyncio.run(main(args.calls, args.runs)))
