"""`make run`'s orchestrator on a fresh data dir: Postgres is created, migrated and seeded with
demo data, the edge-functions server answers, and Ctrl-C stops every child."""

import os
import shutil
import tempfile
from collections.abc import Iterator
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import psycopg

from switchboard.db.local import LocalCluster, free_port


def _started_by(data_dir: Path) -> list[str]:
    """Processes (other than this one) whose environment or command line names the run's data
    dir: everything `switchboard run` started inherits SWITCHBOARD_DATA_DIR, and Postgres runs
    on a data directory inside it."""
    marker = str(data_dir).encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if marker in cmd or marker in env:
            found.append(cmd.replace(b"\0", b" ").decode(errors="replace")[:120])
    return found


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Outside pytest's temporary root: another pytest session starting meanwhile resets that
    root to mode 0700, which the postgres user then cannot traverse."""
    path = Path(tempfile.mkdtemp(prefix="sbrun-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_run_starts_the_stack_and_stops_it_on_ctrl_c(data_dir: Path) -> None:
    tmp_path = data_dir
    db_port, fn_port, chat_port = free_port(), free_port(), free_port()
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(tmp_path), "SWITCHBOARD_DB_PORT": str(db_port),
           "FUNCTIONS_PORT": str(fn_port), "LIVEKIT_CHAT_URL": f"http://127.0.0.1:{chat_port}"}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "switchboard", "run", "--seed-calls", "300", "--skip", "app"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    cluster = LocalCluster(data_dir=tmp_path, port=db_port)
    try:
        printed: list[str] = []
        reader = threading.Thread(target=lambda: printed.extend(proc.stdout), daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        # The URLs are printed only once the functions answer.
        while time.monotonic() < deadline and proc.poll() is None and not any("Ctrl-C stops" in line for line in printed):
            time.sleep(0.2)
        assert any("Ctrl-C stops" in line for line in printed), "run never said it was ready:\n" + "".join(printed)
        assert httpx.get(f"http://127.0.0.1:{fn_port}/health", timeout=5).status_code == 200
        # The worker's text conversations (the LiveKit platform's chats) answer too, with no key.
        assert httpx.get(f"http://127.0.0.1:{chat_port}/health", timeout=5).status_code == 200
        with psycopg.connect(cluster.url()) as conn:
            calls = conn.execute(
                "select count(*) from call_records c join organizations o on o.id = c.organization_id "
                "where o.name = 'Demo Dental'").fetchone()[0]
        assert calls == 300
        os.killpg(proc.pid, signal.SIGINT)
        t0 = time.monotonic()
        proc.wait(timeout=10)
        reader.join(timeout=5)
        out = "".join(printed)
        # Every process it started, Postgres included, is gone within 10 s, and it says so.
        while _started_by(tmp_path) and time.monotonic() - t0 < 10:
            time.sleep(0.2)
        assert not _started_by(tmp_path), f"still running after Ctrl-C: {_started_by(tmp_path)}\n{out}"
        assert not cluster.running()
        assert "Stopped: edge functions, database-webhook relay, agent chat, Postgres." in out
        # The table comes once the functions answer; only our own lines reach the console.
        assert f"http://127.0.0.1:{fn_port}/functions/v1/" in out
        assert "demo@switchboard.local" in out
        assert "demo data loaded: Demo Dental with 300 calls" in out
        assert '{"' not in out, "a JSON log line reached the console"
        assert (tmp_path / "logs" / "edge-functions.log").stat().st_size > 0
        with socket.socket() as s:  # the server is gone
            assert s.connect_ex(("127.0.0.1", fn_port)) != 0
        with socket.socket() as s:  # the worker's chat endpoint too
            assert s.connect_ex(("127.0.0.1", chat_port)) != 0
        with socket.socket() as s:  # and so is Postgres
            assert s.connect_ex(("127.0.0.1", db_port)) != 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        cluster.destroy()
