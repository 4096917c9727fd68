"""A conversation turn's overhead through our API on the LiveKit platform, offline vendors: a
throwaway Postgres with the demo organisation (`seed_demo`, no calls), the worker's text
endpoint as its own process (`python -m agent_worker chat`, as `make run` starts it), and the
API router in process (httpx's ASGI transport), called as the demo's signed-in user.

Each turn is timed at the client. The worker reports how long its session took and how much of
that was the vendors' (the model's requests and the tools'): "ours" is the turn less the
vendors' time — the API, the core, the database writes, the hop to the worker and the agent
session around the model. Prints p50/p95/max (ms); the target is p95 ≤ 20 ms.

    python bench/bench_conversation.py [--conversations C] [--turns T]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from switchboard.auth import issue_token  # noqa: E402
from switchboard.db import Database  # noqa: E402
from switchboard.db.local import LocalCluster, free_port  # noqa: E402
from switchboard.db.migrate import migrate  # noqa: E402
from switchboard.demo import DEMO_EMAIL, seed_demo  # noqa: E402
from switchboard.settings import reset_settings_cache  # noqa: E402

from _stats import timing_line, verdict  # noqa: E402  (this directory is on sys.path when run as a script)

TARGET_P95_MS = 20.0
MESSAGES = ("Where can I park?", "Can I talk to a person please?", "Hello", "How do I book an appointment?")


def _start_worker(url: str, env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "agent_worker", "chat"], env=env, cwd=Path(__file__).resolve().parent.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health", timeout=1)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise SystemExit(f"the worker's chat endpoint exited with code {proc.returncode}")
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the worker's chat endpoint did not start within 120 s")


async def main(conversations: int, turns: int) -> int:
    root = Path(tempfile.mkdtemp(prefix="sb-bench-conv-"))
    chat_url = f"http://127.0.0.1:{free_port()}"
    os.environ.setdefault("SWITCHBOARD_DATA_DIR", str(root / "data"))
    os.environ["LIVEKIT_CHAT_URL"] = chat_url
    reset_settings_cache()
    cluster = LocalCluster(data_dir=root, port=free_port(), fast=True)
    cluster.ensure_running()
    worker = None
    try:
        migrate(cluster.url())
        worker = _start_worker(chat_url, {**os.environ, "DATABASE_URL": cluster.url(), "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
        from edge_functions.api.testapp import create_app

        async with Database(cluster.url(), min_size=2, max_size=6) as db:
            demo = (await seed_demo(db, 0, other_calls=0, seed=5)).demo
            headers = {"Authorization": f"Bearer {issue_token(demo.user_id, DEMO_EMAIL)}"}
            app = create_app(db)
            total, ours, around = [], [], []
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.bench", timeout=30) as api:
                base = f"/api/agents/{demo.agent_config_id}/conversations"
                for c in range(conversations + 1):  # the first conversation warms up and is not counted
                    conv = (await api.post(base, json={"platform": "livekit"}, headers=headers)).json()
                    for t in range(turns):
                        t0 = time.perf_counter()
                        r = await api.post(f"{base}/{conv['id']}/messages", json={"text": MESSAGES[t % len(MESSAGES)]},
                                           headers=headers)
                        elapsed = (time.perf_counter() - t0) * 1000
                        r.raise_for_status()
                        turn = r.json()
                        if c == 0:
                            continue
                        total.append(elapsed)
                        ours.append(elapsed - (turn["vendor_latency_ms"] or 0.0))
                        around.append(elapsed - (turn["platform_latency_ms"] or 0.0))
                    await api.delete(f"{base}/{conv['id']}", headers=headers)
            await app.state.platforms.aclose()
        print(f"{len(total)} turns ({conversations} conversations × {turns}), LiveKit platform, offline vendors")
        print(f"{'(ms)':32} {'p50':>8} {'p95':>8} {'max':>8}")
        timing_line("turn, as the client sees it", total)
        timing_line("  outside the worker's session", around)
        p95 = timing_line("  ours (less the vendors' time)", ours)
        return verdict(p95, TARGET_P95_MS)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=15)
        cluster.destroy()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.conversations, args.turns)))
