"""The calls list's number search at scale: digits are found through the trigram indexes by a
function that only answers for the caller's own organisations, and the result is the same
whichever path (ids, or a scan in page order for broad searches) the search takes."""

from __future__ import annotations

from switchboard import calls
from switchboard.models import CallFilters
from tests.app.factories import add_calls, make_agent, make_org, make_user


async def _ids(db, claims, org, number):
    async with db.as_user(claims) as conn:
        page = await calls.list_calls(conn, org, CallFilters(number=number), limit=200)
    return [c.id for c in page.items]


async def test_digit_search_finds_the_same_calls_by_either_path(db, monkeypatch):
    owner = await make_user(db)
    org = await make_org(db, owner)
    await add_calls(db, org, await make_agent(db, org), "retell", 40, seed=61)
    async with db.as_service() as conn:
        cur = await conn.execute(
            "select id from call_records where organization_id = %s and (from_number like '%%55501000%%' "
            "or to_number like '%%55501000%%') order by started_at desc nulls first, id", (org,))
        expected = [r["id"] for r in await cur.fetchall()]
    assert len(expected) == 9
    assert await _ids(db, owner, org, "555-0100-0") == expected  # found by id (few matches)
    monkeypatch.setattr(calls, "DIGIT_SEARCH_CAP", 3)
    assert await _ids(db, owner, org, "555-0100-0") == expected  # too many for the cap: a scan


async def test_the_digit_search_function_answers_only_for_members(db):
    owner = await make_user(db)
    org = await make_org(db, owner)
    await add_calls(db, org, None, "vapi", 20, seed=62)
    stranger = await make_user(db)
    await make_org(db, stranger, "Other Co")
    async with db.as_user(stranger) as conn:
        cur = await conn.execute("select public.calls_with_number_digits(%s, '5550', 100) as id", (org,))
        assert await cur.fetchall() == []
    assert await _ids(db, stranger, org, "5550") == []
    async with db.as_user(owner) as conn:
        cur = await conn.execute("select public.calls_with_number_digits(%s, '5550', 100) as id", (org,))
        assert len(await cur.fetchall()) == 20
        cur = await conn.execute("select public.calls_with_number_digits(%s, '5550%%', 100) as id", (org,))
        assert await cur.fetchall() == []  # only digits: no LIKE patterns from the caller
