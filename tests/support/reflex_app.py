"""The admin app as a real server, for browser tests and benchmarks: the prod build of the
Reflex app (`reflex run --env prod`, front end and event back end on ONE port), in a private
web dir, against a given database; and Debian's Chromium for Playwright (never
`playwright install`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from switchboard.db.local import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
BUILD_AND_START_TIMEOUT = 300


def reflex_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the app runs in: bun from node_modules, nothing fetched from outside."""
    env = dict(os.environ)
    node_bin = ROOT / "node_modules" / ".bin"
    env["PATH"] = f"{node_bin}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env['PYTHONPATH']}" if env.get("PYTHONPATH") else str(ROOT)
    env.update(
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="false",
        NPM_CONFIG_REGISTRY=env.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("REFLEX_USE_NPM", None)
    env.update(extra or {})
    return env


@dataclass
class RunningApp:
    url: str
    port: int
    log: Path
    process: subprocess.Popen

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_app(database_url: str, *, workdir: Path, log: Path, port: int | None = None,
              timeout: float = BUILD_AND_START_TIMEOUT, env: dict[str, str] | None = None) -> RunningApp:
    """Build the prod front end and serve app + back end on one port; wait until it answers.
    `env`: more of the app's settings (LIVEKIT_CHAT_URL, …)."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = reflex_env({
        **(env or {}),
        "DATABASE_URL": database_url,
        "APP_PORT": str(port),
        "REFLEX_WEB_WORKDIR": str(workdir / ".web"),
        "REFLEX_STATES_WORKDIR": str(workdir / ".states"),
    })
    log.parent.mkdir(parents=True, exist_ok=True)
    fh = open(log, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reflex", "run", "--env", "prod", "--frontend-port", str(port), "--backend-port", str(port)],
        cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    running = RunningApp(url=f"http://127.0.0.1:{port}", port=port, log=log, process=proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"reflex exited with {proc.returncode}:\n{running.log_tail()}")
        try:
            ping = httpx.get(f"{running.url}/ping", timeout=2)
            page = httpx.get(f"{running.url}/", timeout=5)
            if ping.status_code == 200 and page.status_code == 200:
                return running
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_app(running)
    raise RuntimeError(f"the app did not answer within {timeout:.0f} s:\n{running.log_tail()}")


def stop_app(running: RunningApp) -> None:
    """Stop the server's whole process group (reflex, its workers), by its own id."""
    if running.process.poll() is not None:
        return
    pgid = os.getpgid(running.process.pid)
    os.killpg(pgid, signal.SIGTERM)
    try:
        running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        running.process.wait(timeout=5)
