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
    # which leaves STT/LLM/TTS to you, and has no calls here) its typical all-in price less those.
    per_minute = {code: sum(rows.values()) for code, rows in prices.items()}
    async with db.as_service() as conn:
        cur = await conn.execute("select cost_per_minute from voice_ai_providers where code = 'livekit'")
        livekit_typical = float((await cur.fetchone())["cost_per_minute"])
    per_minute["livekit"] = max(per_minute["livekit"], livekit_typical)
    cheapest = min((c for c in per_minute if c != "retell"), key=per_minute.get)
    assert len(recs) == 1
    rec = recs[0]
    assert (rec.from_provider, rec.to_provider) == ("retell", cheapest)
    assert rec.calls == 100
    assert rec.estimated_cost == pytest.approx(per_minute[cheapest] * u["minutes"], abs=0.01)
    assert rec.saving == pytest.approx(u["cost"] - per_minute[cheapest] * u["minutes"], abs=0.01)
    assert rec.sentence.startswith("These 100 calls on Retell AI")
    assert f"${rec.saving:,.2f} less on {rec.to_name}" in rec.sentence


async def test_bring_your_own_pipeline_is_priced_at_its_measured_cost_not_the_bundles_zero(db):
    # SignalWire reports everything as platform cost (STT/LLM/TTS = 0); LiveKit calls of the same
    # organisation show what its own STT/LLM/TTS cost per minute.
    owner, org_id = await _setup(db, "signalwire", 0.20)
    await add_calls(db, org_id, None, "livekit", 50, cost_per_minute=0.06, seed=12)
    async with db.as_service() as conn:
        await conn.execute(
            "update provider_usage u set platform_cost = u.cost_amount, stt_cost = 0, llm_cost = 0, tts_cost = 0, "
            "telephony_cost = 0 from voice_ai_providers p where p.id = u.provider_id and p.code = 'signalwire' "
            "and u.organization_id = %s", (org_id,))
        cur = await conn.execute(
            "select (sum(u.stt_cost) + sum(u.llm_cost) + sum(u.tts_cost)) / (sum(u.duration_seconds) / 60.0) as pipeline "
            "from provider_usage u join voice_ai_providers p on p.id = u.provider_id "
            "where p.code = 'livekit' and u.organization_id = %s", (org_id,))
        pipeline = float((await cur.fetchone())["pipeline"])
    async with db.as_user(owner) as conn:
        recs = {r.from_provider: r for r in await recommendations(conn, org_id)}
        prices = await per_minute_prices(conn)
    rec = recs["signalwire"]
    assert rec.to_provider == "livekit" and rec.borrowed_basis == "measured"
    assert pipeline > 0.01
    assert rec.to_price_per_minute == pytest.approx(sum(prices["livekit"].values()) + pipeline, abs=1e-4)
    assert "priced at what they cost you on LiveKit now" in rec.sentence


async def test_custom_voice_never_recommends_a_platform_without_custom_voices(db):
    # LiveKit made dear by this organisation's own (measured) pipeline costs, so that Retell,
    # which has no custom voices, is the cheapest alternative to Vapi.
    owner, org_id = await _setup(db, "vapi", 0.30, custom=False)
    await add_calls(db, org_id, None, "livekit", 20, cost_per_minute=0.50, seed=13)
    async with db.as_user(owner) as conn:
        plain = {r.from_provider: r for r in await recommendations(conn, org_id)}
    assert plain["vapi"].to_provider == "retell"  # the cheapest all-in price, when any voice will do

    owner, org_id = await _setup(db, "vapi", 0.30, custom=True)
    await add_calls(db, org_id, None, "livekit", 20, cost_per_minute=0.50, seed=13)
    async with db.as_user(owner) as conn:
        custom = {r.from_provider: r for r in await recommendations(conn, org_id)}
    assert custom["vapi"].to_provider not in ("retell", "vapi")


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
