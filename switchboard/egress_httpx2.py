"""`switchboard.egress`'s policy for SDKs built on httpx2 (the Anthropic SDK refuses an httpx
client): the same checks — every request's URL checked, connections only to checked addresses
(one resolution, every answer checked), no redirects, bounded timeouts — on httpx2/httpcore2,
the fork's own packages. Only the transport plumbing lives here; the rules are egress's."""

from __future__ import annotations

import ssl
import typing

import httpcore2
import httpx2
from httpcore2._backends.auto import AutoBackend

from switchboard.egress import (
    CONNECT_TIMEOUT_SECONDS,
    EgressRefused,
    Policy,
    bounded_timeouts,
    check_url,
    policy,
    resolve,
    timeout,
)


class PinnedBackend(httpcore2.AsyncNetworkBackend):
    """As `egress.PinnedBackend`: `connect_tcp(host)` resolves once, checks every address and
    connects to the first checked one that accepts (TLS still names the host)."""

    def __init__(self, p: Policy, *, what: str = "the URL") -> None:
        self.policy = p
        self.what = what
        self.inner = AutoBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        last: Exception | None = None
        for address in await resolve(host, port, self.policy, what=self.what):
            try:
                return await self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout, OSError) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, *args, **kwargs):  # pragma: no cover - never for egress
        raise EgressRefused("unix sockets are not an outbound destination")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class EgressTransport(httpx2.AsyncBaseTransport):
    def __init__(self, p: Policy, *, what: str = "the URL", verify: ssl.SSLContext | bool = True,
                 limits: httpx2.Limits = httpx2.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=60)):
        self.policy = p
        self.what = what
        self._http = httpx2.AsyncHTTPTransport(verify=verify, limits=limits, trust_env=False)
        old = self._http._pool
        self._http._pool = httpcore2.AsyncConnectionPool(
            ssl_context=old._ssl_context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            http1=True, http2=False, network_backend=PinnedBackend(p, what=what),
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        check_url(str(request.url), what=self.what, p=self.policy)
        request.extensions["timeout"] = bounded_timeouts(request.extensions.get("timeout"), self.policy)
        return await self._http.handle_async_request(request)

    async def aclose(self) -> None:
        await self._http.aclose()


def client(*, timeout_seconds: float | None = None, what: str = "the URL", p: Policy | None = None,
           verify: ssl.SSLContext | bool = True, **kwargs: typing.Any) -> httpx2.AsyncClient:
    """An httpx2 client under the policy (as `egress.client`)."""
    p = p or policy()
    seconds = timeout(timeout_seconds, p)
    kwargs.setdefault("timeout", httpx2.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT_SECONDS)))
    return httpx2.AsyncClient(transport=EgressTransport(p, what=what, verify=verify), follow_redirects=False,
                              trust_env=False, **kwargs)
