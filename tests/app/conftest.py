"""Fixtures for the admin app's tests.

- `app_db_url`: a database that lives for the whole session, cloned from the migrated template
  (the per-test `db_url` would vanish under the running app).
- `app_server`: the prod build of the Reflex app (`reflex run --env prod`), built once per session
  into a private web dir and served on a free port against `app_db_url`.
- `browser` / `page`: Debian's Chromium driven by Playwright (never `playwright install`).
- `shot(page, name)`: a full-page screenshot under test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from switchboard.db import Database
from switchboard.db.local import LocalCluster, free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
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
              timeout: float = BUILD_AND_START_TIMEOUT) -> RunningApp:
    """Build the prod front end and serve app + back end on one port; wait until it answers."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = reflex_env({
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


# --- database ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def app_db_url(pg_cluster: LocalCluster, template_db: str) -> Iterator[str]:
    name = "app_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute(f"create database {name} template {template_db}")
    try:
        yield pg_cluster.url(name)
    finally:
        with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")


@pytest.fixture(scope="session")
async def app_db(app_db_url: str) -> AsyncIterator[Database]:
    database = Database(app_db_url, min_size=1, max_size=4, name="app-tests")
    await database.open()
    try:
        yield database
    finally:
        await database.close()


# --- the running app --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def app_server(app_db_url: str) -> Iterator[RunningApp]:
    workdir = Path(tempfile.mkdtemp(prefix="sb-app-web-"))
    running = start_app(app_db_url, workdir=workdir, log=ARTIFACTS / "app-server.log")
    try:
        yield running
    finally:
        stop_app(running)
        shutil.rmtree(workdir, ignore_errors=True)


# --- the browser ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
async def browser() -> AsyncIterator:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser, app_server: RunningApp) -> AsyncIterator:
    context = await browser.new_context(base_url=app_server.url, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(20_000)
    pg = await context.new_page()
    try:
        yield pg
    finally:
        await context.close()


async def shot(page, name: str, *, full_page: bool = True) -> Path:
    """A screenshot kept as a test artefact: the whole page, or the viewport (for a modal, whose
    overlay covers only the viewport)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await asyncio.sleep(0.3)  # let charts finish their first paint
    await page.screenshot(path=str(path), full_page=full_page)
    return path
