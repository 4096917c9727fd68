"""`make run`'s orchestrator on a fresh data dir: Postgres is created, migrated and seeded with
demo data, the edge-functions server answers, and Ctrl-C stops every child."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

from switchboard.db.local import LocalCluster, free_port


def test_run_starts_the_stack_and_stops_it_on_ctrl_c(tmp_path: Path) -> None:
    db_port, fn_port = free_port(), free_port()
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(tmp_path), "SWITCHBOARD_DB_PORT": str(db_port),
           "FUNCTIONS_PORT": str(fn_port)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "switchboard", "run", "--seed-calls", "300", "--skip", "app"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    cluster = LocalCluster(data_dir=tmp_path, port=db_port)
    try:
        deadline = time.monotonic() + 120
        healthy = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{fn_port}/health", timeout=2).status_code == 200:
                    healthy = True
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert healthy, f"functions server never became healthy; run printed:\n{proc.stdout.read() if proc.poll() is not None else ''}"
        with psycopg.connect(cluster.url()) as conn:
            calls = conn.execute(
                "select count(*) from call_records c join organizations o on o.id = c.organization_id "
                "where o.name = 'Demo Dental'").fetchone()[0]
        assert calls == 300
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert f"http://127.0.0.1:{fn_port}/functions/v1/" in out
        assert "demo@switchboard.local" in out
        with socket.socket() as s:  # the server is gone
            assert s.connect_ex(("127.0.0.1", fn_port)) != 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        cluster.destroy()
