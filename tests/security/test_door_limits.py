"""Limits at the door: request bodies over the limit (1 MiB for /api, 2 MiB for the functions)
are refused with 413 before they are read past it — by Content-Length without reading a byte,
and while streaming (a chunked body without Content-Length) as soon as the count passes the
limit. The real server (uvicorn on loopback) and raw sockets, so nothing buffers for us."""

from __future__ import annotations

import json
import select
import socket
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from tests.support.live_server import serving_in_thread

API_LIMIT = 1024 * 1024
FUNCTIONS_LIMIT = 2 * 1024 * 1024
CHUNK = 64 * 1024


class Tap:
    """Between the server and the app: counts the body bytes the app pulled from the server
    and the statuses it answered."""

    def __init__(self, app) -> None:
        self.app = app
        self.read = 0
        self.statuses: list[int] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counted():
            message = await receive()
            if message["type"] == "http.request":
                self.read += len(message.get("body", b""))
            return message

        async def sent(message) -> None:
            if message["type"] == "http.response.start":
                self.statuses.append(message["status"])
            await send(message)

        await self.app(scope, counted, sent)


@contextmanager
def edge_server(db_url: str):
    from edge_functions.app import create_app

    tap = Tap(create_app(database_url=db_url, background_loops=False))
    with serving_in_thread(tap) as base:
        yield base, tap


def _read_response(s: socket.socket, timeout: float) -> tuple[int, dict[str, str], bytes]:
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        got = s.recv(65536)
        assert got, f"the server closed without answering (got {data!r})"
        data += got
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        got = s.recv(65536)
        if not got:
            break
        body += got
    return status, headers, body[:length]


def post_raw(base: str, path: str, *, send_bytes: int, content_length: int | None = None,
             timeout: float = 5.0) -> tuple[int, dict[str, str], bytes, int]:
    """POST `send_bytes` of JSON-ish filler, with `content_length` declared (or chunked when
    None), pausing between 64 KiB pieces to see whether the server has answered already.
    Returns status, headers, body and how many body bytes the client had sent by then."""
    url = urlsplit(base)
    s = socket.create_connection((url.hostname, url.port), timeout=10)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {content_length}\r\n" if content_length is not None else "Transfer-Encoding: chunked\r\n"
        s.sendall(head.encode() + b"\r\n")
        filler = b" " * CHUNK
        sent = 0
        while sent < send_bytes:
            ready, _, _ = select.select([s], [], [], 0.02)
            if ready:
                break
            piece = filler[: min(CHUNK, send_bytes - sent)]
            try:
                s.sendall(piece if content_length is not None else b"%x\r\n" % len(piece) + piece + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        else:
            if content_length is None:
                s.sendall(b"0\r\n\r\n")
        try:
            status, headers, body = _read_response(s, timeout)
        except TimeoutError:
            pytest.fail(f"no answer within {timeout} s: the server is waiting to read the whole body")
        return status, headers, body, sent
    finally:
        s.close()


def test_huge_body_refused_before_read(db_url: str) -> None:
    """100 MB declared to the unauthenticated token endpoint: 413 at once, not a byte read;
    a chunked body with no Content-Length: 413 once the count passes 1 MiB."""
    with edge_server(db_url) as (base, tap):
        status, headers, body, _ = post_raw(base, "/api/auth/token", send_bytes=0, content_length=100_000_000)
        assert status == 413
        error = json.loads(body)
        assert error["code"] == "payload_too_large" and "1 MiB" in error["message"]
        assert tap.read == 0, "the body was read although its Content-Length was over the limit"

        tap.read = 0
        status, _, body, sent = post_raw(base, "/api/auth/token", send_bytes=8 * API_LIMIT)
        assert status == 413 and json.loads(body)["code"] == "payload_too_large"
        assert tap.read <= API_LIMIT + CHUNK, f"read {tap.read} bytes of a body over the {API_LIMIT}-byte limit"
        assert sent < 8 * API_LIMIT


def test_huge_webhook_body_refused_on_the_fast_path(db_url: str) -> None:
    """The two hot POST routes bypass FastAPI: the limit (2 MiB, {"error": …}) covers them too."""
    org = uuid.uuid4()
    with edge_server(db_url) as (base, tap):
        for path in (f"/functions/v1/provider-webhook-router/retell/{org}", "/functions/v1/voice-ai-router"):
            tap.read = 0
            status, _, body, _ = post_raw(base, path, send_bytes=0, content_length=50_000_000)
            assert status == 413 and "2 MiB" in json.loads(body)["error"]
            assert tap.read == 0

            tap.read = 0
            status, _, body, _ = post_raw(base, path, send_bytes=4 * FUNCTIONS_LIMIT)
            assert status == 413 and "error" in json.loads(body)
            assert tap.read <= FUNCTIONS_LIMIT + CHUNK


def test_bodies_within_the_limit_are_still_served(db_url: str) -> None:
    """Just under each limit the request reaches its handler (which answers in its own words)."""
    with edge_server(db_url) as (base, tap):
        status, _, body, _ = post_raw(base, "/api/auth/token", send_bytes=API_LIMIT - 100, content_length=API_LIMIT - 100)
        assert status == 422 and json.loads(body)["code"] == "invalid_input"
        status, _, body, _ = post_raw(base, "/api/auth/token", send_bytes=API_LIMIT - 100)
        assert status == 422
        status, _, _, _ = post_raw(base, "/functions/v1/voice-ai-router", send_bytes=FUNCTIONS_LIMIT - 100)
        assert status not in (413, 500)
