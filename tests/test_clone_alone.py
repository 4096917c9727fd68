"""A clone with nothing beside it runs the provider contract tests: the documents live in the
repository (tests/contracts/), not in a folder next to the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_contract_tests_pass_in_a_clone_with_nothing_beside_it(tmp_path: Path) -> None:
    lone = tmp_path / "empty"  # the clone's parent holds nothing else
    lone.mkdir()
    clone = lone / "switchboard"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    assert sorted(p.name for p in lone.iterdir()) == ["switchboard"]
    # Installed tools are not "beside" the checkout: the project's own node_modules and venv.
    (clone / "node_modules").symlink_to(ROOT / "node_modules")
    env = {k: v for k, v in os.environ.items() if k not in ("SWITCHBOARD_CONTRACTS", "PYTEST_XDIST_WORKER")}
    env["PYTHONPATH"] = str(clone)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0",
         "tests/providers/test_retell.py", "tests/providers/test_vapi.py", "tests/providers/test_signalwire.py"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "error" not in run.stdout.splitlines()[-1]
