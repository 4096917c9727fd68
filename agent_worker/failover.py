"""One call's view of its chains' failover (switchboard.pipeline.failover is the policy): the
bounded vendors ask `ChainGuard.check` before each attempt (a vendor out of quota fails at once,
without a request) and report every outcome; the guard keeps each chain's `ChainStatus` and logs
its line at start-up and whenever a failure changes it.

What an error said (status, words, headers) is read from the exception and its causes: the
plugins raise livekit's `APIStatusError` from the SDK's own error, which carries the response."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from livekit.agents import APIStatusError, APITimeoutError

from switchboard.pipeline.failover import ChainStatus, QuotaBook

log = logging.getLogger(__name__)

QUOTAS = QuotaBook()  # this worker process's book (every call of every organisation)


# The Azure Speech SDK (native) reports a refused WebSocket upgrade only in words ("WebSocket
# upgrade failed: Service unavailable (503)") and the service's quota refusal as the socket's
# close ("Error code: 1007. Error details: Quota exceeded"): read as 503 and as a 429 quota.
_SDK_UPGRADE = re.compile(r"WebSocket upgrade failed: [^()]*\((\d{3})\)")
_SDK_QUOTA = re.compile(r"Error code: 1007\. Error details: Quota exceeded")
# AssemblyAI's streaming API closes the socket with 4002 "Insufficient funds" (4003: a paid-only
# feature on a free account); the plugin passes the close code on as the status: read as a 402.
_ASSEMBLYAI_PAYMENT = (4002, 4003)


def error_facts(exc: BaseException) -> tuple[int | None, str, Mapping[str, str]]:
    """(HTTP status, the error's words and body, response headers) from an attempt's failure."""
    status: int | None = None
    words: list[str] = []
    headers: Mapping[str, str] = {}
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        code = getattr(current, "status_code", None) or getattr(current, "status", None) or getattr(current, "code", None)
        if status is None and isinstance(code, int) and 100 <= code < 600:
            status = code
        elif status is None and code in _ASSEMBLYAI_PAYMENT:
            status = 402
        words.append(str(current))
        body = getattr(current, "body", None) or getattr(current, "details", None)
        if isinstance(body, (list, tuple)):  # a gRPC error's google.rpc details (google-api-core)
            words.extend(str(detail) for detail in body)
            delays = [d.retry_delay for d in body if hasattr(d, "retry_delay")]  # RetryInfo: gRPC's Retry-After
            if delays and not headers:
                headers = {"retry-after": str(delays[0].seconds + delays[0].nanos / 1e9)}
        elif body is not None:
            words.append(body if isinstance(body, str) else json.dumps(body, default=str))
        response = getattr(current, "response", None)
        found = getattr(response, "headers", None) or getattr(current, "headers", None)
        if not headers and found:
            headers = {str(k): str(v) for k, v in dict(found).items()}
        current = current.__cause__ or current.__context__
    text = "\n".join(words)
    if status is None and (upgrade := _SDK_UPGRADE.search(text)):
        status = int(upgrade.group(1))
    elif status is None and _SDK_QUOTA.search(text):
        status = 429
    return status, text, headers


class ErrorHeaders:
    """The headers (and, over aiohttp, the body) of a vendor's last error response, kept by its
    HTTP client's response hook or middleware: the plugins' errors drop them (Retry-After, the
    rate-limit reset headers, ElevenLabs' `quota_exceeded` detail). Factories attach one to the
    plugin they build as `switchboard_error_headers`."""

    ATTRIBUTE = "switchboard_error_headers"
    BODY_CHARS = 2000  # an error body is a short JSON; more is not read

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.body = ""

    async def hook(self, response) -> None:
        if response.status_code >= 400:
            self.headers = {str(k): str(v) for k, v in response.headers.items()}

    async def middleware(self, request, handler):
        """aiohttp client middleware: an error response's headers and body (read here; aiohttp
        keeps it for the plugin's own `raise_for_status`)."""
        response = await handler(request)
        if response.status >= 400:
            self.headers = {str(k): str(v) for k, v in response.headers.items()}
            self.body = (await response.text(errors="replace"))[: self.BODY_CHARS]
        return response

    def take(self) -> dict[str, str]:
        headers, self.headers = self.headers, {}
        return headers

    def take_body(self) -> str:
        body, self.body = self.body, ""
        return body

    def attach(self, instance):
        setattr(instance, self.ATTRIBUTE, self)
        return instance


class ChainGuard:
    def __init__(self, scope: str, chains: dict[str, list[str]], quotas: QuotaBook | None = None) -> None:
        self._scope = scope
        self._quotas = quotas or QUOTAS
        self.status = {service: ChainStatus(service, keys) for service, keys in chains.items()}
        for service, keys in chains.items():
            for key in keys:
                if (hold := self._quotas.hold(scope, key)) is not None:
                    self.status[service].fail(key, f"{hold.reason}, out until {hold.until_text()}")

    def log_all(self) -> None:
        for status in self.status.values():
            log.info("%s", status.line())

    def check(self, service: str, key: str) -> None:
        """Raise at once while the vendor is out of quota for this organisation."""
        hold = self._quotas.hold(self._scope, key)
        if hold is not None:
            raise APIStatusError(f"{key}: out of quota until {hold.until_text()}", status_code=402, retryable=False)

    def failed(self, service: str, key: str, exc: BaseException, inner: Any = None) -> None:
        status, text, headers = error_facts(exc)
        if (memo := getattr(inner, ErrorHeaders.ATTRIBUTE, None)) is not None:
            headers = {**memo.take(), **headers}
            text = "\n".join(filter(None, (text, memo.take_body())))
        hold = self._quotas.record_failure(self._scope, key, status, text, headers)
        if hold is not None:
            why = f"{hold.reason}, out until {hold.until_text()}"
        elif isinstance(exc, APITimeoutError) or isinstance(exc, TimeoutError):
            why = "timeout"
        else:
            why = str(status) if status else type(exc).__name__
        if self.status[service].fail(key, why):
            log.warning("%s", self.status[service].line())

    def succeeded(self, service: str, key: str) -> None:
        if self.status[service].succeed(key):
            log.info("%s", self.status[service].line())

    def lines(self) -> list[str]:
        return [s.line() for s in self.status.values()]


class _NoGuard:
    def check(self, service: str, key: str) -> None:
        return None

    def failed(self, service: str, key: str, exc: Any, inner: Any = None) -> None:
        return None

    def succeeded(self, service: str, key: str) -> None:
        return None


NO_GUARD = _NoGuard()
