"""Prism mock servers on the providers' OpenAPI documents, for contract tests.

`PrismServer(document).start()` launches `prism mock -h 127.0.0.1 -p PORT DOCUMENT` on a free
port without waiting; `wait_ready()` blocks until Prism says it listens (or fails with its log);
`stop()` ends exactly the process group it started. Start several first and wait afterwards,
so their start-up (5–10 s each on the large documents) overlaps.

    with running_prism(CONTRACTS / "retell-openapi.yaml") as prism:
        httpx.get(prism.url + "/list-voices", headers={"Authorization": "Bearer k"})

In pytest, make one session-scoped fixture per document (see tests/providers/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _contracts_dir() -> Path:
    """The providers' documents: $SWITCHBOARD_CONTRACTS, else the copies kept in the repository
    (tests/contracts/, see its README), so a clone alone runs the contract tests."""
    return Path(os.environ.get("SWITCHBOARD_CONTRACTS") or ROOT / "tests" / "contracts")


CONTRACTS = _contracts_dir()

READY_MARK = "Prism is listening"


class PrismError(RuntimeError):
    pass


def prism_binary() -> str:
    for candidate in (ROOT / "node_modules" / ".bin" / "prism", shutil.which("prism")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise PrismError("prism not found: run `npm ci` (package @stoplight/prism-cli) or put it on PATH")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrismServer:
    def __init__(self, document: Path | str, *, port: int | None = None, dynamic: bool = False):
        self.document = Path(document)
        if not self.document.is_file():
            raise PrismError(f"no such OpenAPI document: {self.document}")
        self.port = port or free_port()
        self.dynamic = dynamic
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix=f"prism-{self.document.stem}-", suffix=".log", delete=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "PrismServer":
        if self.process is None:
            cmd = [prism_binary(), "mock", "-h", "127.0.0.1", "-p", str(self.port), str(self.document)]
            if self.dynamic:
                cmd.insert(2, "--dynamic")
            self.process = subprocess.Popen(
                cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        return self

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def wait_ready(self, timeout: float = 120.0) -> "PrismServer":
        self.start()
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY_MARK in self.log():
                return self
            if self.process.poll() is not None:
                raise PrismError(f"prism exited ({self.process.returncode}) on {self.document.name}:\n{self.log()[-3000:]}")
            time.sleep(0.1)
        self.stop()
        raise PrismError(f"prism not ready within {timeout:.0f}s on {self.document.name}:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:  # prism (node) runs in its own process group, which we alone created
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.process = None
        try:
            os.unlink(self._log.name)
        except OSError:
            pass


@contextmanager
def running_prism(document: Path | str, **kwargs) -> Iterator[PrismServer]:
    server = PrismServer(document, **kwargs).start()
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def prism_fixture(document_name: str):
    """A session-scoped pytest fixture serving `document_name` (a file in CONTRACTS):

        retell_prism = prism_fixture("retell-openapi.yaml")   # in a conftest.py
    """
    import pytest

    @pytest.fixture(scope="session")
    def _prism() -> Iterator[PrismServer]:
        with running_prism(CONTRACTS / document_name) as server:
            yield server

    return _prism
