"""The one policy for outbound requests whose URL a tenant can influence: platform base and
space URLs (Retell, Vapi, SignalWire, LiveKit), the worker's vendor base URLs (OpenAI,
Cartesia) and the agents' HTTP tools.

Invariants (production, `SWITCHBOARD_ENV=production`):
- https only; http only to the hosts the operator lists in `EGRESS_ALLOW_HTTP_HOSTS`.
- public addresses only: loopback, private, link-local (169.254.169.254, the cloud metadata
  service, included), CGNAT, multicast, reserved, unspecified, and IPv6 forms embedding one of
  those (IPv4-mapped, 6to4, Teredo, NAT64) are refused. Hosts the operator lists in
  `EGRESS_ALLOW_PRIVATE_HOSTS` (an internal LiveKit, say) may resolve to private addresses.
- the name is resolved once per connection, every answer is checked, and the connection is made
  to a checked address (the TLS handshake still names the host: SNI and certificate checks are
  those of the name). There is no second lookup a DNS-rebinding server could answer differently.
- redirects are not followed; any request a client sends anyway (an SDK that follows them) goes
  through the same check, hop by hop.
- timeouts are bounded (`MAX_TIMEOUT_SECONDS`).

Outside production the same code runs, private and loopback addresses and plain http are
allowed (Prism mocks and local servers in development), and this is logged once.

A refusal is `EgressRefused`, whose message is words a tenant may read ("space_url must be an
https URL on a public host (127.0.0.1 is a loopback address)"); nothing about what answered.

One way to get a client: `client()` (httpx, also what the openai/retell/vapi SDKs are given),
`aiohttp_session()` (livekit-api, Cartesia); `check_url()` validates a URL at save time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import typing
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx
from httpcore._backends.auto import AutoBackend  # what httpcore uses by default (anyio or trio)

from switchboard.errors import Refused

if typing.TYPE_CHECKING:
    import aiohttp

    from switchboard.settings import Settings

log = logging.getLogger(__name__)

MAX_TIMEOUT_SECONDS = 30.0  # no single outbound request waits longer than this
DEFAULT_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 5.0
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan", ".intranet", ".corp")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = ipaddress.ip_address("169.254.169.254")


class EgressRefused(Refused, ValueError):
    """The URL may not be requested. `str()` is words for the tenant; `field` names the input
    (base_url, space_url, url) when known."""

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None):
        super().__init__(message)
        self.field = field
        # The rule alone, without the reason (which names the host): for messages that must
        # not quote what was given (secrets).
        self.rule = rule or message


@dataclass(frozen=True)
class Policy:
    production: bool
    allow_http_hosts: frozenset[str] = frozenset()
    allow_private_hosts: frozenset[str] = frozenset()
    max_timeout: float = MAX_TIMEOUT_SECONDS

    @property
    def allow_private(self) -> bool:
        return not self.production


def _hosts(value: str | None) -> frozenset[str]:
    return frozenset(h.strip().lower().rstrip(".") for h in (value or "").split(",") if h.strip())


_warned_local = False


def policy(settings: Settings | None = None) -> Policy:
    """The policy the settings describe (the process's settings when none are given)."""
    global _warned_local
    if settings is None:
        from switchboard.settings import get_settings

        settings = get_settings()
    p = Policy(
        production=settings.env == "production",
        allow_http_hosts=_hosts(getattr(settings, "egress_allow_http_hosts", None)),
        allow_private_hosts=_hosts(getattr(settings, "egress_allow_private_hosts", None)),
    )
    if not p.production and not _warned_local:
        _warned_local = True
        log.warning(
            "egress: SWITCHBOARD_ENV is not production, so tenant-influenced requests may reach "
            "private and loopback addresses and plain http (production refuses them)"
        )
    return p


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------
def address_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | str) -> str | None:
    """What kind of non-public address `ip` is ("a loopback address"); None when it is public."""
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_kind(embedded)
            return f"an address embedding {embedded}, {inner}" if inner else None
    if ip == _METADATA:
        return "the cloud metadata address"
    for test, kind in (
        (ip.is_loopback, "a loopback address"),
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "a carrier-grade NAT address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved or not ip.is_global, "a reserved address"),
    ):
        if test:
            return kind
    return None


def address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | str) -> str | None:
    """Why `ip` is not a public address, in words ("127.0.0.1 is a loopback address")."""
    kind = address_kind(ip)
    return None if kind is None else f"{ip} is {kind}"


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        pass
    # inet_aton's forms a resolver would also accept: 2130706433, 0x7f.1, 127.1
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


# ---------------------------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------------------------
def _refuse(what: str, reason: str) -> EgressRefused:
    rule = f"{what} must be an https URL on a public host"
    return EgressRefused(f"{rule} ({reason})", field=what, rule=rule)


def check_url(url: str, *, what: str = "the URL", p: Policy | None = None, schemes: tuple[str, ...] = ("https",)) -> str:
    """Validate a URL without any network access (save time, and before any client is built):
    scheme, host, literal addresses and names that are local by definition. Returns the URL.
    `schemes` are the secure schemes accepted (("https", "wss") for LiveKit)."""
    p = p or policy()
    try:
        parts = urlsplit(str(url).strip())
        host = (parts.hostname or "").lower().rstrip(".")
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise _refuse(what, "it is not a valid URL") from None
    plain = {"https": "http", "wss": "ws"}
    allowed = set(schemes) | {plain[s] for s in schemes if s in plain}
    if parts.scheme not in allowed:
        raise _refuse(what, f"the scheme must be {' or '.join(schemes)}")
    if not host:
        raise _refuse(what, "it names no host")
    if not p.production:
        return url
    if parts.scheme not in schemes and host not in p.allow_http_hosts:
        raise _refuse(what, f"{parts.scheme}:// is allowed only to hosts the operator lists")
    if host in p.allow_private_hosts:
        return url
    ip = _literal(host)
    if ip is not None:
        kind = address_kind(ip)
        if kind:
            raise _refuse(what, f"{ip} is {kind}")
        return url
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES) or "." not in host:
        raise _refuse(what, f"{host} is not a public name")
    return url


async def resolve(host: str, port: int, p: Policy, *, what: str = "the URL") -> list[str]:
    """The addresses to connect to for `host`, each checked; resolved once (the caller connects
    to these, never looks the name up again)."""
    host = host.lower().rstrip(".")
    ip = _literal(host)
    if ip is not None:
        addresses = [str(ip)]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            raise httpcore.ConnectError(f"the name {host} does not resolve") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        if not addresses:
            raise httpcore.ConnectError(f"the name {host} does not resolve")
    if p.production and host not in p.allow_private_hosts:
        for address in addresses:
            kind = address_kind(address)
            if kind:
                raise _refuse(what, f"{host} resolves to {address}, {kind}")
    return addresses


def timeout(seconds: float | None, p: Policy | None = None) -> float:
    """`seconds` within the policy's ceiling."""
    ceiling = (p or policy()).max_timeout
    if seconds is None or seconds <= 0:
        return min(DEFAULT_TIMEOUT_SECONDS, ceiling)
    return min(float(seconds), ceiling)


def refusal_in(exc: BaseException | None) -> EgressRefused | None:
    """The EgressRefused an SDK wrapped (openai/retell wrap every transport failure), if any."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, EgressRefused):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


# ---------------------------------------------------------------------------------------------
# httpx: a network backend that connects only to checked addresses
# ---------------------------------------------------------------------------------------------
class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend: `connect_tcp(host)` resolves `host` once, checks every address
    and connects to the first that accepts. TLS then runs over that stream with the host's name
    (SNI and certificate verification unchanged)."""

    # What a failed connection to one address raises (httpcore2, httpx2's fork, has its own).
    connect_errors: tuple[type[BaseException], ...] = (httpcore.ConnectError, httpcore.ConnectTimeout, OSError)

    def __init__(self, p: Policy, *, what: str = "the URL", inner: httpcore.AsyncNetworkBackend | None = None):
        self.policy = p
        self.what = what
        self.inner = inner or AutoBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = await resolve(host, port, self.policy, what=self.what)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.connect_address(address, port, timeout=timeout, local_address=local_address,
                                                  socket_options=socket_options)
            except self.connect_errors as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_address(self, address, port, **kwargs):
        """Connect to one checked address (tests replace this to see where a connection goes)."""
        return await self.inner.connect_tcp(address, port, **kwargs)

    async def connect_unix_socket(self, *args, **kwargs):  # pragma: no cover - never for egress
        raise EgressRefused("unix sockets are not an outbound destination")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def bounded_timeouts(requested: dict | None, p: Policy) -> dict[str, float]:
    """A request's timeouts (httpx's extension), none beyond the policy's ceiling whatever an
    SDK asks for."""
    timeouts = dict(requested or {})
    ceiling = p.max_timeout
    return {k: ceiling if timeouts.get(k) is None else min(timeouts[k], ceiling) for k in ("connect", "read", "write", "pool")}


class EgressTransport(httpx.AsyncBaseTransport):
    """Checks every request's URL (each redirect hop an SDK chooses to follow included), then
    sends it through a connection pool whose connections go only to checked addresses."""

    # The libraries it is built from; `egress_httpx2` names httpx's fork and its own backend.
    httpx_module: typing.ClassVar[typing.Any] = httpx
    httpcore_module: typing.ClassVar[typing.Any] = httpcore
    backend_class: typing.ClassVar[type[PinnedBackend]] = PinnedBackend

    def __init__(self, p: Policy, *, what: str = "the URL", verify: ssl.SSLContext | bool = True,
                 limits: httpx.Limits | None = None):
        limits = limits or self.httpx_module.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=60)
        self.policy = p
        self.what = what
        self.backend = self.backend_class(p, what=what)
        self._http = self.httpx_module.AsyncHTTPTransport(verify=verify, limits=limits, trust_env=False)
        old = self._http._pool
        # httpx offers no network_backend argument: the same pool, with ours.
        self._http._pool = self.httpcore_module.AsyncConnectionPool(
            ssl_context=old._ssl_context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            http1=True, http2=False, network_backend=self.backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_url(str(request.url), what=self.what, p=self.policy)
        request.extensions["timeout"] = bounded_timeouts(request.extensions.get("timeout"), self.policy)
        return await self._http.handle_async_request(request)

    async def aclose(self) -> None:
        await self._http.aclose()


def client(*, timeout_seconds: float | None = None, what: str = "the URL", p: Policy | None = None,
           verify: ssl.SSLContext | bool = True, transport_class: type[EgressTransport] = EgressTransport,
           **kwargs: typing.Any) -> httpx.AsyncClient:
    """An httpx client under the policy: pinned connections, no redirects, bounded timeouts.
    `verify`: the TLS trust (tests give their own CA); certificates are checked against the
    URL's host name, whatever address the connection was pinned to. `transport_class`: another
    library's transport (`egress_httpx2`), the client then that library's."""
    http = transport_class.httpx_module
    p = p or policy()
    seconds = timeout(timeout_seconds, p)
    kwargs.setdefault("timeout", http.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT_SECONDS)))
    return http.AsyncClient(transport=transport_class(p, what=what, verify=verify), follow_redirects=False,
                            trust_env=False, **kwargs)


# ---------------------------------------------------------------------------------------------
# aiohttp (livekit-api, the Cartesia plugin): a resolver that answers only checked addresses,
# and a middleware that checks every hop's URL (literal addresses skip the resolver)
# ---------------------------------------------------------------------------------------------
def _aiohttp_resolver(p: Policy, what: str):
    import aiohttp

    class PinnedResolver(aiohttp.abc.AbstractResolver):
        async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
            out = []
            for address in await resolve(host, port, p, what=what):
                fam = socket.AF_INET6 if ":" in address else socket.AF_INET
                out.append({"hostname": host, "host": address, "port": port, "family": fam,
                            "proto": socket.IPPROTO_TCP, "flags": socket.AI_NUMERICHOST})
            return out

        async def close(self) -> None:
            return None

    return PinnedResolver()


def aiohttp_session(*, timeout_seconds: float | None = None, what: str = "the URL", p: Policy | None = None,
                    middlewares: tuple = ()) -> aiohttp.ClientSession:
    """An aiohttp session under the policy (call inside a running event loop); `middlewares` run
    after the policy's hop check."""
    import aiohttp

    p = p or policy()

    async def check_hop(request: aiohttp.ClientRequest, handler):
        check_url(str(request.url), what=what, p=p, schemes=("https", "wss"))
        return await handler(request)

    connector = aiohttp.TCPConnector(resolver=_aiohttp_resolver(p, what), use_dns_cache=False)
    return aiohttp.ClientSession(
        connector=connector, middlewares=(check_hop, *middlewares), trust_env=False,
        timeout=aiohttp.ClientTimeout(total=timeout(timeout_seconds, p), connect=CONNECT_TIMEOUT_SECONDS),
    )


__all__ = [
    "EgressRefused", "Policy", "address_kind", "address_problem", "aiohttp_session", "check_url", "client",
    "policy", "refusal_in", "resolve", "timeout", "MAX_TIMEOUT_SECONDS",
]
