"""A 20-scenario suite on the LiveKit platform, offline vendors, no key: a throwaway Postgres with
the demo organisation, the worker's text endpoint as its own process (`python -m agent_worker
chat`, as `make run` starts it), and the suite run by the core (`scenarios.runner.run_suite`, as
the CLI and the API run it) within the organisation's concurrency limit.

Printed: the suite's wall time (target ≤ 10 s on 2 cores), and per turn, p50/p95/max (ms): the
turn as the runner timed it, and ours — the turn less the vendors' time the worker reported (the
model's requests and the tools'): API-less core, database, the hop to the worker, the session.

    python bench/bench_scenarios.py [--scenarios 20] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

# First: it puts the repository root on sys.path (this directory is there when run as a script).
from _services import services
from _stats import timing_line

from switchboard.db import Database
from switchboard.demo import seed_demo
from switchboard.platforms import PlatformSource
from switchboard.scenarios import runner
from switchboard.scenarios.demo import demo_suite
from switchboard.scenarios.store import save_suite
from switchboard.settings import get_settings

TARGET_SECONDS = 10.0


async def main(count: int, concurrency: int) -> int:
    with services("sb-bench-scen-") as running:
        running.start_worker_chat()
        async with Database(running.url, min_size=2, max_size=concurrency + 4) as db:
            demo = (await seed_demo(db, 0, other_calls=0, seed=5)).demo
            base = demo_suite()
            suite = [s.model_copy(update={"name": f"{s.name} #{i // len(base) + 1}"})
                     for i, s in enumerate(base * (count // len(base) + 1))][:count]
            async with db.as_service() as conn:
                await conn.execute("delete from scenarios where agent_config_id = %s", (demo.agent_config_id,))
                await save_suite(conn, demo.organization_id, demo.agent_config_id, suite)
                await conn.execute("update organizations set scenario_concurrency = %s where id = %s",
                                   (concurrency, demo.organization_id))
            source = PlatformSource(db, get_settings())
            began = time.perf_counter()
            run_id, results = await runner.run_suite(db, demo.claims, demo.organization_id, demo.agent_config_id, source,
                                                     platform="livekit")
            wall = time.perf_counter() - began
            await source.aclose()
            async with db.as_service() as conn:
                turns = await (await conn.execute(
                    """select t.latency_ms, t.vendor_latency_ms from scenario_results r
                       join conversation_turns t on t.conversation_id = r.conversation_id
                       where r.run_id = %s and t.seq > 0""", (run_id,))).fetchall()
        passed = sum(r.outcome == "passed" for r in results)
        total = [float(t["latency_ms"]) for t in turns]
        ours = [float(t["latency_ms"]) - float(t["vendor_latency_ms"] or 0) for t in turns]
        print(f"{len(results)} scenarios ({passed} passed), {len(turns)} turns, LiveKit platform, offline vendors, "
              f"concurrency {concurrency}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'(ms)':32} {'p50':>8} {'p95':>8} {'max':>8}")
        timing_line("turn, as the runner timed it", total)
        timing_line("  ours (less the vendors' time)", ours)
        ok = wall <= TARGET_SECONDS and passed == len(results)
        print(f"suite wall time {wall:.2f} s — target ≤ {TARGET_SECONDS:.0f} s: {'met' if ok else 'MISSED'}")
        return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.scenarios, args.concurrency)))
