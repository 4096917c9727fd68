"""A real edge-functions server for tests and the benchmark: `python -m switchboard serve
functions` in its own process group on a free loopback port, stopped (or killed) by its pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


class EdgeServer:
    def __init__(self, database_url: str, port: int, env: dict[str, str] | None = None, workers: int = 1,
                 log_path: Path | None = None):
        self.database_url = database_url
        self.port = port
        self.env = env or {}
        self.workers = workers
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "EdgeServer":
        env = {**os.environ, **self.env, "DATABASE_URL": self.database_url, "PYTHONPATH": str(ROOT),
               "PUBLIC_BASE_URL": self.url, "LOG_LEVEL": self.env.get("LOG_LEVEL", "WARNING")}
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard", "serve", "functions", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(self.workers)],
            cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"edge server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("edge server did not become healthy")

    def kill(self) -> None:
        """SIGKILL, no goodbye: the crash."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
