"""A/B comparison against the real database: figures, significance and verdict."""

from __future__ import annotations

import pytest
from scipy import stats

from switchboard import versions
from switchboard.experiments import MIN_CALLS_PER_ARM, compare_arms
from tests.app.factories import add_calls, make_agent, make_org, make_user


@pytest.fixture
async def org(db):
    owner = await make_user(db)
    org_id = await make_org(db, owner)
    agent = await make_agent(db, org_id)
    return owner, org_id, agent


async def test_no_arms_says_no_test_has_run(db, org):
    owner, org_id, agent = org
    await add_calls(db, org_id, agent, "retell", 20)  # calls without an arm
    async with db.as_user(owner) as conn:
        result = await compare_arms(conn, org_id)
    assert result.arms == [] and result.tests == []
    assert result.verdict.startswith("No A/B test has run")


async def test_cheaper_arm_is_found_significant_and_figures_match_sql(db, org):
    owner, org_id, agent = org
    await add_calls(db, org_id, agent, "retell", 200, arm="retell", cost_per_minute=0.12, seed=1)
    await add_calls(db, org_id, agent, "vapi", 200, arm="vapi", cost_per_minute=0.08, seed=2)
    async with db.as_user(owner) as conn:
        result = await compare_arms(conn, org_id, agent_id=agent)
        cur = await conn.execute(
            "select c.experiment_arm as arm, sum(u.cost_amount) / (sum(u.duration_seconds) / 60.0) as cpm, "
            "array_agg(u.cost_amount / (u.duration_seconds / 60.0)) as per_call "
            "from call_records c join provider_usage u on u.call_id = c.id group by 1 order by 1"
        )
        sql = {r["arm"]: r for r in await cur.fetchall()}
    by_arm = {a.arm: a for a in result.arms}
    assert set(by_arm) == {"retell", "vapi"}
    for arm in ("retell", "vapi"):
        assert by_arm[arm].calls == 200
        assert by_arm[arm].cost_per_minute == pytest.approx(float(sql[arm]["cpm"]), rel=1e-9)
    cost = next(t for t in result.tests if t.measure == "cost per minute")
    # The test on summary statistics equals Welch's test on the per-call values.
    expected = stats.ttest_ind([float(x) for x in sql["retell"]["per_call"]],
                               [float(x) for x in sql["vapi"]["per_call"]], equal_var=False).pvalue
    assert cost.p_value == pytest.approx(expected, rel=1e-6)
    assert cost.significant and cost.better_arm == "vapi"
    assert "Vapi is cheaper" in result.verdict
    assert "move more traffic to Vapi" in result.verdict


async def test_same_distribution_is_not_called_a_difference(db, org):
    owner, org_id, agent = org
    await add_calls(db, org_id, agent, "retell", 150, arm="retell", cost_per_minute=0.10, cpm_jitter=0.02, seed=3)
    await add_calls(db, org_id, agent, "vapi", 150, arm="vapi", cost_per_minute=0.10, cpm_jitter=0.02, seed=3)
    async with db.as_user(owner) as conn:
        result = await compare_arms(conn, org_id)
    cost = next(t for t in result.tests if t.measure == "cost per minute")
    assert cost.p_value is not None and not cost.significant
    assert "No arm is clearly better yet" in result.verdict


async def test_success_rate_difference_is_detected(db, org):
    owner, org_id, agent = org
    await add_calls(db, org_id, agent, "retell", 300, arm="retell", success_rate=0.9, seed=4)
    await add_calls(db, org_id, agent, "livekit", 300, arm="livekit", success_rate=0.5, seed=5)
    async with db.as_user(owner) as conn:
        result = await compare_arms(conn, org_id)
    success = next(t for t in result.tests if t.measure == "success rate")
    assert success.significant and success.better_arm == "retell"
    assert "Retell succeeds more often" in result.verdict


async def test_too_few_calls_asks_for_more(db, org):
    owner, org_id, agent = org
    await add_calls(db, org_id, agent, "retell", MIN_CALLS_PER_ARM - 1, arm="retell", seed=6)
    await add_calls(db, org_id, agent, "vapi", 100, arm="vapi", seed=7)
    async with db.as_user(owner) as conn:
        result = await compare_arms(conn, org_id)
    assert all(t.p_value is None for t in result.tests)
    assert result.verdict.startswith("Not enough calls yet")


async def test_another_organisation_sees_no_arms(db, org):
    owner, org_id, agent = org
    await add_calls(db, org_id, agent, "retell", 50, arm="retell", seed=8)
    await add_calls(db, org_id, agent, "vapi", 50, arm="vapi", seed=9)
    stranger = await make_user(db)
    await make_org(db, stranger, "Other Co")
    async with db.as_user(stranger) as conn:
        result = await compare_arms(conn, org_id)  # asks for the victim's organisation by id
    assert result.arms == []


async def test_versions_are_compared_by_the_calls_each_served(db, org):
    """By version: every call the version served (with an arm or not), the latest two tested;
    conversations (scenario runs among them) are not calls and are not counted."""
    owner, org_id, agent = org
    async with db.as_service() as conn:
        first = await versions.get_version(conn, org_id, agent, 1)
        v2 = await versions.save_draft(conn, org_id, agent, {**first.spec, "prompt": "Second."})
        v3 = await versions.save_draft(conn, org_id, agent, {**first.spec, "prompt": "Third."})
    await add_calls(db, org_id, agent, "retell", 100, cost_per_minute=0.10, seed=20)  # the live one: v1
    await add_calls(db, org_id, agent, "retell", 100, arm="retell", cost_per_minute=0.12, seed=21, version=v2.id)
    await add_calls(db, org_id, agent, "vapi", 100, arm="vapi", cost_per_minute=0.12, seed=22, version=v2.id)
    await add_calls(db, org_id, agent, "vapi", 200, cost_per_minute=0.08, success_rate=0.8, seed=23, version=v3.id)
    async with db.as_service() as conn:
        await conn.execute(
            "insert into call_records (organization_id, agent_config_id, provider_id, provider_call_id, direction, status, "
            "started_at, agent_version_id) select %s, %s, id, 'chat:x', 'chat', 'ended', now(), %s "
            "from voice_ai_providers where code = 'livekit'", (org_id, agent, v3.id))
    async with db.as_user(owner) as conn:
        result = await compare_arms(conn, org_id, agent_id=agent, by="version")
        sql = {r["number"]: r for r in await (await conn.execute(
            "select v.number, count(*) as calls, sum(u.cost_amount) / (sum(u.duration_seconds) / 60.0) as cpm "
            "from call_records c join provider_usage u on u.call_id = c.id join agent_versions v on v.id = c.agent_version_id "
            "where c.direction <> 'chat' group by 1")).fetchall()}
        platforms = await compare_arms(conn, org_id, agent_id=agent)
    assert result.by == "version" and [(a.arm, a.calls) for a in result.arms] == [("v1", 100), ("v2", 200), ("v3", 200)]
    for arm in result.arms:
        assert arm.cost_per_minute == pytest.approx(float(sql[int(arm.arm[1:])]["cpm"]), rel=1e-9)
    cost = next(t for t in result.tests if t.measure == "cost per minute")
    assert cost.significant and cost.better_arm == "v3"  # v3 against v2, the latest two
    assert "v3 is cheaper" in result.verdict and "Recommendation: keep v3 live." in result.verdict
    assert [(a.arm, a.calls) for a in platforms.arms] == [("retell", 100), ("vapi", 100)]  # arms only


async def test_no_versioned_calls_says_so(db, org):
    owner, org_id, _agent = org
    async with db.as_user(owner) as conn:
        result = await compare_arms(conn, org_id, by="version")
    assert result.arms == [] and result.verdict.startswith("No calls name a version")


_ROLLUP = (
    "select day, agent_config_id, arm, agent_version_id, calls, judged, successes, rated, positive, dur_n, dur_sum, "
    "dur_sumsq, usage_seconds, cost_amount, cpm_n, cpm_sum, cpm_sumsq from experiment_daily where organization_id = %s "
    "and (calls, usage_seconds, cpm_n) <> (0, 0, 0) "
    "order by day, arm nulls first, agent_config_id nulls first, agent_version_id nulls first"
)


async def _rollup(conn, org_id) -> list[dict]:
    rows = await (await conn.execute(_ROLLUP, (org_id,))).fetchall()
    return [{**r, "cpm_sum": round(r["cpm_sum"], 9), "cpm_sumsq": round(r["cpm_sumsq"], 9)} for r in rows]


async def test_the_rollup_the_triggers_keep_equals_one_rebuilt_from_the_calls(db, org):
    """A history of the changes ingestion makes — calls and their usage written together or apart,
    arms set and moved, verdicts and costs revised, a day changed, usage and calls deleted, the
    agent deleted — leaves experiment_daily equal to a rebuild from the calls themselves."""
    owner, org_id, agent = org
    await add_calls(db, org_id, agent, "retell", 60, arm="retell", seed=10)  # call + usage in one statement
    await add_calls(db, org_id, agent, "vapi", 60, arm="vapi", seed=11)
    await add_calls(db, org_id, None, "livekit", 20, seed=12)  # no arm
    async with db.as_service() as conn:
        ids = [r["id"] for r in await (await conn.execute(
            "select id from call_records where organization_id = %s order by id", (org_id,))).fetchall()]
        # usage written after the call (the usual order): drop some usage rows and write them again
        await conn.execute("create temp table saved as select * from provider_usage where call_id = any(%s)", (ids[:10],))
        await conn.execute("delete from provider_usage where call_id = any(%s)", (ids[:10],))
        await conn.execute("insert into provider_usage select * from saved")
        await conn.execute("update call_records set experiment_arm = 'vapi' where id = any(%s)", (ids[10:20],))
        await conn.execute("update call_records set experiment_arm = 'livekit' where id = any(%s)", (ids[120:130],))
        await conn.execute("update call_records set experiment_arm = null where id = any(%s)", (ids[20:25],))
        await conn.execute("update call_records set successful = not coalesce(successful, false), sentiment = 'Positive', "
                           "duration_seconds = duration_seconds + 7 where id = any(%s)", (ids[25:40],))
        await conn.execute("update call_records set started_at = started_at - interval '3 days' where id = any(%s)", (ids[40:50],))
        await conn.execute("update call_records set transcript = 'edited' where id = any(%s)", (ids[50:60],))
        await conn.execute("update provider_usage set cost_amount = cost_amount * 2, duration_seconds = 0 "
                           "where call_id = any(%s)", (ids[60:70],))
        await conn.execute("delete from provider_usage where call_id = any(%s)", (ids[70:75],))
        await conn.execute("delete from call_records where id = any(%s)", (ids[75:85],))  # usage goes by cascade
        await conn.execute("delete from agent_configs where id = %s", (agent,))  # calls keep their arm, lose the agent
    async with db.as_service() as conn:
        kept = await _rollup(conn, org_id)
    async with db.as_owner() as conn:
        await conn.execute("select private.rebuild_experiment_daily(%s)", (org_id,))
        rebuilt = await _rollup(conn, org_id)
    assert len(rebuilt) >= 3 and {r["arm"] for r in rebuilt} == {"retell", "vapi", "livekit"}
    assert all(r["agent_config_id"] is None for r in rebuilt)
    assert kept == rebuilt


async def test_deleting_an_organisation_leaves_no_rollup_behind(db, org):
    owner, org_id, agent = org
    await add_calls(db, org_id, agent, "retell", 30, arm="retell", seed=13)
    async with db.as_service() as conn:
        await conn.execute("delete from organizations where id = %s", (org_id,))
        cur = await conn.execute("select count(*) as n from experiment_daily where organization_id = %s", (org_id,))
        assert (await cur.fetchone())["n"] == 0
