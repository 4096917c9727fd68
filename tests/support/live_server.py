"""An ASGI app served by a real uvicorn on a free loopback port, in a thread of the test
process (for tools that talk HTTP to it from synchronous code: schemathesis, httpx)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

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
