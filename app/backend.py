"""The app's one connection to the core: the process's `Database` (opened on first use, in the
back end's event loop) and small formatting helpers for pages. Every page reads and writes
through core functions on `db.as_user(claims)`, never with SQL of its own."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from decimal import Decimal

from switchboard.db import Database
from switchboard.settings import get_settings

log = logging.getLogger("switchboard.app")

_db: Database | None = None
_lock = asyncio.Lock()


async def database() -> Database:
    """The shared pool; opened lazily so importing the app (at build time) needs no database."""
    global _db
    if _db is None:
        async with _lock:
            if _db is None:
                from switchboard.db.pool import database_url

                url = await asyncio.to_thread(database_url)
                s = get_settings()
                db = Database(url, min_size=s.db_pool_min, max_size=s.db_pool_max, name="admin-app")
                await db.open()
                _db = db
    return _db


def usd(value: float | Decimal | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"${float(value):,.{digits}f}"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def seconds(value: int | float | None) -> str:
    if value is None:
        return "—"
    value = int(value)
    return f"{value // 60}:{value % 60:02d}"


def problem(exc: BaseException) -> str:
    """An error in words for the page. Core errors carry messages written for people (never a
    secret); anything else is logged and shown as a generic failure."""
    from switchboard.auth import AuthError
    from switchboard.errors import SwitchboardError
    from switchboard.secrets import SecretError

    if isinstance(exc, (AuthError, SecretError, SwitchboardError, PermissionError, ValueError, LookupError)):
        return str(exc) or type(exc).__name__
    log.exception("unexpected error in the admin app", exc_info=exc)
    return "Something went wrong on our side; it has been logged. Try again in a moment."
