"""`switchboard` command line (typer + rich). Each area registers its own sub-command group
below; the groups live beside the code they drive."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Switchboard: one voice agent, any voice-AI platform.", no_args_is_help=True)
db_app = typer.Typer(help="The database: embedded local Postgres or DATABASE_URL.", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()


def _cluster():
    from switchboard.db.local import default_cluster

    return default_cluster()


def _external_url() -> str | None:
    from switchboard.settings import get_settings

    return get_settings().database_url


@db_app.command("up")
def db_up() -> None:
    """Initialise (first time) and start the embedded Postgres, then apply migrations."""
    if _external_url():
        console.print("[yellow]DATABASE_URL is set: using it, no local cluster started.[/]")
    else:
        cluster = _cluster()
        created = cluster.init()
        started = cluster.start()
        cluster.ensure_running()
        what = "created and started" if created else ("started" if started else "already running")
        console.print(f"[green]Postgres {what}[/] at {cluster.url()} (data in {cluster.pgdata})")
    db_migrate()


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded Postgres (data is kept)."""
    if _external_url():
        console.print("DATABASE_URL is set: nothing local to stop.")
        return
    stopped = _cluster().stop()
    console.print("[green]stopped[/]" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Where the database is, whether it runs, and which migrations are applied."""
    from switchboard.db import migrate as mig

    url = _external_url()
    if not url:
        cluster = _cluster()
        running = cluster.running()
        console.print(f"embedded cluster: {cluster.pgdata} — {'[green]running[/]' if running else '[red]stopped[/]'}")
        if not running:
            raise typer.Exit(1)
        url = cluster.url()
    table = Table("version", "name", "applied")
    for m, applied in mig.status(url):
        table.add_row(m.version, m.name, "[green]yes[/]" if applied else "[yellow]pending[/]")
    console.print(table)


@db_app.command("url")
def db_url() -> None:
    """Print the connection URL (for psql and other tools)."""
    from switchboard.db.pool import database_url

    print(database_url())


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations (and the local auth shim on plain Postgres)."""
    from switchboard.db.migrate import migrate
    from switchboard.db.pool import database_url
    from switchboard.pipeline.catalog import sync_catalog_at

    url = database_url()
    applied = migrate(url, on_apply=lambda m: console.print(f"  applied {m.version}_{m.name}"))
    sync_catalog_at(url)
    console.print(f"[green]{len(applied)} migration(s) applied[/]; catalog synced.")


@db_app.command("reset")
def db_reset(yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Delete the embedded cluster's data and start again from the migrations."""
    if _external_url():
        console.print("[red]Refusing to reset a database given by DATABASE_URL.[/]")
        raise typer.Exit(2)
    if not yes and not typer.confirm("Delete all local data?"):
        raise typer.Exit(1)
    cluster = _cluster()
    cluster.destroy()
    db_up()


def _register_optional_groups() -> None:
    """Groups owned by other areas of the core (imported lazily to keep start-up fast)."""
    import importlib

    for module, name in (
        ("switchboard.demo", "seed"),
        ("switchboard.secrets", "secrets"),
        ("switchboard.serve", "serve"),
        ("switchboard.auth", "users"),
        ("switchboard.devstack", "run"),
        ("switchboard.scenarios.cli", "scenarios"),
    ):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue
            raise
        cli = getattr(mod, "cli", None)
        if cli is not None:
            if isinstance(cli, typer.Typer):
                app.add_typer(cli, name=name)
            else:
                app.command(name)(cli)


_register_optional_groups()

if __name__ == "__main__":
    app()
