"""Tenancy that holds by construction, one test per attack class of the outside review (issue
#11, point 4). Every tenant is a possible attacker; each test acts as one, for real, through the
same roles and JWT claims the API uses, and the database itself must refuse.

* Ownership take-over: an admin cannot make themselves (or anyone) owner, nor demote or remove
  an owner; only owners grant or take ownership, judged on the caller's role before the
  statement; an organisation keeps an owner.
* Cross-tenant references: no row can point at another organisation's row, for every foreign
  key between tenant tables found in the catalog, whoever writes it (a tenant, or a trusted
  path handed a forged id); and the lookups that cross tables never follow one that an older
  database may still hold.
* Security-definer functions: nobody outside the allowlist can call them; the A/B rollup in
  particular is written only by its triggers.
"""

from __future__ import annotations

from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import sql

from switchboard import orgs
from switchboard.db import Database
from switchboard.db.local import LocalCluster
from switchboard.db.migrate import apply_shim, applied_versions, migrate, migrations
from switchboard.inbound import lookup_number
from tests.foundation.conftest import Tenant, make_tenant, make_user
from tests.foundation.test_isolation import world  # noqa: F401  (fixture: rows of A and B in every tenant table)

from .test_catalog_privileges import EXECUTABLE


async def _outcome(db: Database, claims, statement, params=None) -> tuple[str | None, int]:
    """(sqlstate or None, rows affected) of one statement in its own transaction as `claims`
    (None: service_role)."""
    scope = db.as_service() if claims is None else db.as_user(claims)
    try:
        async with scope as conn:
            cur = await conn.execute(statement, params)
            return None, cur.rowcount
    except psycopg.Error as exc:
        return exc.sqlstate, 0


def _roles(url: str, org: UUID) -> dict[UUID, str]:
    with psycopg.connect(url) as conn:
        return {u: r for u, r in conn.execute(
            "select user_id, role::text from public.memberships where organization_id = %s", (org,))}


@pytest.fixture
async def tenant(db: Database) -> Tenant:
    return await make_tenant(db, "Alpha")


# ---------------------------------------------------------------------------------------------
# Ownership take-over
# ---------------------------------------------------------------------------------------------

async def test_admin_cannot_promote_self_to_owner(db: Database, db_url: str, tenant: Tenant) -> None:
    """The review's take-over: the admin makes themselves owner, then demotes the real owner."""
    a = tenant
    before = _roles(db_url, a.org_id)
    state, _ = await _outcome(db, a.admin, "update public.memberships set role = 'owner' "
                                           "where organization_id = %s and user_id = %s", (a.org_id, a.admin.sub))
    assert state == "42501", f"admin promoted themselves to owner (sqlstate {state})"
    state, _ = await _outcome(db, a.admin, "update public.memberships set role = 'member' "
                                           "where organization_id = %s and user_id = %s", (a.org_id, a.owner.sub))
    assert state == "42501"
    # the same in one statement, and the upsert spelling of it
    state, _ = await _outcome(db, a.admin, "update public.memberships set role = case when user_id = %s then 'owner' "
                                           "else 'member' end::public.member_role where organization_id = %s",
                              (a.admin.sub, a.org_id))
    assert state == "42501"
    state, _ = await _outcome(db, a.admin, "insert into public.memberships (organization_id, user_id, role) "
                                           "values (%s, %s, 'owner') on conflict (organization_id, user_id) "
                                           "do update set role = 'owner'", (a.org_id, a.admin.sub))
    assert state == "42501"
    assert _roles(db_url, a.org_id) == before


async def test_admin_cannot_promote_self_in_a_statement_touching_many_rows(db: Database, db_url: str,
                                                                           tenant: Tenant) -> None:
    """Whatever order Postgres visits the rows in, no row may see the caller's new role."""
    a = tenant
    before = _roles(db_url, a.org_id)
    state, _ = await _outcome(db, a.admin, "update public.memberships set role = 'owner' where organization_id = %s",
                              (a.org_id,))
    assert state == "42501"
    assert _roles(db_url, a.org_id) == before


async def test_admin_cannot_grant_or_take_ownership(db: Database, db_url: str, tenant: Tenant) -> None:
    a = tenant
    newbie = await make_user(db, f"newbie-{uuid4().hex[:6]}@alpha.test")
    before = _roles(db_url, a.org_id)
    attempts = [
        ("update public.memberships set role = 'owner' where organization_id = %s and user_id = %s", (a.org_id, a.member.sub)),
        ("update public.memberships set role = 'admin' where organization_id = %s and user_id = %s", (a.org_id, a.owner.sub)),
        ("delete from public.memberships where organization_id = %s and user_id = %s", (a.org_id, a.owner.sub)),
        ("insert into public.memberships (organization_id, user_id, role) values (%s, %s, 'owner')", (a.org_id, newbie.sub)),
        ("select public.add_organization_member(%s, %s, 'owner')", (a.org_id, newbie.email)),
        # moving the owner's row onto someone else
        ("update public.memberships set user_id = %s where organization_id = %s and user_id = %s",
         (newbie.sub, a.org_id, a.owner.sub)),
    ]
    for statement, params in attempts:
        state, _ = await _outcome(db, a.admin, statement, params)
        assert state == "42501", (statement, state)
    assert _roles(db_url, a.org_id) == before
    # what admins may still do: manage non-owners
    async with db.as_user(a.admin) as conn:
        await orgs.add_member(conn, a.org_id, newbie.email, "admin")
        await orgs.set_member_role(conn, a.org_id, newbie.sub, "member")
        await orgs.remove_member(conn, a.org_id, newbie.sub)


async def test_owner_grants_ownership_and_an_organisation_keeps_an_owner(db: Database, db_url: str,
                                                                         tenant: Tenant) -> None:
    a = tenant
    async with db.as_user(a.owner) as conn:
        await orgs.set_member_role(conn, a.org_id, a.admin.sub, "owner")
    async with db.as_user(a.admin) as conn:  # now an owner: may grant and take ownership
        await orgs.set_member_role(conn, a.org_id, a.member.sub, "owner")
        await orgs.set_member_role(conn, a.org_id, a.owner.sub, "admin")
    # three owners at once can neither be demoted nor removed in one statement
    async with db.as_user(a.member) as conn:
        await orgs.set_member_role(conn, a.org_id, a.owner.sub, "owner")
    for statement in ("update public.memberships set role = 'admin' where organization_id = %s",
                      "delete from public.memberships where organization_id = %s"):
        state, _ = await _outcome(db, a.member, statement, (a.org_id,))
        assert state == "23514", (statement, state)
        state, _ = await _outcome(db, None, statement, (a.org_id,))  # trusted paths too
        assert state == "23514", (statement, state)
    # an owner steps down while another remains
    async with db.as_user(a.member) as conn:
        await orgs.set_member_role(conn, a.org_id, a.member.sub, "admin")
    assert _roles(db_url, a.org_id) == {a.owner.sub: "owner", a.admin.sub: "owner", a.member.sub: "admin"}
    # deleting the organisation still takes its memberships with it
    state, n = await _outcome(db, a.owner, "delete from public.organizations where id = %s", (a.org_id,))
    assert (state, n) == (None, 1)
    assert _roles(db_url, a.org_id) == {}


async def test_creator_of_a_new_organisation_becomes_its_owner(db: Database, db_url: str) -> None:
    user = await make_user(db, f"founder-{uuid4().hex[:6]}@new.test")
    async with db.as_user(user) as conn:
        org = await orgs.create_organization(conn, "Fresh")
    assert _roles(db_url, org.id) == {user.sub: "owner"}


# ---------------------------------------------------------------------------------------------
# Cross-tenant references
# ---------------------------------------------------------------------------------------------

def tenant_references(url: str) -> list[tuple[str, str, str, str]]:
    """(table, column, referenced table, referenced column) of every foreign key between two
    tenant tables (both having organization_id; references to organizations itself excluded),
    without the organization_id pair of a composite key."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            """
            select c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname
            from pg_constraint c
            cross join lateral unnest(c.conkey, c.confkey) as k(col, refcol)
            join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.col
            join pg_attribute af on af.attrelid = c.confrelid and af.attnum = k.refcol
            where c.contype = 'f' and c.connamespace = 'public'::regnamespace
              and c.confrelid <> 'public.organizations'::regclass
              and exists (select 1 from pg_attribute x where x.attrelid = c.conrelid and x.attname = 'organization_id' and not x.attisdropped)
              and exists (select 1 from pg_attribute x where x.attrelid = c.confrelid and x.attname = 'organization_id' and not x.attisdropped)
              and not (a.attname = 'organization_id' and af.attname = 'organization_id')
            order by 1, 2
            """
        ).fetchall()


def _key_columns(conn: psycopg.Connection, table: str) -> list[str]:
    """The primary key's columns, else the first unique constraint's."""
    rows = conn.execute(
        """
        select array_agg(a.attname order by k.ord) from pg_constraint c
        cross join lateral unnest(c.conkey) with ordinality as k(col, ord)
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.col
        where c.conrelid = %s::regclass and c.contype in ('p', 'u')
        group by c.oid, c.contype order by c.contype = 'p' desc limit 1
        """,
        (table,),
    ).fetchone()
    assert rows, f"{table} has no key to address its rows by"
    return rows[0]


async def test_cross_tenant_reference_refused_for_every_tenant_fk(db: Database, db_url: str, world) -> None:  # noqa: F811
    """For every reference between tenant tables: tenant A cannot point one of its rows at B's
    row (nor can a trusted path handed B's id), and a referenced row cannot be moved to another
    organisation from under the rows pointing at it."""
    a, b, _tables = world
    refs = tenant_references(db_url)
    assert {("phone_numbers", "agent_config_id"), ("provider_configs", "agent_config_id"),
            ("call_records", "agent_config_id"), ("provider_usage", "call_id")} <= {r[:2] for r in refs}
    failures = []
    for table, col, ref_table, ref_col in refs:
        with psycopg.connect(db_url, autocommit=True) as conn:
            keys = _key_columns(conn, table)
            target = conn.execute(sql.SQL("select {} from {} where organization_id = %s limit 1").format(
                sql.Identifier(ref_col), sql.SQL(ref_table)), (b.org_id,)).fetchone()
            assert target, f"B has no row in {ref_table}"
            target = target[0]
            # B's own rows pointing at the target would make a unique key refuse first: remove them.
            uniq = conn.execute(
                "select exists (select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
                "and a.attnum = any(i.indkey) where i.indrelid = %s::regclass and i.indisunique and a.attname = %s)",
                (table, col)).fetchone()[0]
            if uniq:
                conn.execute(sql.SQL("delete from {} where {} = %s").format(sql.SQL(table), sql.Identifier(col)), (target,))
            victim = conn.execute(sql.SQL("select {} from {} where organization_id = %s limit 1").format(
                sql.SQL(", ").join(map(sql.Identifier, keys)), sql.SQL(table)), (a.org_id,)).fetchone()
            assert victim, f"A has no row in {table}"
        where = sql.SQL(" and ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in keys)
        point = sql.SQL("update {} set {} = %s where organization_id = %s and ").format(
            sql.SQL(table), sql.Identifier(col)) + where
        params = (target, a.org_id, *victim)
        state, n = await _outcome(db, a.owner, point, params)
        who = "tenant A"
        if state == "42501" or (state is None and n == 0):  # A may not write this table at all:
            who = "service_role"                           # a trusted path handed B's id then
            state, n = await _outcome(db, None, point, params)
        if state != "23503":
            failures.append(f"{who} pointed {table}.{col} at B's {ref_table} row: sqlstate {state}, {n} rows")
        # A's referenced row, moved to B by a trusted path, would leave A's references pointing into B
        with psycopg.connect(db_url) as conn:
            held = conn.execute(sql.SQL("select {} from {} where organization_id = %s and {} is not null limit 1").format(
                sql.Identifier(col), sql.SQL(table), sql.Identifier(col)), (a.org_id,)).fetchone()
        if held:
            move = sql.SQL("update {} set organization_id = %s where {} = %s").format(sql.SQL(ref_table), sql.Identifier(ref_col))
            state, n = await _outcome(db, None, move, (b.org_id, held[0]))
            if state != "23503":
                failures.append(f"service_role moved {ref_table} row referenced by A's {table} to B: sqlstate {state}, {n} rows")
    with psycopg.connect(db_url) as conn:
        for table, col, ref_table, ref_col in refs:
            crossed = conn.execute(sql.SQL(
                "select count(*) from {} t join {} r on r.{} = t.{} where r.organization_id <> t.organization_id").format(
                sql.SQL(table), sql.SQL(ref_table), sql.Identifier(ref_col), sql.Identifier(col))).fetchone()[0]
            if crossed:
                failures.append(f"{crossed} rows of {table} point at another organisation's {ref_table}")
    assert not failures, "\n".join(failures)


async def test_tenant_cannot_insert_rows_pointing_at_another_orgs_agent(db: Database, world) -> None:  # noqa: F811
    """The review's probe: A inserts a phone number (and a platform config) naming B's agent."""
    a, b, _ = world
    async with db.as_service() as conn:
        b_agent = (await (await conn.execute("select id from agent_configs where organization_id = %s limit 1",
                                             (b.org_id,))).fetchone())["id"]
        vapi = (await (await conn.execute("select id from voice_ai_providers where code = 'vapi'")).fetchone())["id"]
        await conn.execute("delete from provider_configs where agent_config_id = %s and provider_id = %s", (b_agent, vapi))
    for who in (a.owner, a.member):
        state, _ = await _outcome(db, who, "insert into public.phone_numbers (organization_id, agent_config_id, e164) "
                                           "values (%s, %s, '+14155550977')", (a.org_id, b_agent))
        assert state == "23503", state
        state, _ = await _outcome(db, who, "insert into public.provider_configs (organization_id, agent_config_id, provider_id) "
                                           "values (%s, %s, %s)", (a.org_id, b_agent, vapi))
        assert state == "23503", state


THIS_MIGRATION = "20261203000100"


def test_upgrade_repairs_cross_tenant_rows_an_attacked_database_holds(pg_cluster: LocalCluster) -> None:
    """A hosted database that already suffered the attack: the migration clears a nullable
    reference into another organisation and drops a row that cannot exist without one, then
    the keys hold."""
    name = "sbup_" + uuid4().hex[:12]
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute(f"create database {name}")
    url = pg_cluster.url(name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            apply_shim(conn)
            applied_versions(conn)  # the history table
            for m in migrations():
                if m.version < THIS_MIGRATION:
                    with conn.transaction():
                        conn.execute(m.sql)
                        conn.execute("insert into supabase_migrations.schema_migrations (version, name) values (%s, %s)",
                                     (m.version, m.name))
            a, b = (conn.execute("insert into organizations (name) values (%s) returning id", (n,)).fetchone()[0]
                    for n in ("A", "B"))
            a_agent, b_agent = (conn.execute("insert into agent_configs (organization_id) values (%s) returning id",
                                             (o,)).fetchone()[0] for o in (a, b))
            vapi = conn.execute("select id from voice_ai_providers where code = 'vapi'").fetchone()[0]
            conn.execute("insert into phone_numbers (organization_id, agent_config_id, e164) values (%s, %s, '+14155550979'),"
                         " (%s, %s, '+14155550980')", (a, b_agent, a, a_agent))
            conn.execute("insert into provider_configs (organization_id, agent_config_id, provider_id) values (%s, %s, %s)",
                         (a, b_agent, vapi))
        assert THIS_MIGRATION in [m.version for m in migrate(url)]
        with psycopg.connect(url) as conn:
            numbers = dict(conn.execute("select e164, agent_config_id from phone_numbers").fetchall())
            assert numbers == {"+14155550979": None, "+14155550980": a_agent}
            assert conn.execute("select count(*) from provider_configs where organization_id = %s", (a,)).fetchone()[0] == 0
            assert conn.execute("select count(*) from agent_configs").fetchone()[0] == 2
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                conn.execute("update phone_numbers set agent_config_id = %s where e164 = '+14155550979'", (b_agent,))
    finally:
        with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")


def _plant_cross_tenant_rows(url: str, statements: list[tuple[str, tuple]]) -> None:
    """Rows an older database may hold from before the constraints: written past them."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set session_replication_role = replica")  # no foreign key triggers
        for statement, params in statements:
            conn.execute(statement, params)


async def test_number_lookup_never_returns_another_orgs_agent(db: Database, db_url: str, world) -> None:  # noqa: F811
    """A's number pointing at B's agent must not answer with B's prompt (nor B's platform agent
    ids), and B's platform config on A's agent must not reach A's calls."""
    a, b, _ = world
    with psycopg.connect(db_url) as conn:
        b_agent = conn.execute("select id from agent_configs where organization_id = %s limit 1",
                                         (b.org_id,)).fetchone()[0]
        a_agent = conn.execute("select id from agent_configs where organization_id = %s limit 1", (a.org_id,)).fetchone()[0]
        a_number = conn.execute("select e164 from phone_numbers where agent_config_id = %s", (a_agent,)).fetchone()[0]
        vapi = conn.execute("select id from voice_ai_providers where code = 'vapi'").fetchone()[0]
    secret = f"prompt-of-b-{uuid4().hex[:6]}"
    _plant_cross_tenant_rows(db_url, [
        # (the demo agents' tools are not AgentSpec's today; the lookup reads the spec)
        ("update agent_configs set tools = '[]' where id in (%s, %s)", (a_agent, b_agent)),
        ("update agent_configs set prompt = %s where id = %s", (secret, b_agent)),
        ("insert into phone_numbers (organization_id, agent_config_id, e164) values (%s, %s, '+14155550978')",
         (a.org_id, b_agent)),
        ("delete from provider_configs where agent_config_id = %s and provider_id = %s", (a_agent, vapi)),
        ("insert into provider_configs (organization_id, agent_config_id, provider_id, agent_id) values (%s, %s, %s, 'b-vapi-agent')",
         (b.org_id, a_agent, vapi)),
    ])
    async with db.as_service() as conn:
        crossed = await lookup_number(conn, "+14155550978")
        own = await lookup_number(conn, a_number)
    assert crossed is None or (crossed.organization_id == a.org_id and crossed.agent_config_id != b_agent), crossed
    assert crossed is None or secret not in crossed.spec.prompt
    assert own is not None and own.organization_id == a.org_id and own.agent_config_id == a_agent
    assert "vapi" not in own.refs, own.refs  # B's config on A's agent is not A's
    assert secret not in own.spec.prompt


# ---------------------------------------------------------------------------------------------
# Security-definer functions
# ---------------------------------------------------------------------------------------------

# (role, "schema.function") the allowlist of the catalog test opens; everything else is refused.
DEFINER_CALLERS = {(role, fn.split("(")[0]) for role, fn in EXECUTABLE}


def definer_functions(url: str) -> list[tuple[str, str, list[str]]]:
    """(qualified name, identity arguments, argument types) of every security-definer function
    in the schemas the migrations own."""
    with psycopg.connect(url) as conn:
        return [(f"{r[0]}.{r[1]}", r[2], [t for t in r[3]]) for r in conn.execute(
            """
            select n.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
                   array(select format_type(t, null) from unnest(p.proargtypes) t)
            from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where p.prosecdef and n.nspname in ('public', 'private')
              and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
            order by 1, 2
            """
        )]


async def test_anon_cannot_execute_definer_functions(db: Database, db_url: str, tenant: Tenant) -> None:
    """Each definer function called for real, with NULL arguments, as anon and as a signed-in
    user: refused with 42501 unless the allowlist says that role calls it."""
    functions = definer_functions(db_url)
    assert any(name == "private.experiment_bump" for name, _, _ in functions)
    failures = []
    for name, _args, types in functions:
        schema, fn = name.split(".")
        call = sql.SQL("select {}.{}({})").format(sql.Identifier(schema), sql.Identifier(fn), sql.SQL(", ").join(
            sql.SQL("null::") + sql.SQL(t) for t in types))
        for role, claims in (("anon", "anon"), ("authenticated", tenant.member)):
            if (role, name) in DEFINER_CALLERS:
                continue
            if claims == "anon":
                try:
                    async with db.as_anon() as conn:
                        await conn.execute(call)
                    state = None
                except psycopg.Error as exc:
                    state = exc.sqlstate
            else:
                state, _ = await _outcome(db, claims, call)
            if state != "42501":
                failures.append(f"{role} may execute {name}({_args}) (sqlstate {state})")
    assert not failures, "\n".join(failures)


async def test_tenant_cannot_write_another_orgs_ab_rollup(db: Database, db_url: str, world) -> None:  # noqa: F811
    """The review's probe: private.experiment_bump(<org B>, …) called directly."""
    a, b, _ = world
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("update call_records set experiment_arm = 'retell' where organization_id = %s", (b.org_id,))
        rollup = conn.execute("select to_jsonb(e) from experiment_daily e where organization_id = %s order by day, arm",
                              (b.org_id,)).fetchall()
    assert rollup  # B has an A/B rollup worth attacking, kept by the triggers
    bump = ("select private.experiment_bump(%s, current_date, null, 'retell', null, 1, 1000, 0, 0, 0, 0, 0, 0, 0, 0, "
            "-1000, 0, 0, 0)")
    state, _ = await _outcome(db, a.owner, bump, (b.org_id,))
    assert state == "42501", state
    try:
        async with db.as_anon() as conn:
            await conn.execute(bump, (b.org_id,))
        state = None
    except psycopg.Error as exc:
        state = exc.sqlstate
    assert state == "42501", state
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select to_jsonb(e) from experiment_daily e where organization_id = %s order by day, arm",
                            (b.org_id,)).fetchall() == rollup
        # and the triggers keep the rollup with the function closed to the API roles
        calls = conn.execute("select coalesce(sum(calls), 0) from experiment_daily where organization_id = %s",
                             (b.org_id,)).fetchone()[0]
        assert calls == conn.execute("select count(*) from call_records where organization_id = %s "
                                     "and started_at is not null", (b.org_id,)).fetchone()[0]


async def test_definer_functions_open_to_users_answer_only_for_their_organisations(db: Database, world) -> None:  # noqa: F811
    """The allowlisted definer functions check the caller themselves: B's members and B's
    roster stay out of A's reach."""
    a, b, _ = world
    async with db.as_user(a.owner) as conn:
        rows = await (await conn.execute("select * from public.organization_members(%s)", (b.org_id,))).fetchall()
    assert rows == []
    state, _ = await _outcome(db, a.owner, "select public.add_organization_member(%s, %s, 'member')",
                              (b.org_id, a.member.email))
    assert state == "42501", state
