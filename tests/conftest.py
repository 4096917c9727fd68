"""Shared fixtures: one real Postgres cluster per test session (per xdist worker), a template
database with every migration applied, and a fresh database per test cloned from it
(`CREATE DATABASE … TEMPLATE`, about 0.1 s)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from switchboard.db import Database
from switchboard.db.local import LocalCluster, free_port
from switchboard.db.migrate import migrate
from switchboard.pipeline.catalog import sync_catalog_at
from tests.support.databases import cloned_database

TEMPLATE = "sb_template"


@pytest.fixture(scope="session", autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never read the developer's .env or .data; each session gets its own data dir."""
    data = tmp_path_factory.mktemp("data")
    os.environ["SWITCHBOARD_DATA_DIR"] = str(data)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("SWITCHBOARD_ENV", None)
    from switchboard.settings import reset_settings_cache

    reset_settings_cache()
    yield
    reset_settings_cache()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[LocalCluster]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    root = Path(tempfile.mkdtemp(prefix=f"sbpg-{worker}-"))
    cluster = LocalCluster(data_dir=root, port=free_port(), fast=True)
    cluster.ensure_running()
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def template_db(pg_cluster: LocalCluster) -> str:
    with psycopg.connect(pg_cluster.url(), autocommit=True) as conn:
        conn.execute(f"drop database if exists {TEMPLATE}")
        conn.execute(f"create database {TEMPLATE}")
    migrate(pg_cluster.url(TEMPLATE))
    sync_catalog_at(pg_cluster.url(TEMPLATE))
    return TEMPLATE


@pytest.fixture
def db_url(pg_cluster: LocalCluster, template_db: str) -> Iterator[str]:
    """A fresh, fully migrated database for one test; its URL."""
    with cloned_database(pg_cluster, template_db) as url:
        yield url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    async with Database(db_url, min_size=1, max_size=5) as database:
        yield database


@pytest.fixture(autouse=True)
def _no_attempts_counted() -> Iterator[None]:
    """Sign-in and sign-up limits (switchboard.ratelimit) count per process: every test starts
    with none counted, so tests that sign in often do not see each other's attempts."""
    from switchboard import ratelimit

    ratelimit.reset()
    yield
    ratelimit.reset()
