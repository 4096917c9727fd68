"""Two runs side by side, version against version, through the API: each run's pass rate, turn
latency p50/p95 and cost, the scenario whose outcome changed and the failed check that was fixed;
the agent's runs listed newest first with their progress."""

from __future__ import annotations

from switchboard import versions
from switchboard.auth import issue_token
from switchboard.db import Database
from switchboard.demo import DEMO_EMAIL, OTHER_EMAIL, seed_demo

from .test_demo_suite import BROKEN
from .test_publish_gate import _run

FAILED = "livekit · Knows the opening hours: contains 'open on Monday'"


async def test_version_against_version_shows_what_changed(db: Database, api, worker_chat) -> None:
    report = await seed_demo(db, 0, other_calls=0, seed=1)
    demo = report.demo
    agent = demo.agent_config_id
    h = {"Authorization": f"Bearer {issue_token(demo.user_id, DEMO_EMAIL)}"}
    assert (await api.post(f"/api/agents/{agent}/scenarios/import", json={"yaml": BROKEN}, headers=h)).status_code == 200
    async with db.as_service() as conn:  # version 2 knows the opening hours
        first = await versions.get_version(conn, demo.organization_id, agent, 1)
        await versions.save_draft(conn, demo.organization_id, agent,
                                  {**first.spec, "prompt": first.spec["prompt"] + "\nWe are open on Monday from 9 to 5."})
    before = await _run(api, h, agent, 1)
    after = await _run(api, h, agent, 2)
    assert (before["status"], before["passed"], after["status"], after["passed"]) == ("failed", 5, "passed", 6)

    r = await api.get(f"/api/scenario-runs/{before['id']}/compare/{after['id']}", headers=h)
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["before"]["version"], d["after"]["version"]) == (1, 2)
    assert (d["before"]["score"]["pass_rate"], d["after"]["score"]["pass_rate"]) == (0.8333, 1.0)
    assert d["pass_rate_change"] == 0.1667
    assert d["fixed"] == [FAILED] and d["newly_failed"] == []
    assert [(c["scenario"], c["before"], c["after"]) for c in d["changes"]] == [("Knows the opening hours", "failed", "passed")]
    for side in ("before", "after"):
        score = d[side]["score"]
        assert 0 < score["latency_p50_ms"] <= score["latency_p95_ms"] and score["cost_per_conversation"] is None
    assert d["latency_p50_change_ms"] == round(d["after"]["score"]["latency_p50_ms"] - d["before"]["score"]["latency_p50_ms"], 1)
    assert d["cost_change"] is None  # unpriced on both sides: no change is claimed

    r = await api.get(f"/api/scenario-runs/{after['id']}/compare/{before['id']}", headers=h)
    assert r.json()["newly_failed"] == [FAILED] and r.json()["fixed"] == []

    listed = (await api.get(f"/api/agents/{agent}/scenario-runs", headers=h)).json()
    assert [(x["id"], x["version"], x["done"], x["total"]) for x in listed] == [
        (after["id"], 2, 6, 6), (before["id"], 1, 6, 6)]
    h_other = {"Authorization": f"Bearer {issue_token(report.other.user_id, OTHER_EMAIL)}"}
    assert (await api.get(f"/api/agents/{agent}/scenario-runs", headers=h_other)).status_code == 404
