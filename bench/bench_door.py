"""Limits at the door, measured on loopback against a real server (`switchboard serve functions`,
one worker process) over its own Postgres cluster:

* huge bodies: 8 concurrent 100 MB bodies to `POST /api/auth/token` (no token needed), once
  with Content-Length and once chunked (no Content-Length) — the server's peak RSS growth
  over its idle RSS, sampled every 10 ms from /proc. Target < 50 MiB (before the limit: +2.2 GiB);
* brute force: sign-in (wrong passwords) for one account from one address, flat out for a
  bounded time — attempts the server accepted (answered 401, not 429) in any 60 s window and
  on average. Target ≤ 10 a minute;
* the body limit's own cost per request, in process: the middleware around a no-op ASGI app
  against the bare app, for a request with Content-Length (the hot routes' case).

Every loop is bounded in time and count and targets 127.0.0.1 only.

    python bench/bench_door.py [--seconds 65] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from switchboard import auth  # noqa: E402
from switchboard.db import Database  # noqa: E402
from switchboard.db.local import LocalCluster, free_port  # noqa: E402
from switchboard.db.migrate import migrate  # noqa: E402
from switchboard.pipeline.catalog import sync_catalog_at  # noqa: E402
from tests.edge.conftest import TEST_KEYS  # noqa: E402
from tests.edge.server import EdgeServer  # noqa: E402

HOST = "127.0.0.1"
MiB = 1024 * 1024
EMAIL, PASSWORD = "bench-victim@example.com", "violet-harbour-tangent-92"


def rss(pid: int) -> int:
    """Resident set of `pid` and its children (bytes)."""
    total = 0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class PeakRSS:
    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self.base = rss(pid)

    def __enter__(self) -> "PeakRSS":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.01)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss(self.pid))


async def huge_body(port: int, size: int, *, chunked: bool, deadline: float) -> str:
    """Send up to `size` bytes of body; stop when the server answers or hangs up. The status
    line the server sent, or why there was none."""
    reader, writer = await asyncio.open_connection(HOST, port)
    head = f"POST /api/auth/token HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n"
    writer.write(head.encode() + b"\r\n")
    answer = asyncio.ensure_future(reader.readuntil(b"\r\n\r\n"))
    piece = b" " * (256 * 1024)
    sent = 0
    try:
        await asyncio.wait([answer], timeout=0.2)  # a server that answers on the headers alone
        while sent < size and not answer.done() and time.monotonic() < deadline:
            writer.write(b"%x\r\n" % len(piece) + piece + b"\r\n" if chunked else piece)
            await writer.drain()
            sent += len(piece)
            await asyncio.sleep(0)  # let an answer in before the next piece
        if chunked and sent >= size:
            writer.write(b"0\r\n\r\n")
        head = await asyncio.wait_for(answer, max(0.1, deadline - time.monotonic()))
        return head.split(b"\r\n", 1)[0].decode()
    except (ConnectionError, asyncio.IncompleteReadError):
        if answer.done() and not answer.exception():
            return answer.result().split(b"\r\n", 1)[0].decode()
        return f"connection closed after {sent // MiB} MiB sent"
    except TimeoutError:
        return f"no answer after {sent // MiB} MiB sent"
    finally:
        answer.cancel()
        writer.close()


async def phase_huge(server: EdgeServer, count: int, size: int) -> int:
    worst = 0
    for chunked in (False, True):
        deadline = time.monotonic() + 60
        with PeakRSS(server.proc.pid) as m:
            statuses = await asyncio.gather(*(huge_body(server.port, size, chunked=chunked, deadline=deadline)
                                              for _ in range(count)))
            await asyncio.sleep(0.3)
        growth = m.peak - m.base
        worst = max(worst, growth)
        kind = "chunked" if chunked else "Content-Length"
        print(f"  {count} × {size // 1_000_000} MB ({kind:14}): peak RSS {m.peak / MiB:7.1f} MiB "
              f"(idle {m.base / MiB:.1f}), growth {growth / MiB:6.1f} MiB; answers: {sorted(set(statuses))}")
    ok = worst < 50 * MiB
    print(f"  worst growth {worst / MiB:.1f} MiB — target < 50 MiB: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


async def sign_in_attempt(reader, writer, body: bytes) -> int:
    writer.write(b"POST /api/auth/token HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


async def phase_brute_force(port: int, seconds: float, concurrency: int, max_attempts: int = 200_000) -> int:
    accepted: list[float] = []  # when each attempt the server looked at (not 429) was sent
    counts: dict[int, int] = {}
    t0 = time.monotonic()
    stop = t0 + seconds
    budget = [max_attempts]

    async def hammer(n: int) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        i = 0
        try:
            while time.monotonic() < stop and budget[0] > 0:
                budget[0] -= 1
                i += 1
                body = json.dumps({"email": EMAIL, "password": f"guess-{n}-{i}"}).encode()
                sent_at = time.monotonic() - t0
                status = await sign_in_attempt(reader, writer, body)
                counts[status] = counts.get(status, 0) + 1
                if status != 429:
                    # when the attempt was made: the server counts it on arrival, while its
                    # answer waits for bcrypt (seconds, when 8 hashes share two busy cores)
                    accepted.append(sent_at)
        finally:
            writer.close()

    await asyncio.gather(*(hammer(n) for n in range(concurrency)))
    elapsed = time.monotonic() - t0
    accepted.sort()
    window = max((sum(1 for t in accepted if s <= t < s + 60) for s in accepted), default=0)
    # The server counts an attempt when it arrives; the client sees it sent a few ms earlier
    # (more on two busy cores), so at a window's edge the client's clock may put an 11th
    # attempt a hair inside 60 s. The verdict: 11 accepted attempts never span less than 59.5 s.
    span = min((accepted[i + 10] - accepted[i] for i in range(len(accepted) - 10)), default=float("inf"))
    total = sum(counts.values())
    print(f"  {total} attempts in {elapsed:.1f} s ({total / elapsed:.0f}/s) from {HOST}: answers {dict(sorted(counts.items()))}")
    print(f"  accepted (not 429): {len(accepted)} — at most {window} in any 60 s window of send times, "
          f"{len(accepted) / elapsed * 60:.1f}/min on average over the run")
    print(f"  shortest span of 11 accepted attempts: {span:.2f} s (10 a minute: ≥ 60 s, less the arrival jitter)")
    ok = span >= 59.5
    print(f"  accepted per minute ≤ 10 (span ≥ 59.5 s): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


async def phase_cost(n: int = 200_000) -> None:
    from edge_functions.body_limit import BodyLimitMiddleware

    async def app(scope, receive, send):
        return None

    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        return None

    headers = [(b"host", b"127.0.0.1:54321"), (b"user-agent", b"Retell/1.0"), (b"content-type", b"application/json"),
               (b"x-retell-signature", b"v=1,d=0123456789abcdef"), (b"accept", b"*/*"), (b"content-length", b"2048")]
    scope = {"type": "http", "method": "POST", "path": "/functions/v1/voice-ai-router", "headers": headers}
    guarded = BodyLimitMiddleware(app)

    async def run(target) -> float:
        t = time.perf_counter()
        for _ in range(n):
            await target(scope, receive, send)
        return (time.perf_counter() - t) / n * 1e9

    async def both() -> tuple[float, float]:
        bare, door = [], []
        for _ in range(3):
            bare.append(await run(app))
            door.append(await run(guarded))
        return min(bare), min(door)

    bare, door = await both()
    print(f"  per request: bare app {bare:.0f} ns, behind the body limit {door:.0f} ns — the limit costs {door - bare:.0f} ns")


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=65.0, help="brute-force phase length (≥ 60 to see a whole window)")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--body-mb", type=int, default=100)
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="sb-bench-door-"))
    cluster = LocalCluster(data_dir=root, port=free_port(), fast=True)
    server = None
    failures = 0
    try:
        cluster.ensure_running()
        url = cluster.url()
        migrate(url)
        sync_catalog_at(url)
        async with Database(url, min_size=1, max_size=2) as db:
            await auth.sign_up(db, EMAIL, PASSWORD)
        server = EdgeServer(url, free_port(), env=dict(TEST_KEYS), workers=1, log_path=root / "edge.log").start()
        await asyncio.sleep(1.0)  # let the startup's allocations settle before the idle RSS
        print(f"door benchmark: one server process (pid {server.proc.pid}) on {server.url}, its own Postgres")
        print("huge bodies to POST /api/auth/token:")
        failures += await phase_huge(server, 8, args.body_mb * 1_000_000)
        print(f"brute force: one account, one address, {args.concurrency} connections, {args.seconds:.0f} s:")
        failures += await phase_brute_force(server.port, args.seconds, args.concurrency)
        print("body limit cost (in process, no-op app, request with Content-Length):")
        await phase_cost()
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
