"""`switchboard serve …`: the long-running processes of the edge layer.

* `functions` — the edge-functions ASGI server (uvicorn, given the app by its import string so
  the core imports no web framework code of the shell);
* `relay` — the local database-webhook relay (LISTEN/NOTIFY → POST /functions/v1/sync-agent).
"""

from __future__ import annotations

import asyncio
import signal

import typer

from switchboard.settings import get_settings

cli = typer.Typer(help="Run the edge-functions server or the database-webhook relay.", no_args_is_help=True)

FUNCTIONS_APP = "edge_functions.app:app"


@cli.command("functions")
def functions(
    host: str = typer.Option(None, help="Bind address (default FUNCTIONS_HOST)."),
    port: int = typer.Option(None, help="Port (default FUNCTIONS_PORT, 54321)."),
    workers: int = typer.Option(1, help="Worker processes (each handler is stateless)."),
) -> None:
    """Serve every edge function at /functions/v1/<name> (OpenAPI at /docs, metrics at /metrics)."""
    import uvicorn

    from switchboard.logs import configure_json_logging

    s = get_settings()
    configure_json_logging(s.log_level)
    uvicorn.run(
        FUNCTIONS_APP,
        host=host or s.functions_host,
        port=port or s.functions_port,
        workers=workers,
        loop="uvloop",  # both come with uvicorn[standard]; named so a missing one fails loudly
        http="httptools",
        log_config=None,
        access_log=False,  # one JSON line per request comes from the app itself
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )


@cli.command("relay")
def relay(
    target: str = typer.Option(None, help="sync-agent URL (default: the local functions server)."),
) -> None:
    """Relay database webhooks on plain Postgres (what Supabase does when hosted)."""
    from switchboard.auth import service_role_token
    from switchboard.db.pool import database_url
    from switchboard.logs import configure_json_logging
    from switchboard.relay import run_relay

    s = get_settings()
    configure_json_logging(s.log_level)
    url = target or f"http://{s.functions_host}:{s.functions_port}/functions/v1/sync-agent"

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_relay(database_url(), url, service_role_token(), stop=stop)

    asyncio.run(main())
