"""`switchboard run` (what `make run` calls): the whole product on one machine — the database
(embedded unless DATABASE_URL is set), migrations, demo data on first start, the edge-functions
server, the database-webhook relay, the admin app and, when LIVEKIT_URL is set, the LiveKit
worker. Children are supervised: Ctrl-C stops them all; if one dies the others are stopped too.
The shells are started as processes (by module name), so the core imports none of them."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from switchboard.settings import PROJECT_ROOT, get_settings

console = Console()
DEMO_ORG = "Demo Dental"


@dataclass
class Service:
    name: str
    argv: list[str]
    url: str | None = None
    proc: subprocess.Popen | None = None


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _prepare_database(seed_calls: int) -> str:
    from switchboard.db.migrate import migrate
    from switchboard.db.pool import database_url

    with console.status("Starting Postgres…"):
        url = database_url()
    console.print(f"[green]✓[/] Postgres at {url}")
    applied = migrate(url)
    console.print(f"[green]✓[/] migrations up to date ({len(applied)} applied now)")
    with psycopg.connect(url) as conn:
        seeded = conn.execute("select exists(select 1 from organizations where name = %s)", (DEMO_ORG,)).fetchone()[0]
    if not seeded and seed_calls >= 0 and _has_module("switchboard.demo"):
        console.print(f"Loading demo data ({seed_calls:,} calls)…")
        subprocess.run([sys.executable, "-m", "switchboard", "seed", "--demo", "--calls", str(seed_calls)],
                       check=True, env={**os.environ, "DATABASE_URL": url})
    return url


def _services(settings, skip: set[str]) -> list[Service]:
    py = sys.executable
    services: list[Service] = []
    if _has_module("edge_functions") and "functions" not in skip:
        services.append(Service("edge functions", [py, "-m", "switchboard", "serve", "functions"],
                                f"http://{settings.functions_host}:{settings.functions_port}/functions/v1/ (OpenAPI: /docs)"))
        services.append(Service("database-webhook relay", [py, "-m", "switchboard", "serve", "relay"]))
    if (PROJECT_ROOT / "rxconfig.py").exists() and "app" not in skip:
        # Reflex 0.10 prod mode serves the built front end and the event back end on one port.
        services.append(Service("admin app", [py, "-m", "reflex", "run", "--env", "prod", "--frontend-port",
                                              str(settings.app_port), "--backend-port", str(settings.app_port)],
                                f"http://127.0.0.1:{settings.app_port}"))
    if settings.livekit_url and _has_module("agent_worker") and "worker" not in skip:
        services.append(Service("LiveKit worker", [py, "-m", "agent_worker", "start"], settings.livekit_url))
    return services


def cli(
    seed_calls: int = typer.Option(50_000, "--seed-calls", help="Demo calls to create on first start (-1: none)."),
    skip: list[str] = typer.Option([], "--skip", help="Leave out a part: functions, app or worker (repeatable)."),
) -> None:
    """Start the whole product on this machine and print where it is."""
    settings = get_settings()
    url = _prepare_database(seed_calls)
    env = {**os.environ, "DATABASE_URL": url, "REFLEX_TELEMETRY_ENABLED": "false", "REFLEX_CHECK_LATEST_VERSION": "false",
           "NPM_CONFIG_REGISTRY": os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org"),
           "PATH": f"{PROJECT_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    services = _services(settings, set(skip))
    for s in services:
        s.proc = subprocess.Popen(s.argv, cwd=PROJECT_ROOT, env=env, start_new_session=True)

    table = Table("service", "where", title="Switchboard is running")
    table.add_row("Postgres", url)
    for s in services:
        table.add_row(s.name, s.url or "(background)")
    console.print(table)
    if not settings.livekit_url:
        console.print("LiveKit worker not started: set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET "
                      "(or run `python -m agent_worker console` to talk to the agent locally).")
    console.print("Demo sign-in: demo@switchboard.local / demo-password. Ctrl-C stops everything.")

    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    exit_code = 0
    while not stopping:
        for s in services:
            if s.proc and s.proc.poll() is not None:
                console.print(f"[red]{s.name} exited with code {s.proc.returncode}; stopping.[/]")
                exit_code = s.proc.returncode or 1
                stopping = True
        time.sleep(0.5)
    for s in services:
        if s.proc and s.proc.poll() is None:
            os.killpg(s.proc.pid, signal.SIGTERM)
    for s in services:
        if s.proc:
            try:
                s.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(s.proc.pid, signal.SIGKILL)
    raise typer.Exit(exit_code)
