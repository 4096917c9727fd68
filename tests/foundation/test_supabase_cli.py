"""The migrations apply with the real Supabase CLI (`supabase db push --db-url`, offline) to a
fresh database that has only what a hosted project has (the auth shim), and produce the same
schema as our runner; the two agree on what is applied."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from switchboard.db.local import LocalCluster
from switchboard.db.migrate import SHIM_FILE, migrate, migrations
from switchboard.settings import PROJECT_ROOT

SUPABASE = PROJECT_ROOT / "node_modules" / ".bin" / "supabase"

SCHEMA_QUERIES = {
    "tables": """select n.nspname, c.relname, c.relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 where c.relkind in ('r', 'p', 'v', 'm') and n.nspname in ('public', 'private', 'auth')""",
    "columns": """select table_schema, table_name, column_name, data_type, is_nullable, column_default
                  from information_schema.columns where table_schema in ('public', 'private')""",
    "policies": "select schemaname, tablename, policyname, cmd, roles::text, qual, with_check from pg_policies",
    "functions": """select n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.prosecdef
                    from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname in ('public', 'private')""",
    "triggers": "select tgrelid::regclass::text, tgname, tgenabled from pg_trigger where not tgisinternal",
    "indexes": "select schemaname, tablename, indexname, indexdef from pg_indexes where schemaname in ('public', 'private')",
    "grants": """select table_schema, table_name, grantee, privilege_type from information_schema.role_table_grants
                 where table_schema in ('public', 'private')""",
}


def _schema(url: str) -> dict[str, set[tuple]]:
    with psycopg.connect(url) as conn:
        return {k: set(conn.execute(q).fetchall()) for k, q in SCHEMA_QUERIES.items()}


def test_supabase_cli_db_push_applies_the_same_schema(pg_cluster: LocalCluster, db_url: str) -> None:
    if not SUPABASE.exists():
        pytest.fail(f"the Supabase CLI is missing at {SUPABASE}: run `npm ci` (make deps)")
    name = "sbcli_" + os.urandom(4).hex()
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute(f"create database {name}")
    url = pg_cluster.url(name)
    tmp_path = Path(tempfile.mkdtemp(prefix="sb-cli-"))
    try:
        with psycopg.connect(url, autocommit=True) as conn:  # what a hosted project already has
            conn.execute(SHIM_FILE.read_text())
        # A copy of the project's supabase/ folder so the CLI's scratch files stay out of the tree.
        work = tmp_path / "project"
        shutil.copytree(PROJECT_ROOT / "supabase" / "migrations", work / "supabase" / "migrations")
        env = {**os.environ, "DO_NOT_TRACK": "1", "SUPABASE_TELEMETRY_DISABLED": "1", "HOME": str(tmp_path)}
        proc = subprocess.run(
            [str(SUPABASE), "db", "push", "--db-url", url + "?sslmode=disable", "--include-all", "--yes",
             "--workdir", str(work)],
            capture_output=True, text=True, timeout=240, env=env,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "Finished supabase db push" in proc.stdout + proc.stderr
        with psycopg.connect(url) as conn:
            versions = [r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations order by 1")]
        assert versions == [m.version for m in migrations()]

        ours, theirs = _schema(db_url), _schema(url)
        for kind in SCHEMA_QUERIES:
            assert theirs[kind] == ours[kind], (kind, sorted(theirs[kind] ^ ours[kind])[:10])
        assert len(ours["policies"]) > 20 and len(ours["tables"]) > 15

        # our runner sees the CLI's history as its own: nothing left to apply
        assert migrate(url) == []
    finally:
        with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
        shutil.rmtree(tmp_path, ignore_errors=True)
