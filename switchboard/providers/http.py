"""Plain HTTP calls to a platform (SignalWire's REST and Compatibility APIs, Vapi's call control)
through httpx: one attempt (`send_json`, run under the adapter's `_call`) and how transport
failures read as our error hierarchy."""

from __future__ import annotations

import json
from typing import Any

import httpx

from switchboard import egress
from switchboard.providers.base import ProviderError, ProviderRejected, ProviderTimeout, ProviderUnavailable
from switchboard.providers.resilience import error_for_status, parse_retry_after, unreachable


def classify_transport_error(provider: str, operation: str, exc: BaseException) -> ProviderError:
    """An httpx (or any connection-level) failure as one of our errors: one message for them
    all (refused, reset, timed out), the transport's own words only in `detail`; a URL the
    egress policy refused is a rejection with the policy's words."""
    if isinstance(exc, ProviderError):
        return exc
    refused = egress.refusal_in(exc)
    if refused is not None:
        return ProviderRejected(provider, str(refused))
    if isinstance(exc, httpx.TimeoutException):
        error: ProviderError = ProviderTimeout(provider, unreachable(provider, operation),
                                               request_sent=not isinstance(exc, httpx.ConnectTimeout))
    elif isinstance(exc, httpx.ConnectError):
        error = ProviderUnavailable(provider, unreachable(provider, operation), request_sent=False)
    else:
        error = ProviderUnavailable(provider, unreachable(provider, operation))
    error.detail = f"{type(exc).__name__}: {exc}"
    return error


async def send_json(
    client: httpx.AsyncClient,
    provider: str,
    operation: str,
    method: str,
    url: str,
    *,
    timeout: float,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """One attempt at a platform call: the decoded JSON answer (None for an empty one), or our
    error for an HTTP status (transport failures are left to the caller's classifier)."""
    response = await client.request(method, url, json=json_body, data=form, auth=auth, headers=headers, timeout=timeout)
    if response.status_code >= 400:
        raise error_for_status(
            provider, operation, response.status_code, _error_detail(response),
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    if not response.content:
        return None
    try:
        return response.json()
    except json.JSONDecodeError:
        return response.text


def _error_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "errors"):
            if body.get(key):
                return str(body[key])
    return str(body)
