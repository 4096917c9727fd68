"""Calls: filters, keyset pagination (stable, complete, no duplicates), one call with its cost
breakdown, and isolation between organisations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx

from tests.api.conftest import World, add_call


async def _all(client: httpx.AsyncClient, user, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        page = await client.get("/api/calls", params={**params, **({"cursor": cursor} if cursor else {})}, headers=user.headers())
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


async def test_pages_walk_every_call_once_newest_first(client: httpx.AsyncClient, world: World, db) -> None:
    base = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)
    async with db.as_service() as conn:
        for i in range(7):  # equal start times: the id breaks the tie
            await add_call(conn, world.org_a, world.agent_a, started_at=base)
        for i in range(3):  # not started yet: listed first
            await add_call(conn, world.org_a, world.agent_a, started_at=None, status="registered", cost=None)
    everything = await _all(client, world.member_a, limit=2)
    ids = [c["id"] for c in everything]
    assert len(ids) == len(set(ids)) == 5 + 7 + 3
    assert [c["started_at"] for c in everything[:3]] == [None] * 3
    starts = [c["started_at"] for c in everything[3:]]
    assert starts == sorted(starts, reverse=True)
    assert all(c["provider"] for c in everything) and everything[-1]["cost_amount"] == 0.1234
    assert str(world.calls_b[0]) not in ids


async def test_filters(client: httpx.AsyncClient, world: World, db) -> None:
    now = datetime.now(timezone.utc)
    async with db.as_service() as conn:
        web = await add_call(conn, world.org_a, world.agent_a, provider="vapi", started_at=now - timedelta(days=3),
                             direction="web", status="error", arm="B", from_number="+12025550142",
                             to_number="+13105550100")
    u = world.member_a
    assert {c["provider"] for c in await _all(client, u, provider="vapi")} == {"vapi"}
    assert len(await _all(client, u, provider="retell")) == 2
    assert [c["id"] for c in await _all(client, u, status="error")] == [str(web)]
    assert [c["id"] for c in await _all(client, u, direction="web")] == [str(web)]
    assert [c["id"] for c in await _all(client, u, arm="B")] == [str(web)]
    assert [c["id"] for c in await _all(client, u, number="+12025550142")] == [str(web)]
    assert [c["id"] for c in await _all(client, u, number="555-0142")] == [str(web)]
    assert [c["id"] for c in await _all(client, u, number="(202) 555-0142")] == [str(web)]
    assert await _all(client, u, number="2025550") == []  # digits match the end of a number, not its middle
    assert len(await _all(client, u, number="+14155550199")) == 5
    window = await _all(client, u, started_from=(now - timedelta(days=4)).isoformat(), started_to=(now - timedelta(days=2)).isoformat())
    assert [c["id"] for c in window] == [str(web)]
    assert len(await _all(client, u, agent_id=str(world.agent_a))) == 6
    assert await _all(client, u, agent_id=str(world.agent_b)) == []
    assert len(await _all(client, u, provider="vapi", status="ended")) == 1


async def test_bad_filters_name_the_parameter(client: httpx.AsyncClient, world: World) -> None:
    h = world.member_a.headers()
    for params, field in (({"provider": "twilio"}, "provider"), ({"status": "done"}, "status"), ({"number": "12"}, "number"),
                          ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"), ({"limit": 500}, "limit"),
                          ({"started_from": "2026-11-02T00:00:00Z", "started_to": "2026-11-01T00:00:00Z"}, "started_to")):
        r = await client.get("/api/calls", params=params, headers=h)
        assert r.status_code == 422 and r.json()["fields"][0]["field"] == field, (params, r.text)


async def test_one_call_with_its_costs(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get(f"/api/calls/{world.calls_a[0]}", headers=world.member_a.headers())
    assert r.status_code == 200
    call = r.json()
    assert call["provider"] == "retell" and call["transcript"] == "Agent: Hello." and call["duration_seconds"] == 90
    usage = call["usage"]
    assert (usage["cost_amount"], usage["stt_cost"], usage["llm_cost"], usage["tts_cost"], usage["platform_cost"], usage["telephony_cost"]) \
        == (0.1234, 0.01, 0.02, 0.03, 0.05, 0.0134)
    assert usage["currency"] == "USD" and usage["cost_source"] == "reported"


async def test_another_organisations_call_is_not_found(client: httpx.AsyncClient, world: World) -> None:
    r = await client.get(f"/api/calls/{world.calls_b[0]}", headers=world.owner_a.headers())
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert (await client.get(f"/api/calls/{world.calls_b[0]}", headers=world.owner_b.headers())).status_code == 200
    assert await _all(client, world.owner_a, number="+442071234567") == []


def test_call_filters_take_none_as_no_filter() -> None:
    """In code (the app's calls page) None means "no such filter", though the API's document
    offers no null."""
    from switchboard.models import CallFilters

    assert CallFilters(provider=None, status=None, number=None) == CallFilters()
    assert CallFilters(provider="vapi", number=None).provider == "vapi"


# --- search, CSV export (issue #13) --------------------------------------------------------------
async def _set(db, call_id, **columns) -> None:
    async with db.as_service() as conn:
        sets = ", ".join(f"{k} = %s" for k in columns)
        await conn.execute(f"update call_records set {sets} where id = %s", (*columns.values(), call_id))


async def test_search_by_transcript_words_call_ids_and_number(client: httpx.AsyncClient, world: World, db) -> None:
    a, b = world.calls_a[0], world.calls_a[1]
    await _set(db, a, transcript="Agent: Hello. User: my molar hurts since Tuesday.", provider_call_id="call_8f3ab2")
    await _set(db, b, transcript="Agent: Hello. User: I want to cancel my cleaning.", from_number="+12025550142")
    await _set(db, world.calls_b[0], transcript="User: my molar hurts too.")  # another organisation's
    u = world.member_a
    assert [c["id"] for c in await _all(client, u, q="molar")] == [str(a)]
    assert [c["id"] for c in await _all(client, u, q="MOLAR tuesday")] == [str(a)]  # every word, any case
    assert [c["id"] for c in await _all(client, u, q='"cancel my cleaning"')] == [str(b)]
    assert [c["id"] for c in await _all(client, u, q="call_8f3ab2")] == [str(a)]  # the platform's id
    assert [c["id"] for c in await _all(client, u, q=str(b))] == [str(b)]  # ours
    assert [c["id"] for c in await _all(client, u, q="555-0142")] == [str(b)]  # a number's end
    assert len(await _all(client, u, q="hello")) == 5 and await _all(client, u, q="dentures") == []
    assert [c["id"] for c in await _all(client, u, q="hello", provider="vapi")] == [str(b)]  # with the filters
    assert [c["id"] for c in await _all(client, world.owner_b, q="molar")] == [str(world.calls_b[0])]
    r = await client.get("/api/calls", params={"q": "x" * 201}, headers=u.headers())
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "q"


async def test_search_and_count_under_rls(db, world: World) -> None:
    from switchboard import calls
    from switchboard.models import CallFilters
    from switchboard.tenancy import Claims

    await _set(db, world.calls_b[0], transcript="User: my molar hurts.")
    outsider = Claims(sub=world.member_a.id, email=world.member_a.email)
    async with db.as_user(outsider) as conn:
        assert await calls.count_calls(conn, world.org_a) == (5, False)
        assert await calls.count_calls(conn, world.org_a, CallFilters(provider="retell")) == (2, False)
        assert await calls.count_calls(conn, world.org_a, cap=3) == (3, True)
        # The word search's security-definer function answers only for the caller's organisations.
        cur = await conn.execute("select private.call_transcript_matches(%s, 'molar', 10) as id", (world.org_b,))
        assert await cur.fetchall() == []
        assert await calls.count_calls(conn, world.org_b, CallFilters(q="molar")) == (0, False)


async def test_csv_export_streams_the_filtered_rows_defused(client: httpx.AsyncClient, world: World, db) -> None:
    import csv
    import io

    await _set(db, world.calls_a[1], provider_call_id="=HYPERLINK(\"http://evil.example\",\"x\")",
               disconnection_reason="@SUM(1+1)", experiment_arm="-2+3")
    r = await client.get("/api/calls.csv", headers=world.member_a.headers())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id"] for row in rows] == [str(c) for c in world.calls_a]  # newest first, only this organisation's
    evil = rows[1]
    assert evil["platform_call_id"].startswith("'=HYPERLINK")
    assert evil["disconnection_reason"] == "'@SUM(1+1)" and evil["experiment_arm"] == "'-2+3"
    assert evil["from_number"] == "'+14155550100"  # a leading + is defused too
    assert float(rows[0]["cost_usd"]) == 0.1234 and rows[0]["platform"] == "retell"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    assert "transcript" not in rows[0] and "recording_url" not in rows[0]
    # The same filters as the list; a bad one is refused before anything is streamed.
    vapi = list(csv.DictReader(io.StringIO((await client.get(
        "/api/calls.csv", params={"provider": "vapi"}, headers=world.member_a.headers())).text)))
    assert [row["id"] for row in vapi] == [str(world.calls_a[1])]
    bad = await client.get("/api/calls.csv", params={"number": "12"}, headers=world.member_a.headers())
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "number"
    assert (await client.get("/api/calls.csv")).status_code == 401
    other = list(csv.DictReader(io.StringIO((await client.get("/api/calls.csv", headers=world.owner_b.headers())).text)))
    assert [row["id"] for row in other] == [str(world.calls_b[0])]


async def test_a_count_too_slow_gives_up_and_the_transaction_goes_on(db, world: World) -> None:
    from switchboard import calls
    from switchboard.tenancy import Claims

    member = Claims(sub=world.member_a.id, email=world.member_a.email)
    async with db.as_user(member) as conn:
        assert await calls.count_calls(conn, world.org_a, budget_ms=1) in ((None, True), (5, False))
        await conn.execute("select pg_sleep(0.01)")  # the statement timeout ended with the savepoint
        assert await calls.count_calls(conn, world.org_a) == (5, False)


async def test_a_word_in_very_many_calls_is_searched_by_walking(client: httpx.AsyncClient, world: World, db,
                                                                 monkeypatch) -> None:
    from switchboard import calls
    from switchboard.models import CallFilters
    from switchboard.tenancy import Claims

    monkeypatch.setattr(calls, "WORD_MATCH_CAP", 2)  # "hello" is said in all five calls: more than the cap
    u = world.member_a
    assert [c["id"] for c in await _all(client, u, q="hello", limit=2)] == [str(c) for c in world.calls_a]
    assert [c["id"] for c in await _all(client, u, q="hello", provider="vapi")] == [str(world.calls_a[1])]
    async with db.as_user(Claims(sub=u.id, email=u.email)) as conn:
        assert await calls.count_calls(conn, world.org_a, CallFilters(q="hello")) == (2, True)  # "2+": all it knows
        assert await calls.count_calls(conn, world.org_a, CallFilters(q="hello", provider="retell")) == (2, False)
