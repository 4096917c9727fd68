"""Scenario runs live in Postgres. The organisation's concurrency limit holds across its runs and
processes: two runs of one organisation — one in this process, one in a `switchboard scenarios
run` process — never hold more than its limit of conversations at once (sampled), both finish,
and another organisation running at the same time reaches its own limit. A run whose task dies
mid-way reads interrupted in words (never running forever) and resumes keeping what it stored."""

from __future__ import annotations

import asyncio
import os
import sys

from switchboard.auth import issue_token
from switchboard.db import Database
from switchboard.demo import DEMO_EMAIL, seed_demo
from switchboard.platforms import PlatformSource
from switchboard.scenarios import leases, runner, scorecard
from switchboard.scenarios.demo import demo_suite
from switchboard.scenarios.store import save_suite
from switchboard.settings import get_settings

LIMIT_A, LIMIT_B = 2, 3


async def _suite(db: Database, tenant, copies: int) -> None:
    suite = [s.model_copy(update={"name": f"{s.name} #{k}"}) for k in range(copies) for s in demo_suite()]
    async with db.as_user(tenant.claims) as conn:
        await save_suite(conn, tenant.organization_id, tenant.agent_config_id, suite, replace=True)


async def test_the_limit_holds_per_organisation_across_runs_and_processes(db: Database, db_url: str, worker_chat) -> None:
    report = await seed_demo(db, 0, other_calls=0, seed=1)
    a, b = report.demo, report.other
    await _suite(db, a, 3)  # 15 pairs a run: long enough for the two runs to overlap
    await _suite(db, b, 1)
    async with db.as_service() as conn:
        for tenant, limit in ((a, LIMIT_A), (b, LIMIT_B)):
            await conn.execute("update organizations set scenario_concurrency = %s where id = %s",
                               (limit, tenant.organization_id))
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "switchboard", "scenarios", "run", "--agent", str(a.agent_config_id), "--platform", "livekit",
        env={**os.environ, "DATABASE_URL": db_url, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    samples: list[dict] = []
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            async with db.as_service() as conn:
                open_ = {r["organization_id"]: r["n"] for r in await (await conn.execute(
                    "select organization_id, count(*) as n from conversations where status = 'active' "
                    "group by organization_id")).fetchall()}
                slots = {r["run_id"]: r["n"] for r in await (await conn.execute(
                    "select run_id, count(*) as n from scenario_slots where held group by run_id")).fetchall()}
            samples.append({"a": open_.get(a.organization_id, 0), "b": open_.get(b.organization_id, 0), "slots": slots})
            await asyncio.sleep(0.005)

    source = PlatformSource(db, get_settings())
    sampler = asyncio.create_task(sample())
    try:
        for _ in range(600):  # the other process has started its run and holds a conversation
            async with db.as_service() as conn:
                held = await (await conn.execute("select count(*) as n from scenario_slots where organization_id = %s and held",
                                                 (a.organization_id,))).fetchone()
            if held["n"]:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the CLI's run never started")
        (run_a, results_a), (run_b, results_b) = await asyncio.gather(
            runner.run_suite(db, a.claims, a.organization_id, a.agent_config_id, source, platform="livekit"),
            runner.run_suite(db, b.claims, b.organization_id, b.agent_config_id, source, platform="livekit"))
        out, _ = await asyncio.wait_for(cli.communicate(), 180)
    finally:
        stop.set()
        await sampler
        await source.aclose()
    assert cli.returncode == 0, out.decode()
    assert len(results_a) == 15 and len(results_b) == 5
    async with db.as_service() as conn:
        runs = await (await conn.execute("select id, status, done, total from scenario_runs where organization_id = any(%s)",
                                         ([a.organization_id, b.organization_id],))).fetchall()
        left = await (await conn.execute("select count(*) as n from scenario_slots")).fetchone()
    assert sorted((r["status"], r["done"], r["total"]) for r in runs) == [("passed", 5, 5), ("passed", 15, 15), ("passed", 15, 15)]
    assert left["n"] == 0
    assert max(s["a"] for s in samples) == LIMIT_A, samples  # the limit is used, never passed
    a_runs = {r["id"] for r in runs} - {run_b}
    both = [s for s in samples if all(s["slots"].get(r) for r in a_runs)]
    assert both, "the two runs of the organisation never held conversations at the same time"
    assert all(sum(s["slots"].get(r, 0) for r in a_runs) <= LIMIT_A for s in samples)
    # the other organisation is not held back by the first: its own limit, while the first's is full
    # (LIMIT_B > LIMIT_A, so reaching it shows the first's limit is not shared), and it holds slots
    # while the first's are all taken (slots, not open conversations: a slot spans its pair's
    # start, turns and store, so a loaded machine's coarser samples still see both at once)
    assert max(s["b"] for s in samples) == LIMIT_B
    assert any(sum(s["slots"].get(r, 0) for r in a_runs) == LIMIT_A and s["slots"].get(run_b, 0) >= 2 for s in samples)


async def test_a_run_whose_task_died_reads_interrupted_and_resumes(db: Database, api, worker_chat, monkeypatch) -> None:
    monkeypatch.setattr(leases, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr(leases, "STALE_SECONDS", 1.0)
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    async with db.as_service() as conn:
        await conn.execute("update organizations set scenario_concurrency = 1 where id = %s", (demo.organization_id,))
    h = {"Authorization": f"Bearer {issue_token(demo.user_id, DEMO_EMAIL)}"}
    source = PlatformSource(db, get_settings())
    run_id = await runner.create_run(db, demo.claims, demo.organization_id, demo.agent_config_id, platform="livekit")
    task = asyncio.create_task(runner.execute_run(db, demo.claims, demo.organization_id, run_id, source))
    try:
        for _ in range(600):
            run = (await api.get(f"/api/scenario-runs/{run_id}", headers=h)).json()
            if run["done"] >= 2:
                break
            await asyncio.sleep(0.02)
        task.cancel()  # the process running it dies: nothing more is stored, nothing says goodbye
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await source.aclose()
    kept = (await api.get(f"/api/scenario-runs/{run_id}", headers=h)).json()
    assert kept["status"] == "running" and 2 <= kept["done"] < 5  # it beat a moment ago: not yet known dead
    r = await api.post(f"/api/scenario-runs/{run_id}/resume", headers=h)
    assert r.status_code == 409 and r.json()["message"].startswith("this run is still running")

    await asyncio.sleep(1.3)
    shown = (await api.get(f"/api/scenario-runs/{run_id}", headers=h)).json()
    missing = 5 - kept["done"]
    assert shown["status"] == "interrupted"
    assert shown["error"].startswith("interrupted: the process running it stopped (no sign of life since ")
    assert shown["error"].endswith(f"{kept['done']} of 5 results are kept — resume it to run the {missing} missing")
    assert await leases.sweep_interrupted(db) == 1  # the server's sweep stores it
    async with db.as_service() as conn:
        stored = await (await conn.execute("select status, error from scenario_runs where id = %s", (run_id,))).fetchone()
        before = {r["scenario_name"]: r["id"] for r in await (await conn.execute(
            "select id, scenario_name from scenario_results where run_id = %s", (run_id,))).fetchall()}
    assert (stored["status"], stored["error"]) == ("interrupted", shown["error"])

    r = await api.post(f"/api/scenario-runs/{run_id}/resume", headers=h)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "running" and r.json()["error"] is None
    for _ in range(300):
        run = (await api.get(f"/api/scenario-runs/{run_id}", headers=h)).json()
        if run["status"] != "running":
            break
        await asyncio.sleep(0.1)
    assert (run["status"], run["done"], run["passed"], run["total"]) == ("passed", 5, 5, 5), run
    async with db.as_service() as conn:
        after = {r["scenario_name"]: r["id"] for r in await (await conn.execute(
            "select id, scenario_name from scenario_results where run_id = %s", (run_id,))).fetchall()}
    assert len(after) == 5 and all(after[name] == id_ for name, id_ in before.items())  # kept, not run again
    r = await api.post(f"/api/scenario-runs/{run_id}/resume", headers=h)
    assert r.status_code == 409 and r.json()["message"] == "this run has finished (passed); start a new run to test again"


async def test_a_killed_process_holds_no_slot_for_long(db: Database, db_url: str, worker_chat, monkeypatch) -> None:
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    await _suite(db, demo, 2)
    async with db.as_service() as conn:
        await conn.execute("update organizations set scenario_concurrency = 1 where id = %s", (demo.organization_id,))
    cli = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "switchboard", "scenarios", "run", "--agent", str(demo.agent_config_id), "--platform", "livekit",
        env={**os.environ, "DATABASE_URL": db_url}, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        for _ in range(1200):
            async with db.as_service() as conn:
                run = await (await conn.execute("select id, done from scenario_runs where organization_id = %s",
                                                (demo.organization_id,))).fetchone()
            if run and run["done"] >= 1:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the CLI's run never stored a result")
    finally:
        cli.kill()  # SIGKILL: no finally block of the process runs
        await cli.wait()
    async with db.as_service() as conn:
        left = await (await conn.execute("select count(*) as n from scenario_slots where run_id = %s and held", (run["id"],))).fetchone()
    assert left["n"] == 1  # the dead process's slot is still there; its organisation's limit is 1

    monkeypatch.setattr(leases, "STALE_SECONDS", 1.0)  # (the dead runner beat every 2 s)
    source = PlatformSource(db, get_settings())
    try:  # a new run waits only until the dead runner is known dead, then holds the one slot
        new_run, results = await asyncio.wait_for(runner.run_suite(
            db, demo.claims, demo.organization_id, demo.agent_config_id, source, platform="livekit"), 120)
    finally:
        await source.aclose()
    assert len(results) == 10 and all(r.outcome == "passed" for r in results)
    async with db.as_user(demo.claims) as conn:
        dead = await scorecard.report(conn, demo.organization_id, run["id"])
    assert dead.status == "interrupted" and "of 10 results are kept — resume it to run the" in dead.error
