"""A local reverse proxy in front of Prism mocks, for tests that drive the adapters from inside
the app (where no test's httpx hook can see their requests): every request is kept as a
`RecordedRequest` (as forwarded, so it can be checked against the document that answers it)
and forwarded to the upstream whose path prefix it starts with — SignalWire's space serves its
REST and Compatibility APIs on one host, here two Prism mocks. `answers` stands in for an
operation a document lacks (Retell's `/v2/stop-call`, which retell-sdk calls): (method, path
prefix) → (status, JSON body).

    proxy = RecordingProxy({"/api/laml/2010-04-01": compat.url, "": rest.url})
    url = await proxy.start()
    ...
    proxy.find("POST", "/api/calling/calls").json()
    await proxy.stop()
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from tests.support.openapi import RecordedRequest

HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass
class RecordingProxy:
    upstreams: dict[str, str]  # path prefix → upstream base URL (longest prefix wins)
    answers: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    requests: list[tuple[str, RecordedRequest]] = field(default_factory=list)  # (prefix, request)
    # (method, path prefix) → a status to fail with, or "hang" (accept, never answer): a platform
    # that is down, for fallback tests
    failures: dict[tuple[str, str], int | str] = field(default_factory=dict)

    async def start(self) -> str:
        self._client = httpx.AsyncClient(timeout=30)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        await self._runner.cleanup()
        await self._client.aclose()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        path = request.path_qs
        prefix = max((p for p in self.upstreams if request.path.startswith(p)), key=len)
        headers = {k.lower(): v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        target = self.upstreams[prefix].rstrip("/") + path[len(prefix):]
        self.requests.append((prefix, RecordedRequest(request.method, target, headers, body)))
        for (method, start), status in self.failures.items():
            if request.method == method and request.path.startswith(start):
                if status == "hang":
                    await asyncio.sleep(30)
                return web.json_response({"error": "internal error"}, status=int(status))
        for (method, start), (status, answer) in self.answers.items():
            if request.method == method and request.path.startswith(start):
                return web.Response(status=status, body=None if answer is None else json.dumps(answer),
                                    content_type="application/json")
        upstream = await self._client.request(request.method, target, headers=headers, content=body)
        out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS | {"content-encoding"}}
        return web.Response(status=upstream.status_code, body=upstream.content, headers=out)

    def recorded(self, prefix: str = "") -> list[RecordedRequest]:
        return [r for p, r in self.requests if p == prefix]

    def find(self, method: str, path_suffix: str, prefix: str = "") -> RecordedRequest:
        for r in self.recorded(prefix):
            if r.method == method.upper() and r.path.endswith(path_suffix):
                return r
        raise AssertionError(f"no {method} …{path_suffix} among {[f'{r.method} {r.path}' for r in self.recorded(prefix)]}")

    def clear(self) -> None:
        self.requests.clear()
