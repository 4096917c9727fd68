"""`switchboard.egress`'s policy for SDKs built on httpx2 (the Anthropic SDK refuses an httpx
client): the same checks — every request's URL checked, connections only to checked addresses
(one resolution, every answer checked), no redirects, bounded timeouts — on httpx2/httpcore2,
the fork's own packages. Only the names of the fork's classes live here; the code is egress's."""

from __future__ import annotations

import typing

import httpcore2
import httpx2
from httpcore2._backends.auto import AutoBackend

from switchboard import egress


class PinnedBackend(egress.PinnedBackend, httpcore2.AsyncNetworkBackend):
    """`egress.PinnedBackend` on httpcore2: its connection errors, its default backend."""

    connect_errors = (httpcore2.ConnectError, httpcore2.ConnectTimeout, OSError)

    def __init__(self, p: egress.Policy, *, what: str = "the URL",
                 inner: httpcore2.AsyncNetworkBackend | None = None) -> None:
        super().__init__(p, what=what, inner=inner or AutoBackend())


class EgressTransport(egress.EgressTransport, httpx2.AsyncBaseTransport):
    """`egress.EgressTransport` built from httpx2 and httpcore2."""

    httpx_module = httpx2
    httpcore_module = httpcore2
    backend_class = PinnedBackend


def client(**kwargs: typing.Any) -> httpx2.AsyncClient:
    """An httpx2 client under the policy: `egress.client`'s arguments, httpx2's transport."""
    return egress.client(transport_class=EgressTransport, **kwargs)
