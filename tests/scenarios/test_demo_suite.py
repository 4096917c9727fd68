"""The demo agent's suite as `switchboard seed --demo` writes it passes on the LiveKit platform's
offline tier with no key; a deliberately broken scenario fails with a message naming the check
and quoting the reply; the run, its conversations and every check's outcome are stored."""

from __future__ import annotations

from switchboard import versions
from switchboard.db import Database
from switchboard.demo import seed_demo
from switchboard.platforms import PlatformSource
from switchboard.scenarios import runner, suite_from_yaml
from switchboard.scenarios.store import list_scenarios, save_suite
from switchboard.settings import get_settings

BROKEN = """
- name: Knows the opening hours
  turns:
    - say: Are you open on Monday?
      expect:
        - contains: "open on Monday"
"""


async def test_demo_suite_passes_on_livekit_offline_and_a_broken_one_fails(db: Database, worker_chat) -> None:
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    org, agent, claims = demo.organization_id, demo.agent_config_id, demo.claims
    source = PlatformSource(db, get_settings())
    try:
        async with db.as_user(claims) as conn:
            assert len(await list_scenarios(conn, org, agent)) >= 5
        seen: list[tuple[int, int]] = []
        run_id, results = await runner.run_suite(db, claims, org, agent, source, platform="livekit",
                                                 on_progress=lambda done, total, _r: seen.append((done, total)))
        assert [(r.scenario, r.outcome) for r in results if r.outcome != "passed"] == [], [
            (r.scenario, r.error, [c.message for c in r.failures]) for r in results]
        assert len(results) == 5 and seen[-1] == (5, 5)
        assert all(r.turn_latency_ms and r.cost is None for r in results)  # the worker reports no price: unpriced
        async with db.as_service() as conn:
            run = await (await conn.execute("select * from scenario_runs where id = %s", (run_id,))).fetchone()
            stored = await (await conn.execute(
                "select r.*, c.agent_version_id from scenario_results r join conversations c on c.id = r.conversation_id "
                "where run_id = %s", (run_id,))).fetchall()
        assert (run["status"], run["done"], run["passed"], run["total"]) == ("passed", 5, 5, 5)
        assert len(stored) == 5 and all(s["agent_version_id"] == run["agent_version_id"] for s in stored)
        assert all(c["outcome"] == "passed" for s in stored for c in s["checks"])

        async with db.as_user(claims) as conn:
            await save_suite(conn, org, agent, suite_from_yaml(BROKEN))
        run_id, results = await runner.run_suite(db, claims, org, agent, source, platform="livekit")
        [broken] = [r for r in results if r.scenario == "Knows the opening hours"]
        assert broken.outcome == "failed"
        [failure] = broken.failures
        assert failure.check == "contains 'open on Monday'" and failure.turn == 1
        assert failure.message == ("turn 1, contains 'open on Monday': the reply does not contain 'open on Monday'; "
                                   "it was 'Sorry, I am having trouble right now. Could you say that again?'")
        async with db.as_service() as conn:
            run = await (await conn.execute("select status, passed, total from scenario_runs where id = %s", (run_id,))).fetchone()
        assert (run["status"], run["passed"], run["total"]) == ("failed", 5, 6)
    finally:
        await source.aclose()


async def test_a_reseed_keeps_the_live_version_in_step(db: Database) -> None:
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    async with db.as_service() as conn:  # someone published an edit
        first = await versions.get_version(conn, demo.organization_id, demo.agent_config_id, 1)
        edited = await versions.save_draft(conn, demo.organization_id, demo.agent_config_id,
                                           {**first.spec, "prompt": "Edited by hand."})
        await versions.publish(conn, demo.organization_id, demo.agent_config_id, edited.number)
    await seed_demo(db, 0, other_calls=0, seed=1)  # puts the demo spec back, as a new version
    async with db.as_service() as conn:
        row = await (await conn.execute(
            "select a.prompt, v.spec->>'prompt' as version_prompt, v.number from agent_configs a "
            "join agent_versions v on v.id = a.live_version_id where a.id = %s", (demo.agent_config_id,))).fetchone()
    assert row["prompt"] == row["version_prompt"] != "Edited by hand." and row["number"] == 3
