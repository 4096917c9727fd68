"""Savings recommendations from the organisation's own usage and the price book."""

from __future__ import annotations

import pytest

from switchboard.savings import recommendations
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


async def test_expensive_retell_calls_are_repriced_at_the_cheapest_list_price(db):
    owner, org_id = await _setup(db, "retell", 0.20)
    async with db.as_user(owner) as conn:
        recs = await recommendations(conn, org_id)
        u = await _usage(conn, org_id)
    async with db.as_service() as conn:
        cur = await conn.execute("select code, cost_per_minute from voice_ai_providers where is_active")
        listed = {r["code"]: float(r["cost_per_minute"]) for r in await cur.fetchall()}
    # No calls on the others: each priced at its list price, and the sentence says so.
    cheapest = min((c for c in listed if c != "retell"), key=listed.get)
    assert len(recs) == 1
    rec = recs[0]
    assert (rec.from_provider, rec.to_provider, rec.borrowed_basis) == ("retell", cheapest, "list")
    assert rec.calls == 100
    assert rec.estimated_cost == pytest.approx(listed[cheapest] * u["minutes"], abs=0.01)
    assert rec.saving == pytest.approx(u["cost"] - listed[cheapest] * u["minutes"], abs=0.01)
    assert rec.sentence.startswith("These 100 calls on Retell AI")
    assert f"${rec.saving:,.2f} less on {rec.to_name}" in rec.sentence
    assert f"at {rec.to_name}'s list price of ${listed[cheapest]:.4f}/min" in rec.sentence


async def test_a_platform_you_use_is_priced_at_what_your_calls_on_it_cost(db):
    # SignalWire calls dear; LiveKit calls of the same organisation measured at about $0.06/min.
    owner, org_id = await _setup(db, "signalwire", 0.20)
    await add_calls(db, org_id, None, "livekit", 50, cost_per_minute=0.06, seed=12)
    async with db.as_service() as conn:
        cur = await conn.execute(
            "select sum(u.cost_amount) / (sum(u.duration_seconds - u.unpriced_seconds) / 60.0) as cpm "
            "from usage_daily u join voice_ai_providers p on p.id = u.provider_id "
            "where p.code = 'livekit' and u.organization_id = %s", (org_id,))
        measured = float((await cur.fetchone())["cpm"])
    async with db.as_user(owner) as conn:
        recs = {r.from_provider: r for r in await recommendations(conn, org_id)}
    rec = recs["signalwire"]
    assert rec.to_provider == "livekit" and rec.borrowed_basis == "measured"
    assert rec.to_price_per_minute == pytest.approx(measured, abs=1e-9)
    assert f"at what your LiveKit calls cost, ${measured:.4f}/min over the last 30 days" in rec.sentence


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
