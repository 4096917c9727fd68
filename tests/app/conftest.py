"""Fixtures for the admin app's tests.

- `app_db_url`: a database that lives for the whole session, cloned from the migrated template
  (the per-test `db_url` would vanish under the running app).
- `app_server`: the prod build of the Reflex app (`tests/support/reflex_app.start_app`), built
  once per session into a private web dir and served on a free port against `app_db_url`.
- `browser` / `page`: Debian's Chromium driven by Playwright (never `playwright install`).
- `worker_chat`: the worker's text-conversation endpoint (`agent_worker chat`, as `make run`
  starts it) at the address the app was given (`worker_chat_url`), for tests that converse on
  the LiveKit platform.
- `retell_prism` / `vapi_prism`: Prism mocks of those platforms' documents.
- `shot(page, name)`: a full-page screenshot under test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from switchboard.db import Database
from switchboard.db.local import LocalCluster
from switchboard.db.local import free_port
from tests.support.databases import cloned_database
from tests.support.prism import prism_fixture
from tests.support.reflex_app import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    RunningApp,
    start_app,
    stop_app,
)

ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"


# --- database ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def app_db_url(pg_cluster: LocalCluster, template_db: str) -> Iterator[str]:
    with cloned_database(pg_cluster, template_db, prefix="app_") as url:
        yield url


@pytest.fixture(scope="session")
async def app_db(app_db_url: str) -> AsyncIterator[Database]:
    async with Database(app_db_url, min_size=1, max_size=4, name="app-tests") as database:
        yield database


# --- the running app --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def worker_chat_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def app_server(app_db_url: str, worker_chat_url: str) -> Iterator[RunningApp]:
    workdir = Path(tempfile.mkdtemp(prefix="sb-app-web-"))
    running = start_app(app_db_url, workdir=workdir, log=ARTIFACTS / "app-server.log",
                        env={"LIVEKIT_CHAT_URL": worker_chat_url})
    try:
        yield running
    finally:
        stop_app(running)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
async def worker_chat(app_db_url: str, worker_chat_url: str) -> AsyncIterator[str]:
    from urllib.parse import urlsplit

    from aiohttp import web

    from agent_worker.chat import ChatService, create_app as chat_app
    from agent_worker.server import WorkerRuntime
    from switchboard.settings import get_settings

    runtime = WorkerRuntime(database_url=app_db_url)
    runner = web.AppRunner(chat_app(ChatService(runtime, token=get_settings().resolved_chat_token())))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", urlsplit(worker_chat_url).port).start()
    try:
        yield worker_chat_url
    finally:
        await runner.cleanup()
        await runtime.aclose()


retell_prism = prism_fixture("retell-openapi.yaml")
vapi_prism = prism_fixture("vapi-mock-flat.json")


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
    if full_page:  # from the top, so the sticky sidebar is drawn where it belongs
        await page.evaluate("window.scrollTo(0, 0)")
    await asyncio.sleep(0.3)  # let charts finish their first paint
    await page.screenshot(path=str(path), full_page=full_page)
    return path
