"""Scenarios and runs through the API: YAML export and import (errors naming the field), a run on
the LiveKit platform followed to its scorecard, another organisation's run not found."""

from __future__ import annotations

import asyncio

import yaml

from switchboard.auth import issue_token
from switchboard.db import Database
from switchboard.demo import DEMO_EMAIL, OTHER_EMAIL, seed_demo


async def test_yaml_round_trip_and_errors_in_words(db: Database, api) -> None:
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    h = {"Authorization": f"Bearer {issue_token(demo.user_id, DEMO_EMAIL)}"}
    base = f"/api/agents/{demo.agent_config_id}/scenarios"
    r = await api.get(f"{base}.yaml", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    doc = yaml.safe_load(r.text)
    assert len(doc["scenarios"]) == 5 and doc["scenarios"][0]["turns"][0]["say"] == "Hello"
    doc["scenarios"] = doc["scenarios"][:2]
    r = await api.post(f"{base}/import", json={"yaml": yaml.safe_dump(doc), "replace": True}, headers=h)
    assert r.status_code == 200, r.text
    assert [s["scenario"]["name"] for s in r.json()] == ["Greets the caller", "Checks availability before offering a time"]
    bad = "- name: Broken\n  turns:\n    - say: Hi\n      expect:\n        - contains: a\n          matches: b\n"
    r = await api.post(f"{base}/import", json={"yaml": bad}, headers=h)
    assert r.status_code == 422
    assert r.json()["fields"][0]["field"].startswith("scenarios[0].turns.0.expect.0")
    assert "exactly one of contains" in r.json()["fields"][0]["message"] and "pydantic" not in r.text
    r = await api.post(f"{base}/import", json={"yaml": "scenarios: [unclosed"}, headers=h)
    assert r.status_code == 422 and r.json()["fields"] == [{"field": "yaml", "message": "is not valid YAML (line 1)"}]


async def test_a_run_followed_to_its_scorecard(db: Database, api, worker_chat) -> None:
    report = await seed_demo(db, 0, other_calls=0, seed=1)
    demo, other = report.demo, report.other
    h = {"Authorization": f"Bearer {issue_token(demo.user_id, DEMO_EMAIL)}"}
    r = await api.post(f"/api/agents/{demo.agent_config_id}/scenario-runs", json={"platform": "livekit"}, headers=h)
    assert r.status_code == 202, r.text
    run = r.json()
    assert run["status"] == "running" and run["total"] == 5 and run["version"] == 1
    for _ in range(300):
        run = (await api.get(f"/api/scenario-runs/{run['id']}", headers=h)).json()
        if run["status"] != "running":
            break
        await asyncio.sleep(0.1)
    assert run["status"] == "passed" and run["done"] == 5, run
    [card] = run["scorecard"]
    assert (card["platform"], card["version"], card["scenarios"], card["pass_rate"]) == ("livekit", 1, 5, 1.0)
    assert card["failed_checks"] == {} and 0 < card["latency_p50_ms"] <= card["latency_p95_ms"]
    assert card["cost_per_conversation"] is None and card["priced"] == 0  # unpriced, not $0
    assert {x["scenario"] for x in run["results"]} >= {"Hands over to a person on request", "Says goodbye and hangs up"}
    h_other = {"Authorization": f"Bearer {issue_token(other.user_id, OTHER_EMAIL)}"}
    assert (await api.get(f"/api/scenario-runs/{run['id']}", headers=h_other)).status_code == 404
    r = await api.post(f"/api/agents/{demo.agent_config_id}/scenario-runs", json={"platform": "livekit"}, headers=h_other)
    assert r.status_code == 404
    r = await api.post(f"/api/agents/{demo.agent_config_id}/scenario-runs", json={"platform": "livekit", "version": 7}, headers=h)
    assert r.status_code == 422 and r.json()["fields"] == [{"field": "version", "message": "this agent has no version 7"}]
