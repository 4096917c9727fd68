"""What every adapter shares and no single platform owns: the ids we attach to a call so its
webhooks find their way back, the URL platforms post events to, small conversions, and the
adapters' base class (`PlatformAdapter`: one way to call a platform, one SIP bridge)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import httpx

from switchboard import telemetry
from switchboard.providers.base import NotConfigured, ProviderCredentials, ProviderError, VoiceAIProvider, WebhookRejected
from switchboard.providers.http import classify_transport_error, send_json
from switchboard.providers.resilience import DEFAULT_POLICY, RetryPolicy, call_with_retries
from switchboard.spec import AgentSpec, CallEvent, HandOff, InboundCall, Voice, WebhookRequest

T = TypeVar("T")

# Keys of the metadata we attach to every call at hand-off (and read back from its webhooks).
CALL_METADATA_KEYS = ("organization_id", "agent_config_id", "call_record_id", "telephony_call_id")
# SIP headers carrying the same ids, for platforms reached over SIP (LiveKit maps them to
# participant attributes; the others keep them in the call's SIP data).
SIP_HEADERS = {
    "organization_id": "X-Switchboard-Organization-Id",
    "agent_config_id": "X-Switchboard-Agent-Config-Id",
    "call_record_id": "X-Switchboard-Call-Record-Id",
    "telephony_call_id": "X-Switchboard-Telephony-Call-Id",
}
WEBHOOK_PATH = "/functions/v1/provider-webhook-router/{code}"


def webhook_url(code: str, base_url: str | None = None, organization_id: Any = None) -> str:
    """Where platform `code` posts its call events: the edge function `provider-webhook-router`,
    with the organisation in the path when known (its keys then verify the signature)."""
    if base_url is None:
        from switchboard.settings import get_settings

        base_url = get_settings().public_base_url
    url = base_url.rstrip("/") + WEBHOOK_PATH.format(code=code)
    return f"{url}/{organization_id}" if organization_id else url


def call_metadata(call: InboundCall) -> dict[str, str]:
    """The ids we attach to a call, as strings (what every platform's metadata accepts)."""
    values = {
        "organization_id": str(call.organization_id),
        "agent_config_id": str(call.agent_config_id),
        "call_record_id": str(call.call_record_id),
        "telephony_call_id": call.telephony_call_id,
    }
    return {**{k: str(v) for k, v in call.metadata.items() if isinstance(v, (str, int, float, bool))}, **values}


def ids_from_metadata(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """organization_id / agent_config_id / call_record_id (UUIDs) and telephony_call_id found in a
    platform's echo of our metadata; malformed values are left out rather than trusted."""
    out: dict[str, Any] = {}
    if not isinstance(metadata, dict):
        return out
    for key in ("organization_id", "agent_config_id", "call_record_id"):
        value = metadata.get(key)
        if value:
            try:
                out[key] = UUID(str(value))
            except ValueError:
                pass
    if metadata.get("telephony_call_id"):
        out["telephony_call_id"] = str(metadata["telephony_call_id"])
    return out


def signed_text(request: WebhookRequest, code: str) -> str:
    """The body as the text that was signed: one that is not UTF-8 is not authentic."""
    try:
        return request.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookRejected(f"{code}: body is not UTF-8") from exc


def from_epoch(value: float | int | None, *, unit: str = "s") -> datetime | None:
    if value in (None, 0):
        return None
    divisor = {"s": 1, "ms": 1_000, "us": 1_000_000}[unit]
    return datetime.fromtimestamp(float(value) / divisor, tz=UTC)


def from_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def sip_dial_laml(uri: str) -> str:
    """The Compatibility (LaML) answer that bridges the call to `uri`."""
    from xml.sax.saxutils import escape

    return f'<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Sip>{escape(uri)}</Sip></Dial></Response>'


def sip_connect_swml(uri: str, call: InboundCall, *, max_duration: int | None = None) -> dict[str, Any]:
    """The SWML answer that bridges the call to `uri`, carrying our ids as SIP headers."""
    ids = call_metadata(call)
    connect: dict[str, Any] = {
        "to": uri,
        "headers": [{"name": SIP_HEADERS[k], "value": ids[k]} for k in SIP_HEADERS],
    }
    if max_duration:
        connect["max_duration"] = max_duration
    return {"version": "1.0.0", "sections": {"main": [{"connect": connect}]}}


def preset_voices(package: str) -> list[Voice]:
    """The offline voice list a platform's folder keeps in `voices.csv` (id, name, vendor,
    language, gender; empty cells are unknown)."""
    import csv
    from importlib.resources import files

    with files(package).joinpath("voices.csv").open(encoding="utf-8") as handle:
        return [Voice(**{k: v for k, v in row.items() if v}) for row in csv.DictReader(handle)]


def require(value: str | None, provider: str, what: str) -> str:
    if not value:
        raise NotConfigured(provider, what)
    return value


def event_duration(event: CallEvent) -> int | None:
    if event.duration_seconds is not None:
        return event.duration_seconds
    if event.started_at and event.ended_at:
        return max(0, round((event.ended_at - event.started_at).total_seconds()))
    return None


class PlatformAdapter(VoiceAIProvider):
    """What every adapter holds (credentials, the price book, the retry policy) and the one way
    it calls its platform: `_call(operation, attempt)` runs `attempt(timeout_seconds)` under the
    retry policy, whatever the attempt raises turned into our errors by `_classify`."""

    def __init__(self, credentials: ProviderCredentials, *, prices: Any = None, retry: RetryPolicy | None = None):
        self.credentials = credentials
        self.prices = prices
        self.retry = retry or DEFAULT_POLICY

    @property
    def name(self) -> str:  # type: ignore[override]
        """The platform's label: its folder's descriptor (`platform.py`) is the one place naming it."""
        from switchboard.providers.registry import label

        return label(self.code)

    def _classify(self, operation: str) -> Callable[[BaseException], ProviderError]:
        """How this platform's SDK failures read as our errors; transport failures by default."""
        return lambda exc: classify_transport_error(self.code, operation, exc)

    async def _call(self, operation: str, attempt: Callable[[float], Awaitable[T]], *, idempotent: bool = True) -> T:
        # One client span per platform operation (retries inside it): a hand-off's own API calls
        # (registering the call, creating a dispatch) show under the hand-off's span.
        with telemetry.span(operation, {"switchboard.platform": self.code}, kind=telemetry.SpanKind.CLIENT):
            return await call_with_retries(self.code, operation, attempt, self._classify(operation),
                                           policy=self.retry, idempotent=idempotent)

    def _bridge(self, uri: str, spec: AgentSpec, call: InboundCall, *, provider_call_id: str | None = None) -> HandOff:
        """Hand the call to the platform over SIP at `uri`: a LaML dial or an SWML connect (which
        carries our ids as SIP headers and the spec's maximum duration), as the number asked."""
        if call.answer_format == "laml":
            return HandOff(provider_call_id=provider_call_id, laml=sip_dial_laml(uri))
        return HandOff(provider_call_id=provider_call_id,
                       swml=sip_connect_swml(uri, call, max_duration=spec.max_duration_seconds))


class HttpPlatformAdapter(PlatformAdapter):
    """Plumbing the platforms reached over HTTP share: an httpx client — the caller's (tests,
    connection reuse) or one of our own that `aclose` closes — and `_request`, one JSON request
    under `_call`. Subclasses with an SDK client keep it in `_client`."""

    _client: Any = None
    url_field = "base_url"  # the credential a tenant sets to move the platform's URL

    def __init__(
        self,
        credentials: ProviderCredentials,
        *,
        prices: Any = None,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        webhook_base_url: str | None = None,
    ):
        super().__init__(credentials, prices=prices, retry=retry)
        self._http_client = http_client
        self._own_http: httpx.AsyncClient | None = None
        self._webhook_base_url = webhook_base_url

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http_client is not None:
            return self._http_client
        if self._own_http is None:
            # Under the egress policy: the URL may be the tenant's (switchboard.egress).
            from switchboard import egress

            self._own_http = egress.client(timeout_seconds=self.retry.attempt_timeout, what=self.url_field)
        return self._own_http

    async def _request(self, operation: str, method: str, url: str, *, idempotent: bool = True, **options: Any) -> Any:
        """One JSON request (`options` as `send_json` takes them) under the retry policy."""
        return await self._call(
            operation, lambda timeout: send_json(self.http, self.code, operation, method, url, timeout=timeout, **options),
            idempotent=idempotent,
        )

    async def aclose(self) -> None:
        if self._own_http is not None:
            await self._own_http.aclose()
            self._own_http = None
        self._client = None
