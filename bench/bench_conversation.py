"""A conversation turn's overhead through our API on the LiveKit platform, offline vendors: a
throwaway Postgres with the demo organisation (`seed_demo`, no calls), the edge-functions server
(`switchboard serve functions`, uvicorn) and the worker's text endpoint (`python -m agent_worker
chat`) as their own processes, as `make run` starts them; the client posts the turns as the
demo's signed-in user over one kept-alive connection.

Each turn is timed at the client. The worker reports how long its session took and how much of
that was the vendors' (the model's requests and the tools'). Printed, p50/p95/max (ms):
- the turn as the client sees it;
- ours: the turn less the vendors' time (API, core, database, the hop to the worker, and the
  livekit-agents session around the model) — the target, p95 ≤ 20 ms;
- outside the worker's session: the turn less the whole session (API, core, database, hop);
and the CPU each process spent per turn (from /proc), which does not depend on how busy the
machine's other tenants keep its cores.

    python bench/bench_conversation.py [--conversations C] [--turns T]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

# First: it puts the repository root on sys.path (this directory is there when run as a script).
from _services import services
from _stats import timing_line, verdict

import aiohttp

from switchboard.auth import issue_token
from switchboard.db import Database
from switchboard.db.local import free_port
from switchboard.demo import DEMO_EMAIL, seed_demo

TARGET_P95_MS = 20.0
MESSAGES = ("Where can I park?", "Can I talk to a person please?", "Hello", "How do I book an appointment?")


def _cpu_ms(pid: int) -> float:
    """CPU (user + system) a process has used, in ms, from /proc (clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


async def _turns(api: str, headers: dict[str, str], agent, conversations: int, turns: int, pids: list[int]):
    total, ours, around, cpu = [], [], [], {pid: 0.0 for pid in pids}
    base = f"{api}/api/agents/{agent}/conversations"
    async with aiohttp.ClientSession(headers=headers) as http:
        for c in range(conversations + 1):  # the first conversation warms up and is not counted
            async with http.post(base, json={"platform": "livekit"}) as r:
                assert r.status == 201, await r.text()
                conv = await r.json()
            before = {pid: _cpu_ms(pid) for pid in pids}
            for t in range(turns):
                t0 = time.perf_counter()
                async with http.post(f"{base}/{conv['id']}/messages", json={"text": MESSAGES[t % len(MESSAGES)]}) as r:
                    turn = await r.json()
                elapsed = (time.perf_counter() - t0) * 1000
                assert r.status == 200, turn
                if c:
                    total.append(elapsed)
                    ours.append(elapsed - (turn["vendor_latency_ms"] or 0.0))
                    around.append(elapsed - (turn["platform_latency_ms"] or 0.0))
            if c:
                for pid in pids:
                    cpu[pid] += _cpu_ms(pid) - before[pid]
            async with http.delete(f"{base}/{conv['id']}") as r:
                assert r.status == 204
    return total, ours, around, cpu


async def main(conversations: int, turns: int) -> int:
    api_port = free_port()
    with services("sb-bench-conv-") as running:
        async with Database(running.url, min_size=1, max_size=2) as db:
            demo = (await seed_demo(db, 0, other_calls=0, seed=5)).demo
        running.start_worker_chat()
        running.start([sys.executable, "-m", "switchboard", "serve", "functions", "--port", str(api_port)],
                      f"http://127.0.0.1:{api_port}/health")
        headers = {"Authorization": f"Bearer {issue_token(demo.user_id, DEMO_EMAIL)}"}
        worker, server = (p.pid for p in running.procs)
        total, ours, around, cpu = await _turns(f"http://127.0.0.1:{api_port}", headers, demo.agent_config_id,
                                                conversations, turns, [worker, server])
        print(f"{len(total)} turns ({conversations} conversations × {turns}), LiveKit platform, offline vendors, "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'(ms)':32} {'p50':>8} {'p95':>8} {'max':>8}")
        timing_line("turn, as the client sees it", total)
        p95 = timing_line("  ours (less the vendors' time)", ours)
        timing_line("  outside the worker's session", around)
        print(f"CPU a turn (mean): edge-functions server {cpu[server] / len(total):.2f} ms, "
              f"worker {cpu[worker] / len(total):.2f} ms")
        return verdict(p95, TARGET_P95_MS)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.conversations, args.turns)))
