"""recommend_provider over the seeded platforms and prices: the recommendation logic and decision matrix,
and answers that follow the database when a price or a capability changes there."""

from __future__ import annotations

from decimal import Decimal

import pytest

from switchboard.providers.recommend import Needs, recommend_provider


async def recommend(db, **needs):
    async with db.as_service() as conn:
        return await recommend_provider(conn, Needs(**needs))


@pytest.mark.parametrize("needs,expected", [
    ({}, "retell"),                                                  # seed default: simplest start
    ({"has_custom_voice": True}, "livekit"),                         # custom voice → the cheapest with them
    ({"wants_lowest_cost": True}, "livekit"),                        # lowest cost
    ({"wants_easy_setup": True}, "retell"),                          # easy setup → retell …
    ({"has_custom_voice": True, "wants_easy_setup": True}, "vapi"),  # … or vapi, when a custom voice is needed
    ({"wants_max_customization": True}, "livekit"),
    ({"needs_enterprise": True}, "vapi"),
    ({"uses_signalwire": True}, "signalwire"),
    ({"uses_signalwire": True, "has_custom_voice": True}, "signalwire"),
])
async def test_decision_matrix(db, needs, expected):
    choice = await recommend(db, **needs)
    assert choice.code == expected, choice.reasons
    assert choice.reasons and choice.price_per_minute is not None


async def test_reasons_carry_real_prices(db):
    choice = await recommend(db, wants_lowest_cost=True)
    assert choice.price_per_minute == Decimal("0.0450")
    assert "lowest list price per minute: $0.0450/min" in choice.reasons
    assert choice.minute_prices == {"platform": Decimal("0.01000000"), "telephony": Decimal("0.00300000")}
    custom = await recommend(db, has_custom_voice=True)
    assert custom.alternatives == ["vapi", "signalwire"]  # the other custom-voice platforms, cheapest first


async def test_answers_follow_the_database(db):
    async with db.as_service() as conn:
        await conn.execute("update voice_ai_providers set cost_per_minute = 0.5 where code = 'livekit'")
    assert (await recommend(db, wants_lowest_cost=True)).code == "retell"
    async with db.as_service() as conn:
        await conn.execute("""update voice_ai_providers set capabilities = capabilities || '{"custom_voices": true}' where code = 'retell'""")
    assert (await recommend(db, has_custom_voice=True, wants_easy_setup=True)).code == "retell"
    async with db.as_service() as conn:
        await conn.execute("update voice_ai_providers set is_active = false where code = 'retell'")
    choice = await recommend(db)
    assert choice.code == "vapi" and "retell" not in choice.alternatives


async def test_an_unmeetable_wish_is_reported(db):
    async with db.as_service() as conn:
        await conn.execute("""update voice_ai_providers set capabilities = capabilities || '{"enterprise": false}'""")
    choice = await recommend(db, needs_enterprise=True)
    assert any("no remaining platform offers enterprise features" in r for r in choice.reasons)
