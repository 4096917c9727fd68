"""Apply `supabase/migrations/*.sql` in order, recording each version in
`supabase_migrations.schema_migrations` exactly where the Supabase CLI records it, so the CLI
and this runner agree on what is applied. On plain Postgres the local shim
(`supabase/local/auth_shim.sql`) is applied first; on a Supabase project it is not needed.
After the migrations, the STT/TTS/LLM catalog definitions are synced into the database."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from switchboard.settings import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "supabase" / "migrations"
SHIM_FILE = PROJECT_ROOT / "supabase" / "local" / "auth_shim.sql"
_NAME = re.compile(r"^(\d{14})_(.+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()


def migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise ValueError(f"{path.name}: migration files are named <14-digit timestamp>_<name>.sql")
        found.append(Migration(m.group(1), m.group(2), path))
    return found


def is_hosted_supabase(conn: psycopg.Connection) -> bool:
    return conn.execute("select exists(select 1 from pg_roles where rolname = 'supabase_auth_admin')").fetchone()[0]


def apply_shim(conn: psycopg.Connection) -> bool:
    if is_hosted_supabase(conn):
        return False
    conn.execute(SHIM_FILE.read_text())
    return True


def _ensure_history(conn: psycopg.Connection) -> None:
    conn.execute(
        """
        create schema if not exists supabase_migrations;
        create table if not exists supabase_migrations.schema_migrations (
          version text not null primary key, statements text[], name text);
        """
    )


def applied_versions(conn: psycopg.Connection) -> set[str]:
    _ensure_history(conn)
    return {r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations")}


def migrate(url: str, *, on_apply: Callable[[Migration], None] | None = None) -> list[Migration]:
    """Apply what is pending; returns the migrations applied now. Each migration runs in its own
    transaction together with its history row, so a failure leaves nothing half-applied. (The
    STT/TTS/LLM catalog is synced by the `db migrate` command after this: `catalog.sync_catalog_at`.)"""
    done: list[Migration] = []
    with psycopg.connect(url, autocommit=True) as conn:
        # One runner at a time (make run and a test may race on a fresh cluster).
        conn.execute("select pg_advisory_lock(727001)")
        try:
            apply_shim(conn)
            applied = applied_versions(conn)
            for m in migrations():
                if m.version in applied:
                    continue
                with conn.transaction():
                    conn.execute(m.sql)
                    conn.execute(
                        "insert into supabase_migrations.schema_migrations (version, statements, name) values (%s, %s, %s)",
                        (m.version, [m.sql], m.name),
                    )
                done.append(m)
                if on_apply:
                    on_apply(m)
        finally:
            conn.execute("select pg_advisory_unlock(727001)")
    return done


def status(url: str) -> list[tuple[Migration, bool]]:
    with psycopg.connect(url, autocommit=True) as conn:
        applied = applied_versions(conn)
    return [(m, m.version in applied) for m in migrations()]
