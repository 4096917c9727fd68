"""The migrations apply to plain Postgres through our runner, record their versions where the
Supabase CLI does, and are idempotent."""

import psycopg

from switchboard.db.migrate import migrate, migrations, status


def test_every_migration_is_recorded_like_the_supabase_cli(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        versions = [r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations order by 1")]
    assert versions == [m.version for m in migrations()]
    assert all(applied for _, applied in status(db_url))


def test_running_again_applies_nothing(db_url: str) -> None:
    assert migrate(db_url) == []


def test_every_public_table_has_row_level_security(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity"
        ).fetchall()
    assert rows == []


def test_platforms_are_seeded_with_prices(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        codes = {r[0]: r[1] for r in conn.execute("select code, cost_per_minute from voice_ai_providers")}
        subjects = {r[0] for r in conn.execute("select distinct subject from price_book")}
    assert set(codes) == {"retell", "livekit", "vapi", "signalwire"}
    assert all(v is not None and v > 0 for v in codes.values())
    assert {"retell", "livekit", "vapi", "signalwire", "openai-llm", "cartesia-tts"} <= subjects
