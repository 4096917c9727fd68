"""Tenant isolation, enforced by Postgres itself: for EVERY tenant table in `public` (found in
the catalog, so a new table is covered the day it is created), a member of organisation A can
neither read, insert, update nor delete organisation B's rows; `anon` sees nothing;
`service_role` sees everything."""

from __future__ import annotations

import json
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from switchboard import invitations
from switchboard.outbound import do_not_call
from switchboard import secrets as sec
from switchboard.db import Database
from switchboard.demo import Tenant as DemoTenant
from switchboard.demo import _agent_and_configs, _platform_ids, replace_calls

from .conftest import Tenant, make_tenant, new_key_entry

# Tables in public that are not tenant data: the platform registry and price book, the
# STT/TTS/LLM catalog, platform health, and operator-only dead letters.
NOT_TENANT_TABLES = {"voice_ai_providers", "price_book", "providers", "provider_circuits",
                     "provider_health_minutely", "webhook_dead_letters"}


def tenant_tables(url: str) -> dict[str, str]:
    """table → the column naming its organisation: every public table with an
    `organization_id` column, plus `organizations` itself (keyed by `id`)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            select c.relname,
                   exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'organization_id'
                           and not a.attisdropped) as has_org
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
            order by 1
            """
        ).fetchall()
    tables = {name: "organization_id" for name, has_org in rows if has_org}
    tables["organizations"] = "id"
    unclassified = {name for name, has_org in rows if not has_org} - NOT_TENANT_TABLES - {"organizations"}
    assert not unclassified, (
        f"public tables {sorted(unclassified)} have no organization_id: give them one (tenant data) "
        "or list them in NOT_TENANT_TABLES with the reason"
    )
    return tables


@pytest.fixture
async def world(db: Database, db_url: str) -> tuple[Tenant, Tenant, dict[str, str]]:
    """Two organisations with rows in every tenant table."""
    a, b = await make_tenant(db, "Alpha"), await make_tenant(db, "Beta")
    ring = sec.KeyRing.parse(new_key_entry("iso"))
    calls = []
    for t, number in ((a, "+14155550901"), (b, "+14155550902")):
        async with db.as_service() as conn:
            providers = await _platform_ids(conn)
            agent = await _agent_and_configs(conn, t.org_id, "Org", number, "retell", {"retell": 50, "vapi": 50}, providers)
            await sec.put_secret(conn, t.org_id, "retell", {"api_key": f"sk-{t.org_id.hex}"}, ring=ring)
            await conn.execute(  # a remaining-quota reading (its unit is one of a few words)
                "insert into vendor_quotas (organization_id, vendor, remaining, unit) values (%s, 'elevenlabs', 1000, 'characters')",
                (t.org_id,),
            )
            await conn.execute(
                "insert into webhook_inbox (provider, event_id, event_type, organization_id, body) values ('retell', %s, 'call_ended', %s, %s)",
                (f"evt-{t.org_id}", t.org_id, b"{}"),
            )
            conversation = (await (await conn.execute(  # a text conversation and its first turn
                "insert into conversations (organization_id, agent_config_id, provider_id) values (%s, %s, %s) returning id",
                (t.org_id, agent, providers["livekit"]))).fetchone())["id"]
            await conn.execute("insert into conversation_turns (organization_id, conversation_id, seq, reply_text, latency_ms) "
                               "values (%s, %s, 0, 'Hello', 1.5)", (t.org_id, conversation))
            # A second agent: its versions (and their runs) stay when a test clears the other's
            # versions (unique per agent).
            spare = (await (await conn.execute("insert into agent_configs (organization_id, name) values (%s, 'Spare agent') "
                                               "returning id", (t.org_id,))).fetchone())["id"]
            await conn.execute("insert into phone_numbers (organization_id, agent_config_id, e164) values (%s, %s, %s)",
                               (t.org_id, spare, number[:-2] + "9" + number[-1]))
            for owner in (agent, spare):  # on both agents: whichever agent's versions a test clears, one run stays
                scenario = (await (await conn.execute(  # a scenario, a run of it and its result (issue #16)
                    "insert into scenarios (organization_id, agent_config_id, name, definition) "
                    "values (%s, %s, 'Greets', '{}') returning id", (t.org_id, owner))).fetchone())["id"]
                run = (await (await conn.execute(
                    "insert into scenario_runs (organization_id, agent_config_id, agent_version_id, platforms, total) "
                    "select %s, %s, live_version_id, '{livekit}', 1 from agent_configs where id = %s returning id",
                    (t.org_id, owner, owner))).fetchone())["id"]
                await conn.execute("insert into scenario_results (organization_id, run_id, scenario_id, scenario_name, platform, "
                                   "conversation_id, outcome) values (%s, %s, %s, 'Greets', 'livekit', %s, 'passed')",
                                   (t.org_id, run, scenario, conversation))
                await conn.execute("insert into scenario_slots (organization_id, run_id, runner_token) "
                                   "values (%s, %s, gen_random_uuid())", (t.org_id, run))
        async with db.as_user(t.admin) as conn:  # an invitation: its checks are not a generic row's
            await invitations.create_invitation(conn, t.org_id, f"invitee@{t.org_id.hex}.test", "member")
            await do_not_call.add_number(conn, t.org_id, t.admin.sub, number)
        calls.append((DemoTenant(t.org_id, t.owner.sub, t.owner, agent, number), 8))
    await replace_calls(db, calls, seed=3)
    tables = tenant_tables(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        for table, col in tables.items():
            for t in (a, b):
                if not _count(conn, table, col, t.org_id):
                    _generic_row(conn, table, t.org_id)
    return a, b, tables


def _count(conn: psycopg.Connection, table: str, col: str, org: UUID) -> int:
    q = sql.SQL("select count(*) from public.{} where {} = %s").format(sql.Identifier(table), sql.Identifier(col))
    return conn.execute(q, (org,)).fetchone()[0]


def _generic_row(conn: psycopg.Connection, table: str, org: UUID) -> None:
    """A row for a tenant table this file has no fixture for: required columns filled by type,
    foreign keys pointing at the same organisation's rows."""
    cols = conn.execute(
        """
        select a.attname, format_type(a.atttypid, a.atttypmod), t.typtype,
               (select cl.relname from pg_constraint k join pg_class cl on cl.oid = k.confrelid
                where k.conrelid = a.attrelid and k.contype = 'f' and a.attnum = any(k.conkey) limit 1) as ref
        from pg_attribute a join pg_type t on t.oid = a.atttypid
        where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped and a.attnotnull
          and not a.atthasdef and a.attidentity = ''
        """,
        (f"public.{table}",),
    ).fetchall()
    values: dict[str, object] = {}
    for name, typ, typtype, ref in cols:
        if name == "organization_id":
            values[name] = org
        elif ref:
            has_org = conn.execute("select 1 from pg_attribute where attrelid = %s::regclass and attname = 'organization_id'",
                                   (ref,)).fetchone()
            where = sql.SQL(" where organization_id = %s") if has_org else sql.SQL("")
            row = conn.execute(sql.SQL("select id from {}").format(sql.Identifier(ref)) + where + sql.SQL(" limit 1"),
                               (org,) if has_org else None).fetchone()
            values[name] = row[0] if row else None
        elif typtype == "e":
            values[name] = conn.execute(f"select (enum_range(null::{typ}))[1]::text").fetchone()[0]
        elif typ.startswith(("integer", "bigint", "smallint", "numeric", "double", "real")):
            values[name] = 1
        elif typ == "boolean":
            values[name] = False
        elif typ in ("jsonb", "json"):
            values[name] = json.dumps({})
        elif typ.startswith("timestamp") or typ == "date":
            values[name] = "2026-11-01"
        elif typ == "bytea":
            values[name] = b"\x00"
        elif typ == "uuid":
            values[name] = org
        elif typ.endswith("[]"):
            values[name] = "{}"
        else:
            values[name] = "isolation-test"
    try:
        conn.execute(
            sql.SQL("insert into public.{} ({}) values ({})").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, values)),
                sql.SQL(", ").join(sql.Placeholder() * len(values))),
            list(values.values()),
        )
    except psycopg.Error as exc:
        pytest.fail(f"cannot make a test row for new tenant table {table} ({exc.diag.message_primary}): "
                    f"add its rows to the `world` fixture in {__file__}")


async def _sqlstate_or_rows(db: Database, claims, statement, params) -> tuple[str | None, int]:
    try:
        async with db.as_user(claims) as conn:
            cur = await conn.execute(statement, params)
            return None, cur.rowcount
    except psycopg.Error as exc:
        return exc.sqlstate, 0


@pytest.mark.parametrize("role", ["owner", "member"])
async def test_no_member_of_a_reaches_b_in_any_tenant_table(db: Database, db_url: str, world, role: str) -> None:
    a, b, tables = world
    who = getattr(a, role)
    assert len(tables) >= 11  # the foundation's tenant tables at least
    with psycopg.connect(db_url) as conn:
        own_rows = {t: _count(conn, t, c, a.org_id) for t, c in tables.items()}
        b_rows = {t: _count(conn, t, c, b.org_id) for t, c in tables.items()}
        full = {t: conn.execute(sql.SQL("select to_jsonb(x) from public.{} x where {} = %s limit 1").format(
            sql.Identifier(t), sql.Identifier(c)), (a.org_id,)).fetchone()[0] for t, c in tables.items()}
        writable = {t: [r[0] for r in conn.execute(
            "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 and not attisdropped "
            "and attidentity <> 'a' and attgenerated = '' order by attnum", (f"public.{t}",))] for t in tables}
    assert all(n > 0 for n in b_rows.values()), b_rows  # B really has rows everywhere
    failures = []
    for table, col in tables.items():
        t, c = sql.Identifier(table), sql.Identifier(col)
        # read
        async with db.as_user(who) as conn:
            seen = (await (await conn.execute(sql.SQL("select count(*) as n from public.{} where {} = %s").format(t, c),
                                              (b.org_id,))).fetchone())["n"]
            seen_all = (await (await conn.execute(sql.SQL("select count(*) as n from public.{}").format(t))).fetchone())["n"]
        if seen:
            failures.append(f"{table}: read {seen} of B's rows")
        if seen_all > own_rows[table] + (1 if table == "organizations" else 0):
            failures.append(f"{table}: sees {seen_all} rows, A has {own_rows[table]}")
        # update B's rows in place, and move A's rows into B
        state, n = await _sqlstate_or_rows(db, who, sql.SQL("update public.{} set {} = {} where {} = %s").format(t, c, c, c), (b.org_id,))
        if n or state not in (None, "42501"):
            failures.append(f"{table}: update of B's rows -> {n} rows, sqlstate {state}")
        if col == "organization_id":
            state, n = await _sqlstate_or_rows(db, who, sql.SQL("update public.{} set {} = %s where {} = %s").format(t, c, c),
                                               (b.org_id, a.org_id))
            if n or state not in (None, "42501"):
                failures.append(f"{table}: moving A's rows to B -> {n} rows, sqlstate {state}")
        # delete
        state, n = await _sqlstate_or_rows(db, who, sql.SQL("delete from public.{} where {} = %s").format(t, c), (b.org_id,))
        if n or state not in (None, "42501"):
            failures.append(f"{table}: delete of B's rows -> {n} rows, sqlstate {state}")
        # insert a copy of one of A's rows, relabelled as B's: RLS must refuse it (42501)
        row = dict(full[table])
        row[col] = str(b.org_id)
        state, n = await _sqlstate_or_rows(
            db, who, sql.SQL("insert into public.{} ({}) select {} from jsonb_populate_record(null::public.{}, %s)").format(
                t, sql.SQL(", ").join(map(sql.Identifier, writable[table])),
                sql.SQL(", ").join(map(sql.Identifier, writable[table])), t),
            (json.dumps(row),),
        )
        if state != "42501":
            failures.append(f"{table}: insert of a row for B -> {n} rows, sqlstate {state} (want 42501)")
    with psycopg.connect(db_url) as conn:
        after = {t: _count(conn, t, c, b.org_id) for t, c in tables.items()}
    assert after == b_rows, "B's rows changed"
    assert not failures, "\n".join(failures)


async def test_anon_sees_nothing_and_service_role_sees_everything(db: Database, db_url: str, world) -> None:
    a, b, tables = world
    with psycopg.connect(db_url) as conn:
        totals = {t: conn.execute(sql.SQL("select count(*) from public.{}").format(sql.Identifier(t))).fetchone()[0]
                  for t in tables}
    for table in tables:
        q = sql.SQL("select count(*) as n from public.{}").format(sql.Identifier(table))
        try:
            async with db.as_anon() as conn:
                anon_n = (await (await conn.execute(q)).fetchone())["n"]
        except psycopg.errors.InsufficientPrivilege:
            anon_n = 0
        assert anon_n == 0, f"anon reads {anon_n} rows of {table}"
        state, n = await _sqlstate_or_rows_anon(db, sql.SQL("delete from public.{}").format(sql.Identifier(table)))
        assert n == 0 and state in (None, "42501"), f"anon deletes from {table}: {n} rows, {state}"
        async with db.as_service() as conn:
            assert (await (await conn.execute(q)).fetchone())["n"] == totals[table] > 0, table


async def _sqlstate_or_rows_anon(db: Database, statement) -> tuple[str | None, int]:
    try:
        async with db.as_anon() as conn:
            cur = await conn.execute(statement)
            n = cur.rowcount
            raise _Rollback(n)
    except _Rollback as r:
        return None, r.n
    except psycopg.Error as exc:
        return exc.sqlstate, 0


class _Rollback(Exception):
    def __init__(self, n: int) -> None:
        self.n = n


async def test_a_plain_member_cannot_write_secrets_even_of_their_own_organisation(db: Database, world) -> None:
    a, _b, _ = world
    for statement, params in (
        ("insert into organization_secrets (organization_id, vendor, key_id, nonce, ciphertext) values (%s, 'vapi', 'k', '\\x00', '\\x00')", (a.org_id,)),
        ("update organization_secrets set vendor = vendor where organization_id = %s", (a.org_id,)),
        ("delete from organization_secrets where organization_id = %s", (a.org_id,)),
        ("select * from organization_secrets where organization_id = %s", (a.org_id,)),
    ):
        state, n = await _sqlstate_or_rows(db, a.member, statement, params)
        assert n == 0 and state in (None, "42501"), (statement, n, state)
    # while the admin of the same organisation can
    state, n = await _sqlstate_or_rows(db, a.admin, "update organization_secrets set vendor = vendor where organization_id = %s", (a.org_id,))
    assert (state, n) == (None, 1)
