"""An ASGI app served by a real uvicorn on a free loopback port, in a thread of the test
process (for tools that talk HTTP to it from synchronous code: schemathesis, httpx); and an
aiohttp app served in the test's own event loop (local vendor servers)."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn

from switchboard.db.local import free_port


@contextmanager
def serving_in_thread(app, *, timeout: float = 60.0) -> Iterator[str]:
    """Serve `app` (its lifespan run) until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


@asynccontextmanager
async def aiohttp_serving(app) -> AsyncIterator[str]:
    """Serve an aiohttp `app` on a free loopback port in the test's own loop; yields its base URL."""
    from aiohttp import web

    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    finally:
        await runner.cleanup()
