"""Settings (safe local defaults, production refuses missing secrets) and `switchboard db`."""

from __future__ import annotations

import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from switchboard.db.local import LocalCluster, free_port
from switchboard.db.migrate import migrations
from switchboard.secrets import KeyRing
from switchboard.settings import ConfigurationError, Settings, reset_settings_cache

SECRET_VARS = ("DATABASE_URL", "ENCRYPTION_KEYS", "JWT_SECRET", "SWITCHBOARD_ENV")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # Not pytest's tmp_path: concurrent pytest sessions on the machine prune each other's
    # /tmp/pytest-of-<user>, which a running Postgres cluster does not survive.
    root = Path(tempfile.mkdtemp(prefix="sb-settings-"))
    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(root / "data"))
    monkeypatch.chdir(root)  # no developer .env
    yield root / "data"
    shutil.rmtree(root, ignore_errors=True)


def test_production_without_a_secret_is_a_clear_error(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_ENV", "production")
    with pytest.raises(ConfigurationError) as err:
        Settings()
    assert all(name in str(err.value) for name in ("DATABASE_URL", "ENCRYPTION_KEYS", "JWT_SECRET"))
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/postgres")
    monkeypatch.setenv("ENCRYPTION_KEYS", "k1:" + "A" * 43 + "=")
    with pytest.raises(ConfigurationError, match="JWT_SECRET") as err:
        Settings()
    assert "ENCRYPTION_KEYS" not in str(err.value)
    monkeypatch.setenv("JWT_SECRET", "a-long-production-secret")
    s = Settings()
    assert s.resolved_jwt_secret() == "a-long-production-secret"
    assert KeyRing.parse(s.resolved_encryption_keys()).kids == ("k1",)
    assert not (clean_env / "local-secrets.json").exists()  # production never writes local secrets


def test_local_defaults_are_random_private_and_stable(clean_env: Path) -> None:
    first = Settings()
    assert first.env == "local" and first.database_url is None
    ring = KeyRing.parse(first.resolved_encryption_keys())
    secret = first.resolved_jwt_secret()
    path = clean_env / "local-secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Settings()
    assert again.resolved_jwt_secret() == secret and KeyRing.parse(again.resolved_encryption_keys()).keys == ring.keys
    path.unlink()
    assert Settings().resolved_jwt_secret() != secret  # generated, not a constant


def test_db_cli_up_status_url_migrate_down_are_idempotent(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.cli import app

    port = free_port()
    monkeypatch.setenv("SWITCHBOARD_DB_PORT", str(port))
    reset_settings_cache()
    runner = CliRunner()
    cluster = LocalCluster(data_dir=clean_env, port=port)
    try:
        up = runner.invoke(app, ["db", "up"])
        assert up.exit_code == 0, up.output
        assert "created and started" in up.output and f"{len(migrations())} migration(s) applied" in up.output
        again = runner.invoke(app, ["db", "up"])
        assert again.exit_code == 0 and "already running" in again.output and "0 migration(s) applied" in again.output
        url = runner.invoke(app, ["db", "url"])
        assert url.exit_code == 0 and url.output.strip() == f"postgresql://postgres@127.0.0.1:{port}/postgres"
        with psycopg.connect(url.output.strip()) as conn:
            assert conn.execute("select count(*) from voice_ai_providers").fetchone()[0] == 4
            conn.execute("insert into organizations (name) values ('survives restarts')")
            conn.commit()
        status = runner.invoke(app, ["db", "status"])
        assert status.exit_code == 0 and "running" in status.output and "pending" not in status.output
        assert all(m.version in status.output for m in migrations())
        migrate = runner.invoke(app, ["db", "migrate"])
        assert migrate.exit_code == 0 and "0 migration(s) applied" in migrate.output
        down = runner.invoke(app, ["db", "down"])
        assert down.exit_code == 0 and "stopped" in down.output
        assert runner.invoke(app, ["db", "status"]).exit_code == 1
        assert runner.invoke(app, ["db", "down"]).output.strip() == "not running"
        assert runner.invoke(app, ["db", "up"]).exit_code == 0
        with psycopg.connect(cluster.url()) as conn:
            assert conn.execute("select count(*) from organizations where name = 'survives restarts'").fetchone()[0] == 1
    finally:
        cluster.destroy()
        reset_settings_cache()
    assert not cluster.pgdata.exists() and not cluster.socket_dir.exists()  # nothing left behind in /tmp
