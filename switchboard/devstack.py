"""`switchboard run` (what `make run` calls): the whole product on one machine — the database
(embedded unless DATABASE_URL is set), migrations, demo data on first start, the edge-functions
server, the database-webhook relay, the admin app, the worker's text-conversation endpoint and, when
LIVEKIT_URL is set, the LiveKit worker. Children are supervised: Ctrl-C stops them all; if one dies the others are stopped too.
The shells are started as processes (by module name), so the core imports none of them."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import typer
from rich.console import Console
from rich.table import Table

from switchboard.db.local import LocalCluster, default_cluster
from switchboard.settings import PROJECT_ROOT, get_settings

console = Console()
DEMO_ORG = "Demo Dental"


@dataclass
class Service:
    name: str
    argv: list[str]
    url: str | None = None
    ready_url: str | None = None  # answers (any HTTP status) once the service serves
    proc: subprocess.Popen | None = None

    @property
    def slug(self) -> str:
        return self.name.replace(" ", "-").replace("database-webhook-", "")


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _prepare_database(seed_calls: int, logs: Path) -> tuple[str, LocalCluster | None]:
    """The database URL, migrated and seeded; and the embedded cluster when this run started it
    (so Ctrl-C stops what it started, and nothing it found running)."""
    from switchboard.db.migrate import migrate

    settings = get_settings()
    started: LocalCluster | None = None
    if settings.database_url:
        url = settings.database_url
    else:
        cluster = default_cluster()
        with console.status("Starting Postgres…"):
            was_running = cluster.initialised() and cluster.running()
            cluster.ensure_running()
        started = None if was_running else cluster
        url = cluster.url()
    console.print(f"[green]✓[/] Postgres at {url}")
    applied = migrate(url)
    console.print(f"[green]✓[/] migrations up to date ({len(applied)} applied now)")
    with psycopg.connect(url) as conn:
        seeded = conn.execute("select exists(select 1 from organizations where name = %s)", (DEMO_ORG,)).fetchone()[0]
    if not seeded and seed_calls >= 0 and _has_module("switchboard.demo"):
        with console.status("Loading demo data…"), open(logs / "seed.log", "ab") as out:
            subprocess.run([sys.executable, "-m", "switchboard", "seed", "--demo", "--calls", str(seed_calls)],
                           check=True, env={**os.environ, "DATABASE_URL": url}, stdout=out, stderr=subprocess.STDOUT)
        with psycopg.connect(url) as conn:
            demo_calls = conn.execute(
                "select count(*) from call_records c join organizations o on o.id = c.organization_id "
                "where o.name = %s", (DEMO_ORG,)).fetchone()[0]
        console.print(f"[green]✓[/] demo data loaded: {DEMO_ORG} with {demo_calls:,} calls")
    return url, started


def _services(settings, skip: set[str]) -> list[Service]:
    py = sys.executable
    services: list[Service] = []
    if _has_module("edge_functions") and "functions" not in skip:
        services.append(Service("edge functions", [py, "-m", "switchboard", "serve", "functions"],
                                f"http://{settings.functions_host}:{settings.functions_port}/functions/v1/ (OpenAPI: /docs)",
                                f"http://{settings.functions_host}:{settings.functions_port}/health"))
        services.append(Service("database-webhook relay", [py, "-m", "switchboard", "serve", "relay"]))
    if (PROJECT_ROOT / "rxconfig.py").exists() and "app" not in skip:
        # Reflex 0.10 prod mode serves the built front end and the event back end on one port.
        services.append(Service("admin app", [py, "-m", "reflex", "run", "--env", "prod", "--frontend-port",
                                              str(settings.app_port), "--backend-port", str(settings.app_port)],
                                f"http://127.0.0.1:{settings.app_port}", f"http://127.0.0.1:{settings.app_port}/"))
    if settings.livekit_url and _has_module("agent_worker") and "worker" not in skip:
        services.append(Service("LiveKit worker", [py, "-m", "agent_worker", "start"], settings.livekit_url))
    if _has_module("agent_worker") and "worker" not in skip:
        # Text conversations with the worker's agent (the LiveKit platform's chats): they need
        # no LiveKit server, so they run with no key at all.
        chat = settings.livekit_chat_url.rstrip("/")
        services.append(Service("agent chat", [py, "-m", "agent_worker", "chat"], f"{chat} (text conversations)",
                                f"{chat}/health"))
    return services


def _wait_ready(services: list[Service], timeout: float) -> Service | None:
    """Wait until every service with a ready URL answers; the first that died instead, if any."""
    deadline = time.monotonic() + timeout
    waiting = [s for s in services if s.ready_url]
    while waiting and time.monotonic() < deadline:
        for s in services:
            if s.proc and s.proc.poll() is not None:
                return s
        for s in list(waiting):
            try:
                httpx.get(s.ready_url, timeout=2)
                waiting.remove(s)
            except httpx.HTTPError:
                pass
        time.sleep(0.5)
    return None


def cli(
    seed_calls: int = typer.Option(50_000, "--seed-calls", help="Demo calls to create on first start (-1: none)."),
    skip: list[str] = typer.Option([], "--skip", help="Leave out a part: functions, app or worker (repeatable)."),
    json_logs: bool = typer.Option(False, "--json", help="Show the services' JSON logs here instead of in .data/logs/."),
) -> None:
    """Start the whole product on this machine and print where it is once it answers."""
    settings = get_settings()
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    url, started_cluster = _prepare_database(seed_calls, logs)
    env = {**os.environ, "DATABASE_URL": url, "REFLEX_TELEMETRY_ENABLED": "false", "REFLEX_CHECK_LATEST_VERSION": "false",
           "NPM_CONFIG_REGISTRY": os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org"),
           "PATH": f"{PROJECT_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.path.dirname(sys.executable)}{os.pathsep}{os.environ.get('PATH', '')}"}
    services = _services(settings, set(skip))
    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt  # leave a wait at once; the supervisor loop below cleans up

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    exit_code = 0
    try:
        for s in services:
            # Only our own lines on this console: each service writes to its log file (or here with --json).
            out = None if json_logs else open(logs / f"{s.slug}.log", "ab")  # noqa: SIM115 - the child owns it
            s.proc = subprocess.Popen(s.argv, cwd=PROJECT_ROOT, env=env, start_new_session=True,
                                      stdout=out, stderr=subprocess.STDOUT if out else None, stdin=subprocess.DEVNULL)
        building = "Building and starting the admin app (the first build takes a few minutes)…" \
            if any(s.name == "admin app" for s in services) else "Starting…"
        with console.status(building):
            dead = _wait_ready(services, timeout=900)
        if dead is not None:
            console.print(f"[red]{dead.name} exited with code {dead.proc.returncode} while starting; "
                          f"see {logs / (dead.slug + '.log')}[/]")
            exit_code = dead.proc.returncode or 1
            stopping = True
        else:
            _print_ready(settings, url, services, logs, json_logs)
        while not stopping:
            for s in services:
                if s.proc and s.proc.poll() is not None:
                    console.print(f"[red]{s.name} exited with code {s.proc.returncode}; stopping. "
                                  f"See {logs / (s.slug + '.log')}[/]")
                    exit_code = s.proc.returncode or 1
                    stopping = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave children behind
    stopped = _stop_services(services)
    if started_cluster is not None:
        started_cluster.stop()
        stopped.append("Postgres")
    console.print(f"Stopped: {', '.join(stopped) or 'nothing was running'}.")
    raise typer.Exit(exit_code)


def _print_ready(settings, url: str, services: list[Service], logs: Path, json_logs: bool) -> None:
    table = Table("service", "where", title="Switchboard is running")
    table.add_row("Postgres", url)
    for s in services:
        table.add_row(s.name, s.url or "(background)")
    console.print(table)
    if not settings.livekit_url:
        console.print("LiveKit worker not started: set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET "
                      "(or run `python -m agent_worker console` to talk to the agent locally).")
    if not json_logs:
        console.print(f"Logs: {logs}/ (or `switchboard run --json` to see them here).")
    console.print("Demo sign-in: demo@switchboard.local / demo-password. Ctrl-C stops everything.")


def _stop_services(services: list[Service]) -> list[str]:
    """SIGTERM every child's process group, SIGKILL what is left after 8 s; the names stopped."""
    for s in services:
        if s.proc and s.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(s.proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 8
    for s in services:
        if s.proc:
            try:
                s.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            with suppress(ProcessLookupError):
                os.killpg(s.proc.pid, signal.SIGKILL)  # grandchildren too (Reflex's bun, uvicorn workers)
            s.proc.wait()
    return [s.name for s in services if s.proc]
