"""Arrows point down only: importing any `switchboard` module, in a fresh interpreter, loads no
web framework, no Reflex, no livekit-agents and none of the shells (app, edge_functions,
agent_worker). A third-party SDK that drags one in counts too: the core must then not need it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("fastapi", "starlette", "reflex", "livekit.agents", "app", "edge_functions", "agent_worker")

# Imports every module in one fresh interpreter and says, for each forbidden package, which
# module first brought it in (a module imported later would only find it already loaded).
PROBE = r"""
import importlib, json, pkgutil, sys
forbidden = json.loads(sys.argv[1])
import switchboard
found, failed = {}, {}
def loaded(name):
    return name in sys.modules or any(m.startswith(name + ".") for m in sys.modules)
for info in sorted(pkgutil.walk_packages(switchboard.__path__, "switchboard."), key=lambda i: i.name):
    if info.name.endswith("__main__"):
        continue  # running it runs the command line
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failed[info.name] = f"{type(exc).__name__}: {exc}"
    for name in forbidden:
        if name not in found and loaded(name):
            found[name] = info.name
print(json.dumps({"found": found, "failed": failed}))
"""


def _probe() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(FORBIDDEN)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_core_imports_no_shell_and_no_web_framework():
    result = _probe()
    assert result["failed"] == {}, f"modules that do not import: {result['failed']}"
    assert result["found"] == {}, "the core loads (package: first module that loaded it): " + ", ".join(
        f"{pkg} ← {module}" for pkg, module in result["found"].items())


def test_the_probe_sees_a_forbidden_import():
    """The probe is not blind: with a shell package importable from a throwaway core module it
    names that module."""
    probe = PROBE.replace("import switchboard\n", "import switchboard, edge_functions.app\n", 1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", probe, json.dumps(["fastapi", "edge_functions"])], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])["found"]
    assert set(found) == {"fastapi", "edge_functions"}


def test_the_shells_dependencies_are_extras_and_make_installs_them_all():
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in requirements}

    core = names(project["dependencies"])
    extras = {name: names(reqs) for name, reqs in project["optional-dependencies"].items()}
    assert not core & {"fastapi", "starlette", "uvicorn", "reflex", "livekit-agents", "pocketsphinx"}
    assert {"reflex", "plotly"} <= extras["app"]
    assert {"fastapi", "uvicorn"} <= extras["functions"]
    assert {"livekit-agents", "livekit-plugins-silero", "pocketsphinx"} <= extras["worker"]
    # Traces: the core speaks the OpenTelemetry API only; the SDK and exporters are the shells'.
    assert "opentelemetry-api" in core and not core & {"opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"}
    assert {"opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http"} <= extras["functions"] & extras["worker"]
    makefile = (ROOT / "Makefile").read_text()
    assert "-e '.[app,functions,worker,test]'" in makefile
    assert re.search(r"^run: .*deps", makefile, re.M) and re.search(r"^test: .*deps", makefile, re.M)
