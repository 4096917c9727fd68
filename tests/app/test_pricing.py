"""One price per platform per minute: the list price and what your calls cost, from one function."""

from __future__ import annotations

from decimal import Decimal

import pytest

from switchboard import pricing
from switchboard.savings import recommendations
from tests.app.factories import add_calls, make_agent, make_org, make_user


async def test_list_and_measured_prices_come_from_one_function_and_agree_with_the_tables(db):
    owner = await make_user(db)
    org_id = await make_org(db, owner)
    agent = await make_agent(db, org_id, provider="retell")
    await add_calls(db, org_id, agent, "retell", 40, cost_per_minute=0.20, seed=21)
    async with db.as_user(owner) as conn:
        prices = await pricing.platform_prices(conn, org_id)
    async with db.as_service() as conn:
        cur = await conn.execute("select code, cost_per_minute from voice_ai_providers where is_active")
        listed = {r["code"]: r["cost_per_minute"] for r in await cur.fetchall()}
        cur = await conn.execute(
            "select distinct on (subject, component) subject, usd_per_unit from price_book "
            "where unit = 'minute' and effective_from <= current_date order by subject, component, effective_from desc")
        book: dict[str, Decimal] = {}
        for r in await cur.fetchall():
            book[r["subject"]] = book.get(r["subject"], Decimal(0)) + r["usd_per_unit"]
        cur = await conn.execute(
            "select sum(u.cost_amount) as cost, sum(u.duration_seconds - u.unpriced_seconds) as s "
            "from usage_daily u join voice_ai_providers p on p.id = u.provider_id "
            "where p.code = 'retell' and u.organization_id = %s and u.day > current_date - 30", (org_id,))
        usage = await cur.fetchone()
    assert set(prices) == set(listed)
    for code, p in prices.items():
        assert p.list_price == listed[code]
    # Bundled platforms' list price is their price_book minute rows (LiveKit's excludes your vendors).
    assert prices["retell"].list_price == book["retell"] and prices["vapi"].list_price == book["vapi"]
    assert prices["retell"].measured == pytest.approx(Decimal(usage["cost"]) / (Decimal(usage["s"]) / 60))
    assert all(prices[c].measured is None for c in ("livekit", "vapi", "signalwire"))
    assert pricing.list_label(prices["livekit"]) == "list price $0.0450/min"
    assert pricing.measured_label(prices["livekit"]) == "your calls: no calls yet"
    assert pricing.measured_label(prices["retell"]) == f"your calls ${prices['retell'].measured:.4f}/min (last 30 days)"
    # The savings figure is the same one: LiveKit at its list price, formatted the same way.
    async with db.as_user(owner) as conn:
        rec = (await recommendations(conn, org_id))[0]
    assert rec.to_provider == "livekit"
    assert pricing.per_minute(rec.to_price_per_minute) in pricing.list_label(prices["livekit"])


async def test_an_unknown_list_price_is_no_list_price_never_zero(db):
    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with db.as_service() as conn, conn.transaction():
            await conn.execute("update voice_ai_providers set cost_per_minute = null where code = 'vapi'")
            await conn.execute("delete from price_book where subject = 'vapi'")
            prices = await pricing.platform_prices(conn, None)
            raise Undo  # roll the catalogue back
    assert prices["vapi"].list_price is None
    assert pricing.list_label(prices["vapi"]) == "no list price"
    assert pricing.per_minute(None) == ""
