"""The app's one connection to the core: the process's `Database` (opened on first use, in the
back end's event loop) and small formatting helpers for pages. Every page reads and writes
through core functions on `db.as_user(claims)`, never with SQL of its own."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def zone(name: str | None) -> ZoneInfo | timezone:
    """The browser's IANA time zone (Intl's resolvedOptions().timeZone), or UTC when it sent
    none or one this machine does not know."""
    if name and len(name) < 64 and name.isascii():
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.utc


def when_local(value: datetime | None, tz: str | None) -> str:
    """A moment in the reader's zone, to the second, the zone named: "2026-12-03 14:05:09 CET"."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone(zone(tz))
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "UTC")


def seconds(value: int | float | None) -> str:
    if value is None:
        return "—"
    value = int(value)
    return f"{value // 60}:{value % 60:02d}"


def problem(exc: BaseException) -> str:
    """An error in words for the page. Core errors carry messages written for people (never a
    secret); anything else is logged and shown as a generic failure."""
    from pydantic import ValidationError

    from switchboard.errors import InvalidInput, SwitchboardError, Unavailable, field_label, in_words

    if isinstance(exc, ValidationError):  # the core's models refused a form's value: the one mapping
        return in_words(exc.errors())
    if isinstance(exc, InvalidInput):
        return " ".join(f"{field_label(e.field)}: {e.message}." if e.field else f"{e.message}." for e in exc.errors)
    if isinstance(exc, Unavailable):  # its cause (a setting, a host) is the operator's business
        log.warning("unavailable in the admin app: %s", exc)
        return "A service this page needs is unavailable right now. Try again in a moment."
    if isinstance(exc, (SwitchboardError, PermissionError, ValueError, LookupError)):
        return str(exc) or type(exc).__name__
    log.exception("unexpected error in the admin app", exc_info=exc)
    return "Something went wrong on our side; it has been logged. Try again in a moment."


# --- the calls CSV download ------------------------------------------------------------------
# A browser download cannot send the Authorization header, and the access token must not go
# into a URL (history, logs, referrers). So the page's event (which holds the user's verified
# claims) signs a ticket for ONE export: this user, this organisation, these filters, valid for
# a minute. Its role is not one an access token may have, so it opens nothing else.
EXPORT_AUDIENCE = "switchboard:calls-export"
EXPORT_TICKET_SECONDS = 60


def export_ticket(claims, organization_id, filters) -> str:
    import time

    import jwt

    from switchboard.auth import ALGORITHM

    now = int(time.time())
    payload = {"aud": EXPORT_AUDIENCE, "role": "calls_export", "sub": str(claims.sub), "email": claims.email or "",
               "org": str(organization_id), "filters": filters.model_dump(mode="json", exclude_none=True),
               "iat": now, "exp": now + EXPORT_TICKET_SECONDS}
    return jwt.encode(payload, get_settings().resolved_jwt_secret(), algorithm=ALGORITHM)


def read_export_ticket(ticket: str):
    """(claims, organization id, filters) of a valid ticket; PermissionError otherwise."""
    from uuid import UUID

    import jwt

    from switchboard.auth import ALGORITHM
    from switchboard.models import CallFilters
    from switchboard.tenancy import Claims

    try:
        p = jwt.decode(ticket, get_settings().resolved_jwt_secret(), algorithms=[ALGORITHM], audience=EXPORT_AUDIENCE,
                       options={"require": ["exp", "aud", "sub", "org"]})
        if p.get("role") != "calls_export":
            raise PermissionError("not an export ticket")
        return Claims(sub=UUID(p["sub"]), email=p.get("email") or None), UUID(p["org"]), \
            CallFilters.model_validate(p.get("filters") or {})
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise PermissionError("this download link has expired or is not valid: export again") from exc


async def calls_csv(request):
    """GET /export/calls.csv?ticket=… — the filtered calls as CSV, streamed a keyset page at a
    time inside one transaction as the ticket's user (RLS applies)."""
    from starlette.responses import PlainTextResponse, StreamingResponse

    from switchboard import calls

    try:
        claims, org, filters = read_export_ticket(request.query_params.get("ticket", ""))
    except PermissionError as exc:
        return PlainTextResponse(str(exc), status_code=403)
    db = await database()

    async def body():
        async with db.as_user(claims) as conn:
            async for chunk in calls.export_csv(conn, org, filters):
                yield chunk.encode()

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="calls-{stamp}.csv"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


def export_api():
    """The app's own HTTP routes, mounted in front of Reflex's (App(api_transformer=…))."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    return Starlette(routes=[Route("/export/calls.csv", calls_csv, methods=["GET"])])


# --- the platforms: adapters and circuits ------------------------------------------------------
_platforms = None


async def platform_services():
    """The platform adapters (`switchboard.platforms.PlatformSource`: each organisation's own
    keys, else the server's defaults) and the circuits, over the shared pool, made once per
    process: the same core objects the edge server holds, so the app's calls follow the same routing."""
    global _platforms
    if _platforms is None:
        from switchboard.health import CircuitBreaker
        from switchboard.platforms import PlatformSource

        db = await database()
        _platforms = (PlatformSource(db, get_settings()), CircuitBreaker(db))
    return _platforms


async def platforms():
    """The platform adapters alone (conversations, web calls)."""
    return (await platform_services())[0]
