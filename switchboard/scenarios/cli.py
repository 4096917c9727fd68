"""`switchboard scenarios run --agent AGENT_ID --platform livekit|retell|vapi|signalwire|all
[--version N] [--junit FILE]`: the agent's suite, for CI. Runs in this process against the
database (DATABASE_URL) as the agent's organisation owner (the CLI is an operator's tool, as
`switchboard seed` is), with a progress bar; exit code 0 only when every scenario passed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from switchboard.db import Database
from switchboard.errors import SwitchboardError
from switchboard.providers import registry
from switchboard.tenancy import Claims

cli = typer.Typer(help="Test an agent with its scenarios.", no_args_is_help=True)
PLATFORM_CHOICES = (*registry.codes(), "all")


async def owner_claims(db: Database, agent_id: UUID) -> tuple[UUID, Claims]:
    async with db.as_service() as conn:
        row = await (await conn.execute(
            """
            select a.organization_id, m.user_id from public.agent_configs a
            join public.memberships m on m.organization_id = a.organization_id and m.role = 'owner'
            where a.id = %s order by m.created_at limit 1
            """, (agent_id,))).fetchone()
    if row is None:
        raise SwitchboardError("no such agent (or its organisation has no owner)")
    return row["organization_id"], Claims(sub=row["user_id"])


async def run_for_ci(db: Database, agent_id: UUID, platform: str, version: int | None, console: Console):
    from switchboard.platforms import PlatformSource
    from switchboard.scenarios import runner
    from switchboard.settings import get_settings

    org, claims = await owner_claims(db, agent_id)
    source = PlatformSource(db, get_settings())
    try:
        run_id = await runner.create_run(db, claims, org, agent_id, platform=platform, version=version)
        with Progress(TextColumn("[bold]scenarios"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                      TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("", total=None)

            def advance(done: int, total: int, result) -> None:
                progress.update(task, completed=done, total=total, description=f"{result.platform}: {result.scenario}")

            results = await runner.execute_run(db, claims, org, run_id, source, on_progress=advance)
    finally:
        await source.aclose()
    return run_id, results


@cli.command("run")
def run(
    agent: UUID = typer.Option(..., "--agent", help="The agent's id."),
    platform: str = typer.Option("all", "--platform", help=f"{', '.join(registry.codes())} or all (its configured ones)."),
    version: int = typer.Option(None, "--version", min=1, help="The version to test (default: the live one)."),
    junit: Path = typer.Option(None, "--junit", help="Write the results as JUnit XML to this file."),
) -> None:
    """Run the agent's scenarios; exit 0 only when every one passes on every platform."""
    from switchboard.db import database_url
    from switchboard.scenarios.junit import junit_xml

    console = Console()
    if platform not in PLATFORM_CHOICES:
        console.print(f"[red]--platform must be one of {', '.join(PLATFORM_CHOICES)}[/]")
        raise typer.Exit(2)

    async def _run():
        async with Database(database_url(), min_size=1, max_size=4, name="scenarios") as db:
            return await run_for_ci(db, agent, platform, version, console)

    try:
        run_id, results = asyncio.run(_run())
    except SwitchboardError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    table = Table("platform", "scenario", "outcome", "why")
    for r in results:
        why = "; ".join(c.message or c.check for c in r.failures) or (r.error or "")
        table.add_row(r.platform, r.scenario, r.outcome, why)
    console.print(table)
    passed = sum(r.outcome == "passed" for r in results)
    console.print(f"{passed}/{len(results)} passed (run {run_id})")
    if junit:
        junit.write_text(junit_xml(results), encoding="utf-8")
    raise typer.Exit(0 if results and passed == len(results) else 1)
