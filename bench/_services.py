"""What the benchmarks that run our services as their own processes share: a throwaway migrated
Postgres, the services started as `make run` starts them (each waited for until it answers), and
the teardown of both, whatever the bench did."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from switchboard.db.local import LocalCluster, free_port  # noqa: E402
from switchboard.db.migrate import migrate  # noqa: E402
from switchboard.settings import reset_settings_cache  # noqa: E402


def start(argv: list[str], ready_url: str, env: dict[str, str]) -> subprocess.Popen:
    """Start `argv` and wait (≤ 180 s) until `ready_url` answers."""
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            httpx.get(ready_url, timeout=1)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise SystemExit(f"{' '.join(argv[1:])} exited with code {proc.returncode}")
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{' '.join(argv[1:])} did not start within 180 s")


@dataclass
class Services:
    url: str  # the database's
    env: dict[str, str]  # for the services: this process's, with the database
    procs: list[subprocess.Popen] = field(default_factory=list)

    def start(self, argv: list[str], ready_url: str) -> subprocess.Popen:
        self.procs.append(start(argv, ready_url, self.env))
        return self.procs[-1]

    def start_worker_chat(self) -> subprocess.Popen:
        """The worker's text endpoint (`python -m agent_worker chat`), at LIVEKIT_CHAT_URL."""
        return self.start([sys.executable, "-m", "agent_worker", "chat"], f"{os.environ['LIVEKIT_CHAT_URL']}/health")


@contextmanager
def services(prefix: str) -> Iterator[Services]:
    """A migrated throwaway cluster under a new temporary folder, the worker's text endpoint on a
    free port (LIVEKIT_CHAT_URL); on leaving, every started service is stopped and the cluster
    destroyed."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.setdefault("SWITCHBOARD_DATA_DIR", str(root / "data"))
    os.environ["LIVEKIT_CHAT_URL"] = f"http://127.0.0.1:{free_port()}"
    reset_settings_cache()
    cluster = LocalCluster(data_dir=root, port=free_port(), fast=True)
    cluster.ensure_running()
    running = Services(cluster.url(), {})
    try:
        migrate(cluster.url())
        running.env = {**os.environ, "DATABASE_URL": cluster.url(), "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
        yield running
    finally:
        for proc in running.procs:
            proc.terminate()
        for proc in running.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        cluster.destroy()
