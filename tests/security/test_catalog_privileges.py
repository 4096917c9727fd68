"""The catalog, read as an attacker would: every function the API roles (`anon`,
`authenticated`) can execute, and every foreign key between tenant tables. Anything not on the
allowlists below, each entry with its reason, fails, so a new function starts closed and a new
reference starts inside its organisation — or this test says where it does not.

The `auth` schema is left out: it is GoTrue's (on a hosted project) or the local shim's, whose
`auth.uid()`, `auth.role()`, `auth.email()` and `auth.jwt()` every role calls by design."""

from __future__ import annotations

import psycopg

SCHEMAS = ("public", "private")

# (role, "schema.function(identity arguments)") → why that API role may execute it.
EXECUTABLE = {
    ("authenticated", "public.create_organization(p_name text)"): "sign-up and onboarding create an organisation",
    ("authenticated", "public.organization_members(p_org uuid)"): "the members page lists co-members (checks membership itself)",
    ("authenticated", "public.add_organization_member(p_org uuid, p_email text, p_role member_role)"):
        "admins add members by e-mail (checks the caller's role itself)",
    ("authenticated", "public.accept_invitation(p_token text)"):
        "an invitee joins: checks the token's hash, expiry, use and the caller's e-mail itself",
    ("authenticated", "private.call_transcript_matches(p_org uuid, p_query text, p_cap integer)"):
        "calls search by transcript words (GIN is not used under RLS); answers only for the caller's organisations",
    ("authenticated", "private.user_org_ids()"): "row-level security policies evaluate it as the caller",
    ("authenticated", "private.user_admin_org_ids()"): "row-level security policies evaluate it as the caller",
    ("authenticated", "private.user_owner_org_ids()"): "row-level security policies evaluate it as the caller",
}

# "table.column" → why it references a tenant table without organization_id. None today.
FOREIGN_KEYS_WITHOUT_ORGANIZATION: dict[str, str] = {}


def _functions(conn: psycopg.Connection) -> list[tuple[str, str, bool, list[str] | None]]:
    return conn.execute(
        """
        select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
               p.prorettype::regtype::text, p.prosecdef, p.proconfig
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = any(%s)
          and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
        order by 1
        """,
        (list(SCHEMAS),),
    ).fetchall()


def test_only_allowlisted_functions_are_executable_by_anon_or_authenticated(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """
            select r.role, n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
            from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            cross join unnest(array['anon', 'authenticated']) as r(role)
            where n.nspname = any(%s) and has_function_privilege(r.role, p.oid, 'execute')
              and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
            order by 1, 2
            """,
            (list(SCHEMAS),),
        ).fetchall()
    extra = [f"{role} may execute {fn}" for role, fn in rows if (role, fn) not in EXECUTABLE]
    assert not extra, ("functions open to the API roles beyond the allowlist (revoke them, or add them to "
                       "EXECUTABLE with the reason):\n" + "\n".join(extra))


def test_no_function_is_executable_by_public(db_url: str) -> None:
    """PUBLIC (every role, present and future) holds EXECUTE on none of our functions; a NULL
    ACL means Postgres' default, which is EXECUTE to PUBLIC."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """
            select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
            from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = any(%s)
              and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
              and (p.proacl is null or exists (select 1 from aclexplode(p.proacl) x
                                               where x.grantee = 0 and x.privilege_type = 'EXECUTE'))
            order by 1
            """,
            (list(SCHEMAS),),
        ).fetchall()
    assert not rows, "executable by PUBLIC: " + ", ".join(r[0] for r in rows)


def test_a_new_function_starts_closed(db_url: str) -> None:
    """Default privileges: a function a later migration creates (as the migrations' role) is
    executable by no API role until a migration grants it."""
    with psycopg.connect(db_url) as conn:
        for schema in SCHEMAS:
            conn.execute(f"create function {schema}.sb_probe_new_function() returns int language sql as 'select 1'")
            opened = conn.execute(
                """
                select r from unnest(array['anon', 'authenticated']) r
                where has_function_privilege(r, %(fn)s::regprocedure, 'execute')
                union all
                select 'PUBLIC' from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
                where p.oid = %(fn)s::regprocedure and x.grantee = 0
                """,
                {"fn": f"{schema}.sb_probe_new_function()"},
            ).fetchall()
            assert not opened, f"a new function in {schema} is executable by {[r[0] for r in opened]}"
        conn.rollback()


def test_every_security_definer_function_pins_its_search_path(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        loose = [fn for fn, _ret, definer, config in _functions(conn)
                 if definer and not any(c.startswith("search_path=") for c in (config or []))]
    assert not loose, f"security definer functions without `set search_path`: {loose}"


def test_every_foreign_key_between_tenant_tables_includes_organization_id(db_url: str) -> None:
    """A row can only point inside its own organisation: each key from a tenant table to another
    tenant table pairs organization_id with organization_id."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """
            select c.conrelid::regclass::text, c.conname, c.confrelid::regclass::text,
                   array(select a.attname from unnest(c.conkey) k join pg_attribute a
                         on a.attrelid = c.conrelid and a.attnum = k) as cols,
                   exists (select 1 from unnest(c.conkey, c.confkey) as k(col, refcol)
                           join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.col
                           join pg_attribute af on af.attrelid = c.confrelid and af.attnum = k.refcol
                           where a.attname = 'organization_id' and af.attname = 'organization_id') as paired
            from pg_constraint c
            where c.contype = 'f' and c.connamespace = any(%s::regnamespace[])
              and c.confrelid <> 'public.organizations'::regclass
              and exists (select 1 from pg_attribute x where x.attrelid = c.conrelid
                          and x.attname = 'organization_id' and not x.attisdropped)
              and exists (select 1 from pg_attribute x where x.attrelid = c.confrelid
                          and x.attname = 'organization_id' and not x.attisdropped)
            order by 1, 2
            """,
            (list(SCHEMAS),),
        ).fetchall()
    assert len(rows) >= 4, rows  # agents' configs, numbers and calls; calls' usage
    loose = [f"{t}.{','.join(cols)} → {ref} ({name})" for t, name, ref, cols, paired in rows
             if not paired and f"{t.removeprefix('public.')}.{','.join(cols)}" not in FOREIGN_KEYS_WITHOUT_ORGANIZATION]
    assert not loose, ("foreign keys between tenant tables without (organization_id, …) → (organization_id, id): "
                       + "; ".join(loose))
