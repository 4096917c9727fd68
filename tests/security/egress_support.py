"""A local HTTP server for the egress tests: it records every request (method, path, headers)
and answers with a fixed status and body, a redirect, or not at all ("hang")."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field

MARKER = "REMOTE-BODY-MARKER-7f3a"  # what a tenant's server puts in its answers


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class RecordingServer:
    status: int = 200
    body: bytes = b'{"ok": true}'
    location: str | None = None
    hang: bool = False
    requests: list[Recorded] = field(default_factory=list)
    _server: asyncio.AbstractServer | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def authorizations(self) -> list[str]:
        """Every credential the server was shown (Bearer tokens and decoded Basic pairs)."""
        out = []
        for r in self.requests:
            value = r.headers.get("authorization", "")
            out.append(value)
            if value.lower().startswith("basic "):
                out.append(base64.b64decode(value[6:]).decode(errors="replace"))
        return out

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
            length = int(headers.get("content-length") or 0)
            if length:
                await reader.readexactly(length)
            self.requests.append(Recorded(method, path, headers))
            if self.hang:
                await asyncio.sleep(30)
            extra = f"Location: {self.location}\r\n".encode() if self.location else b""
            writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n".encode() + extra
                         + f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n".encode() + self.body)
            await writer.drain()
        except (Exception, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> "RecordingServer":
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()


def marker_body(message: str = "denied") -> bytes:
    return ('{"message": "%s %s", "error": "%s"}' % (message, MARKER, MARKER)).encode()


def production(monkeypatch, **env: str) -> None:
    """SWITCHBOARD_ENV=production for this test (with the secrets production insists on)."""
    from switchboard.settings import reset_settings_cache

    values = {
        "SWITCHBOARD_ENV": "production",
        "DATABASE_URL": "postgresql://unused@127.0.0.1:9/unused",
        "ENCRYPTION_KEYS": "k1:" + base64.b64encode(b"0" * 32).decode(),
        "JWT_SECRET": "test-jwt-secret-" + "x" * 32,
        **env,
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    reset_settings_cache()


def local(monkeypatch, **env: str) -> None:
    from switchboard.settings import reset_settings_cache

    monkeypatch.setenv("SWITCHBOARD_ENV", "local")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    reset_settings_cache()
