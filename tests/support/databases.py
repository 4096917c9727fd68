"""Test databases cloned from the migrated template (`CREATE DATABASE … TEMPLATE`, ~0.1 s)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from switchboard.db.local import LocalCluster


@contextmanager
def cloned_database(cluster: LocalCluster, template: str, prefix: str = "t_") -> Iterator[str]:
    """A database cloned from the migrated template, dropped afterwards; its URL."""
    name = prefix + uuid.uuid4().hex[:16]
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"create database {name} template {template}")
    try:
        yield cluster.url(name)
    finally:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
