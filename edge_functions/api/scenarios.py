"""Scenarios and their runs: the agent's suite (JSON, or YAML in and out), runs on one platform
or all of them for a version (progress by polling the run), and the run's scorecard."""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from edge_functions.api.deps import Caller, caller, get_platforms
from edge_functions.api.errors import ApiRoute, errors
from switchboard.platforms import PlatformSource
from switchboard.scenarios import gate, leases, runner, scorecard, store
from switchboard.scenarios.gate import ScenarioSettings
from switchboard.scenarios.scorecard import RunDiff, RunListed, RunReport
from switchboard.scenarios.store import StoredScenario

router = APIRouter(route_class=ApiRoute, tags=["scenarios"])
log = logging.getLogger(__name__)


class ImportSuite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    yaml: str = Field(min_length=1, max_length=1_000_000, description="a YAML list of scenarios (or scenarios: [...])")
    replace: bool = Field(False, description="also remove the agent's scenarios the file does not name")


class StartRun(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: str = Field("all", max_length=40, description="a platform code (GET /api/providers?type=platform) or all: its configured ones")
    version: int | None = Field(None, ge=1, description="the version to test (default: the live one)")


@router.get("/agents/{agent_id}/scenarios", response_model=list[StoredScenario], responses=errors(401, 403, 404, 422),
            summary="The agent's scenarios")
async def list_scenarios(agent_id: UUID, who: Caller = Depends(caller)) -> list[StoredScenario]:
    """Scope: read."""
    async with who.session("read") as (conn, access):
        return await store.list_scenarios(conn, access.organization_id, agent_id)


@router.get("/agents/{agent_id}/scenarios.yaml", responses={200: {"content": {"application/yaml": {}}}, **errors(401, 403, 404)},
            summary="The agent's scenarios as a YAML file")
async def export_scenarios(agent_id: UUID, who: Caller = Depends(caller)) -> Response:
    """Scope: read."""
    async with who.session("read") as (conn, access):
        text = await store.export_yaml(conn, access.organization_id, agent_id)
    return Response(text, media_type="application/yaml")


@router.post("/agents/{agent_id}/scenarios/import", response_model=list[StoredScenario],
             responses=errors(401, 403, 404, 422), summary="Import scenarios from YAML (replacing by name)")
async def import_scenarios(agent_id: UUID, body: ImportSuite, who: Caller = Depends(caller)) -> list[StoredScenario]:
    """Scope: write. Errors name the field (`scenarios[2].turns.0.say`)."""
    async with who.session("write") as (conn, access):
        return await store.import_yaml(conn, access.organization_id, agent_id, body.yaml, replace=body.replace)


def _tasks(request: Request) -> set[asyncio.Task]:
    state = request.app.state
    if getattr(state, "scenario_runs", None) is None:
        state.scenario_runs = set()
    return state.scenario_runs


@router.post("/agents/{agent_id}/scenario-runs", response_model=RunReport, status_code=202,
             responses=errors(401, 403, 404, 409, 422), summary="Run the agent's scenarios on a platform (or all)")
async def start_run(agent_id: UUID, body: StartRun, request: Request, who: Caller = Depends(caller),
                    source: PlatformSource = Depends(get_platforms)) -> RunReport:
    """Scope: write. Answers at once with the run (status running); follow it with
    `GET /api/scenario-runs/{id}` (done/total, then the scorecard)."""
    async with who.session("write") as (_conn, access):
        org = access.organization_id
    run_id = await runner.create_run(who.db, who.claims, org, agent_id, platform=body.platform, version=body.version)
    return await _execute(request, who, org, run_id, source)


@router.post("/scenario-runs/{run_id}/resume", response_model=RunReport, status_code=202,
             responses=errors(401, 403, 404, 409, 422), summary="Resume an interrupted run (its stored results are kept)")
async def resume_run(run_id: UUID, request: Request, who: Caller = Depends(caller),
                     source: PlatformSource = Depends(get_platforms)) -> RunReport:
    """Scope: write. A run whose server stopped reads `interrupted`; this holds only the
    conversations it had not stored. 409 while it still runs, or once it finished."""
    async with who.session("write") as (_conn, access):
        org = access.organization_id
    token = await leases.take_over(who.db, who.claims, org, run_id)
    return await _execute(request, who, org, run_id, source, token)


async def _execute(request: Request, who: Caller, org: UUID, run_id: UUID, source: PlatformSource,
                   token: UUID | None = None) -> RunReport:
    """Execute the run in the background (it outlives the request; its heartbeat says whether
    it still runs) and answer with it as it is now."""
    async def execute() -> None:
        try:
            await runner.execute_run(who.db, who.claims, org, run_id, source, runner_token=token)
        except Exception:
            log.exception("scenario run failed", extra={"run_id": str(run_id)})

    task = asyncio.get_running_loop().create_task(execute())
    tasks = _tasks(request)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    async with who.session("read") as (conn, _access):
        return await scorecard.report(conn, org, run_id)


@router.get("/scenario-runs/{run_id}", response_model=RunReport, responses=errors(401, 403, 404, 422),
            summary="A run: progress, then its results and scorecard")
async def get_run(run_id: UUID, who: Caller = Depends(caller)) -> RunReport:
    """Scope: read."""
    async with who.session("read") as (conn, access):
        return await scorecard.report(conn, access.organization_id, run_id)


@router.get("/scenario-runs/{run_id}/compare/{other_id}", response_model=RunDiff, responses=errors(401, 403, 404, 422),
            summary="Two runs side by side: what changed from the first to the second")
async def compare_runs(run_id: UUID, other_id: UUID, who: Caller = Depends(caller)) -> RunDiff:
    """Scope: read. Platform vs platform, or version vs version: each run's pass rate, turn
    latency p50/p95 and cost per conversation, the scenarios whose outcome changed, and the
    failed checks that differ."""
    async with who.session("read") as (conn, access):
        a = await scorecard.report(conn, access.organization_id, run_id)
        b = await scorecard.report(conn, access.organization_id, other_id)
    return scorecard.diff(a, b)


@router.get("/agents/{agent_id}/scenario-runs", response_model=list[RunListed], responses=errors(401, 403, 404, 422),
            summary="The agent's latest scenario runs, newest first")
async def list_runs(agent_id: UUID, who: Caller = Depends(caller)) -> list[RunListed]:
    """Scope: read. The latest 20, with their progress (done/total)."""
    async with who.session("read") as (conn, access):
        return await scorecard.list_runs(conn, access.organization_id, agent_id)


@router.get("/scenario-settings", response_model=ScenarioSettings, responses=errors(401, 403, 404, 422),
            summary="The organisation's test settings (publish gate, concurrency)")
async def get_settings(who: Caller = Depends(caller)) -> ScenarioSettings:
    """Scope: read."""
    async with who.session("read") as (conn, access):
        return await gate.read_settings(conn, access.organization_id)


@router.put("/scenario-settings", response_model=ScenarioSettings, responses=errors(401, 403, 404, 422),
            summary="Require scenarios to pass before publishing; set a run's concurrency and the test LLM")
async def put_settings(body: ScenarioSettings, who: Caller = Depends(caller)) -> ScenarioSettings:
    """Scope: write; admins and owners only (403 otherwise)."""
    async with who.session("write") as (conn, access):
        return await gate.write_settings(conn, access.organization_id, body)
