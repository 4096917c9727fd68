"""End to end, with no key at all: the demo organisation's agent (as `switchboard seed --demo`
leaves it) answers a three-turn conversation through /api/agents/{id}/conversations on the
LiveKit platform — the worker's agent in text mode on the offline tier — calls its tools, and the
record holds the transcript, the tool calls and each turn's latency; the calls list shows it as
direction chat, and no dashboard counts it."""

from __future__ import annotations

from switchboard.auth import issue_token
from switchboard.db import Database
from switchboard.demo import DEMO_EMAIL, seed_demo


async def test_demo_agent_answers_three_turns_on_livekit_with_no_keys(db: Database, api, worker_chat) -> None:
    report = await seed_demo(db, 0, other_calls=0, seed=1)
    demo = report.demo
    headers = {"Authorization": f"Bearer {issue_token(demo.user_id, DEMO_EMAIL)}"}
    async with db.as_service() as conn:
        spend_before = (await (await conn.execute(
            "select coalesce(sum(calls), 0) as n from usage_daily where organization_id = %s", (demo.organization_id,))).fetchone())["n"]

    r = await api.post(f"/api/agents/{demo.agent_config_id}/conversations", json={"platform": "livekit"}, headers=headers)
    assert r.status_code == 201, r.text
    conv = r.json()
    assert conv["platform"] == "livekit" and conv["status"] == "active"
    assert conv["turns"][0]["reply"] == "Thanks for calling Demo Dental, this is Ava. How can I help you today?"
    base = f"/api/agents/{demo.agent_config_id}/conversations/{conv['id']}"

    replies = []
    for text in ("Where can I park?", "Is there a free appointment slot on 2026-12-10?", "Can I talk to a person please?"):
        r = await api.post(f"{base}/messages", json={"text": text}, headers=headers)
        assert r.status_code == 200, r.text
        replies.append(r.json())
    availability, transfer = replies[1]["tool_calls"], replies[2]["tool_calls"]
    assert [c["name"] for c in availability] == ["check_availability"]
    assert availability[0]["arguments"] == {"date": "2026-12-10"}
    assert availability[0]["is_error"] is True  # the demo's backend is a placeholder that never resolves
    assert replies[1]["reply"].startswith("Sorry, I could not do that")
    assert [c["name"] for c in transfer] == ["transfer_to_front_desk"] and "+14155550100" in transfer[0]["result"]
    for turn in replies:
        assert turn["reply"] and turn["latency_ms"] > 0
        assert turn["platform_latency_ms"] is not None and turn["platform_latency_ms"] <= turn["latency_ms"]
        assert turn["overhead_ms"] is not None and turn["cost"] is None

    r = await api.delete(base, headers=headers)
    assert r.status_code == 204
    r = await api.get(base, headers=headers)
    record = r.json()
    assert record["status"] == "ended" and [t["seq"] for t in record["turns"]] == [0, 1, 2, 3]
    assert [t["text"] for t in record["turns"][1:]] == ["Where can I park?", "Is there a free appointment slot on 2026-12-10?",
                                                      "Can I talk to a person please?"]
    assert record["turns"][2]["tool_calls"][0]["name"] == "check_availability"
    assert all(t["latency_ms"] > 0 for t in record["turns"])

    r = await api.get("/api/calls", params={"direction": "chat"}, headers=headers)
    assert r.status_code == 200, r.text
    [call] = r.json()["items"]
    assert call["id"] == record["call_id"] and call["direction"] == "chat" and call["status"] == "ended"
    async with db.as_service() as conn:
        row = await (await conn.execute("select transcript from call_records where id = %s", (record["call_id"],))).fetchone()
        assert "User: Can I talk to a person please?" in row["transcript"]
        spend_after = (await (await conn.execute(
            "select coalesce(sum(calls), 0) as n from usage_daily where organization_id = %s", (demo.organization_id,))).fetchone())["n"]
        assert spend_after == spend_before
        assert (await (await conn.execute("select count(*) as n from provider_usage where call_id = %s",
                                          (record["call_id"],))).fetchone())["n"] == 0
