"""Savings recommendations from the organisation's own usage and the price book."""

from __future__ import annotations

import pytest

from switchboard.savings import per_minute_prices, recommendations
from tests.app.factories import add_calls, make_agent, make_org, make_user


async def _setup(db, provider: str, cpm: float, *, custom: bool = False, n: int = 100):
    owner = await make_user(db)
    org_id = await make_org(db, owner)
    agent = await make_agent(db, org_id, provider=provider, custom_voice=custom)
    await add_calls(db, org_id, agent, provider, n, cost_per_minute=cpm, seed=11)
    return owner, org_id


async def _usage(conn, org_id):
    cur = await conn.execute(
        "select sum(duration_seconds) / 60.0 as minutes, sum(cost_amount) as cost, sum(stt_cost) as stt, "
        "sum(llm_cost) as llm, sum(tts_cost) as tts from provider_usage where organization_id = %s", (org_id,))
    return {k: float(v) for k, v in (await cur.fetchone()).items()}


async def test_expensive_retell_calls_are_repriced_at_the_cheapest_platform(db):
    owner, org_id = await _setup(db, "retell", 0.20)
    async with db.as_user(owner) as conn:
        recs = await recommendations(conn, org_id)
        prices = await per_minute_prices(conn)
        u = await _usage(conn, org_id)
    # Every alternative priced as the module documents: its own per-minute rows, plus (LiveKit,
    # which leaves STT/LLM/TTS to you) what the organisation pays for those per minute now.
    per_minute = {code: sum(rows.values()) for code, rows in prices.items()}
    per_minute["livekit"] += (u["stt"] + u["llm"] + u["tts"]) / u["minutes"]
    cheapest = min((c for c in per_minute if c != "retell"), key=per_minute.get)
    assert len(recs) == 1
    rec = recs[0]
    assert (rec.from_provider, rec.to_provider) == ("retell", cheapest)
    assert rec.calls == 100
    assert rec.estimated_cost == pytest.approx(per_minute[cheapest] * u["minutes"], abs=0.01)
    assert rec.saving == pytest.approx(u["cost"] - per_minute[cheapest] * u["minutes"], abs=0.01)
    assert rec.sentence.startswith("These 100 calls on Retell AI")
    assert f"${rec.saving:,.2f} less on {rec.to_name}" in rec.sentence


async def test_custom_voice_never_recommends_a_platform_without_custom_voices(db):
    owner, org_id = await _setup(db, "vapi", 0.30, custom=False)
    async with db.as_user(owner) as conn:
        plain = await recommendations(conn, org_id)
    assert plain[0].to_provider == "retell"  # the cheapest all-in price, when any voice will do

    owner, org_id = await _setup(db, "vapi", 0.30, custom=True)
    async with db.as_user(owner) as conn:
        custom = await recommendations(conn, org_id)
    assert custom and custom[0].to_provider != "retell"


async def test_cheap_usage_gets_no_recommendation(db):
    owner, org_id = await _setup(db, "livekit", 0.02)
    async with db.as_user(owner) as conn:
        assert await recommendations(conn, org_id) == []


async def test_another_organisation_gets_nothing(db):
    owner, org_id = await _setup(db, "retell", 0.20)
    stranger = await make_user(db)
    await make_org(db, stranger, "Other Co")
    async with db.as_user(stranger) as conn:
        assert await recommendations(conn, org_id) == []


async def test_livekit_is_marked_bring_your_own_pipeline(db):
    async with db.as_service() as conn:
        cur = await conn.execute("select code, capabilities->>'byo_pipeline' as byo from voice_ai_providers order by code")
        rows = {r["code"]: r["byo"] for r in await cur.fetchall()}
    assert rows == {"livekit": "true", "retell": "false", "signalwire": "false", "vapi": "false"}
