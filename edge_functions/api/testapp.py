"""The management API alone on a bare FastAPI app: for its tests and for trying it out
(`uvicorn edge_functions.api.testapp:app`). The edge-functions server mounts the same router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from edge_functions.api import router
from switchboard.db import Database, database_url


def create_app(db: Database | None = None, *, url: str | None = None) -> FastAPI:
    """With `db`, the caller owns it (already open); without, one is opened on `url` (default
    DATABASE_URL or the embedded cluster) for the app's lifetime."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            if db is not None:
                app.state.db = db
                yield
                return
            async with Database(url or database_url(), name="api") as own:
                app.state.db = own
                yield
        finally:  # the platform adapters conversations opened (edge_functions.api.conversations)
            platforms = getattr(app.state, "platforms", None)
            if platforms is not None:
                await platforms.aclose()

    app = FastAPI(title="Switchboard management API", version="1.0.0", lifespan=lifespan)
    if db is not None:
        app.state.db = db
    app.include_router(router, prefix="/api")
    return app


app = create_app()
