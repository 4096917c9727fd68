"""`switchboard scenarios run` as CI runs it (a real process): a progress bar, exit 0 only when
every scenario passes, and a JUnit file a CI system reads — a testcase per scenario, failures
with the check's message."""

from __future__ import annotations

import asyncio
import os
import sys
from xml.etree import ElementTree as ET

from switchboard.db import Database
from switchboard.demo import seed_demo
from switchboard.scenarios import suite_from_yaml
from switchboard.scenarios.store import save_suite

from .test_demo_suite import BROKEN


async def _cli(db_url: str, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "switchboard", "scenarios", "run", *args,
        env={**os.environ, "DATABASE_URL": db_url, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode()


async def test_cli_exit_code_and_junit(db: Database, db_url: str, worker_chat, tmp_path) -> None:
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    report = tmp_path / "scenarios.xml"
    code, out = await _cli(db_url, "--agent", str(demo.agent_config_id), "--platform", "livekit", "--junit", str(report))
    assert code == 0, out
    assert "5/5 passed" in out
    suites = ET.parse(report).getroot()
    assert (suites.tag, suites.get("tests"), suites.get("failures")) == ("testsuites", "5", "0")
    assert [s.get("name") for s in suites] == ["livekit"]

    async with db.as_user(demo.claims) as conn:
        await save_suite(conn, demo.organization_id, demo.agent_config_id, suite_from_yaml(BROKEN))
    code, out = await _cli(db_url, "--agent", str(demo.agent_config_id), "--platform", "livekit", "--version", "1",
                           "--junit", str(report))
    assert code == 1, out
    assert "5/6 passed" in out
    suite = ET.parse(report).getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert len(cases) == 6 and suite.get("failures") == "1"
    failure = cases["Knows the opening hours"].find("failure")
    assert failure.get("message").startswith("turn 1, contains 'open on Monday': the reply does not contain")
    assert "Sorry, I am having trouble" in failure.get("message")
    assert all(c.find("failure") is None for n, c in cases.items() if n != "Knows the opening hours")

    code, out = await _cli(db_url, "--agent", str(demo.agent_config_id), "--platform", "twilio")
    assert code == 2 and "--platform must be one of" in out
