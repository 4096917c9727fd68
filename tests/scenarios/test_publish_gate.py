"""The publish gate through the API: with the organisation's setting on, a version that was not
tested, or whose run failed, is refused (409) listing the failed checks; once its suite passes on
the agent's platforms it publishes."""

from __future__ import annotations

import asyncio

from switchboard.auth import issue_token
from switchboard.db import Database
from switchboard.demo import DEMO_EMAIL, seed_demo

from .test_demo_suite import BROKEN


async def _run(api, h, agent, version) -> dict:
    r = await api.post(f"/api/agents/{agent}/scenario-runs", json={"platform": "livekit", "version": version}, headers=h)
    assert r.status_code == 202, r.text
    run = r.json()
    for _ in range(300):
        run = (await api.get(f"/api/scenario-runs/{run['id']}", headers=h)).json()
        if run["status"] != "running":
            return run
        await asyncio.sleep(0.1)
    raise AssertionError("the run did not finish")


async def test_publish_gate_blocks_a_failing_version(db: Database, api, worker_chat) -> None:
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    agent = demo.agent_config_id
    h = {"Authorization": f"Bearer {issue_token(demo.user_id, DEMO_EMAIL)}"}
    async with db.as_service() as conn:  # the agent runs on LiveKit only: its one target platform
        await conn.execute("update agent_configs set active_provider_id = (select id from voice_ai_providers "
                           "where code = 'livekit'), fallback_order = '{}', traffic_split = '{}' where id = %s", (agent,))
    r = await api.put("/api/scenario-settings", json={"require_scenarios_to_publish": True, "scenario_concurrency": 3},
                      headers=h)
    assert r.status_code == 200 and r.json()["require_scenarios_to_publish"] is True
    etag = (await api.get(f"/api/agents/{agent}", headers=h)).headers["ETag"]
    r = await api.patch(f"/api/agents/{agent}", json={"name": "Front desk v2"}, headers={**h, "If-Match": etag})
    assert r.status_code == 200 and r.json()["latest_version"] == 2

    r = await api.post(f"/api/agents/{agent}/versions/2/publish", headers=h)
    assert r.status_code == 409
    assert r.json()["message"].startswith("version 2 has not been tested on livekit")

    r = await api.post(f"/api/agents/{agent}/scenarios/import", json={"yaml": BROKEN}, headers=h)
    assert r.status_code == 200
    assert (await _run(api, h, agent, 2))["status"] == "failed"
    r = await api.post(f"/api/agents/{agent}/versions/2/publish", headers=h)
    assert r.status_code == 409
    message = r.json()["message"]
    assert message.startswith("version 2 failed its scenarios, so it cannot be published: livekit · Knows the opening hours: "
                              "turn 1, contains 'open on Monday': the reply does not contain")
    live = (await api.get(f"/api/agents/{agent}", headers=h)).json()
    assert live["live_version"] == 1

    listed = (await api.get(f"/api/agents/{agent}/scenarios", headers=h)).json()
    keep = [s["scenario"] for s in listed if s["scenario"]["name"] != "Knows the opening hours"]
    import yaml
    r = await api.post(f"/api/agents/{agent}/scenarios/import", json={"yaml": yaml.safe_dump(keep), "replace": True}, headers=h)
    assert r.status_code == 200 and len(r.json()) == 5
    assert (await _run(api, h, agent, 2))["status"] == "passed"
    r = await api.post(f"/api/agents/{agent}/versions/2/publish", headers=h)
    assert r.status_code == 200 and r.json()["live"] is True
