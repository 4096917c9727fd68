"""The pipelined service scope (hot write paths): one transaction, as service_role, all or
nothing, and the pooled connection handed back as it was lent."""

from __future__ import annotations

import psycopg
import pytest

from switchboard.db import Database


async def _count(db: Database, name: str) -> int:
    async with db.as_service() as conn:
        row = await (await conn.execute("select count(*) as n from public.organizations where name = %s", (name,))).fetchone()
    return row["n"]


async def test_pipelined_scope_runs_as_service_role_in_one_transaction(db: Database) -> None:
    async with db.as_service(pipeline=True) as conn:
        who = await conn.execute("select current_user as role, txid_current() as txid, "
                                 "current_setting('request.jwt.claims') as claims")
        again = await conn.execute("select txid_current() as txid")
        await conn.execute("insert into public.organizations (name) values ('pipelined scope org')")
        first, second = await who.fetchone(), await again.fetchone()
    assert first["role"] == "service_role"
    assert '"service_role"' in first["claims"]
    assert first["txid"] == second["txid"]  # BEGIN … COMMIT, not one implicit transaction per statement
    assert await _count(db, "pipelined scope org") == 1


async def test_a_failing_statement_rolls_back_the_statements_before_it(db: Database) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        async with db.as_service(pipeline=True) as conn:
            await conn.execute("insert into public.organizations (name) values ('rolled back by a later error')")
            await conn.execute("insert into public.call_records (organization_id, direction) "
                               "select id, 'sideways' from public.organizations limit 1")
    assert await _count(db, "rolled back by a later error") == 0


async def test_an_exception_in_the_body_rolls_back(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.as_service(pipeline=True) as conn:
            await conn.execute("insert into public.organizations (name) values ('rolled back by the caller')")
            raise Boom
    assert await _count(db, "rolled back by the caller") == 0


@pytest.fixture
async def one_connection_db(db_url: str):
    async with Database(db_url, min_size=1, max_size=1) as database:
        yield database


async def test_after_a_failed_pipelined_scope_the_next_transaction_is_normal(one_connection_db: Database) -> None:
    db = one_connection_db
    with pytest.raises(psycopg.errors.DivisionByZero):
        async with db.as_service(pipeline=True) as conn:
            await conn.execute("select 1 / 0")
    # Same (only) connection: not left in autocommit, not in an aborted block.
    async with db.as_service() as conn:
        await conn.execute("insert into public.organizations (name) values ('after the failure')")
    with pytest.raises(RuntimeError):
        async with db.as_service() as conn:
            await conn.execute("insert into public.organizations (name) values ('rolled back normally')")
            raise RuntimeError("undo")
    assert await _count(db, "after the failure") == 1
    assert await _count(db, "rolled back normally") == 0
    async with db.pool.connection() as conn:
        assert conn.autocommit is False
