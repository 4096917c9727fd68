"""Timeouts and retries for every platform call.

Each call runs under a per-attempt timeout; a retryable failure (`ProviderUnavailable`, which
includes `ProviderTimeout`) is tried again after an exponential backoff with full jitter, for a
bounded number of attempts and within a total deadline. `deadline(seconds)` narrows that total
for everything awaited inside it, so the router can hold a hand-off to its 2 s budget whatever
the adapter's own policy says. Circuit breaking is not here: it lives in `switchboard.health`,
shared by every process through the database.

Non-idempotent calls (creating an agent, dialling) are retried only when the request certainly
never reached the platform (connection refused) or the platform said 429, so a retry never
creates a second agent or places a second call.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from switchboard.providers.base import ProviderError, ProviderTimeout

T = TypeVar("T")

_deadline: ContextVar[float | None] = ContextVar("switchboard_provider_deadline", default=None)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # at most this many tries, the first included
    attempt_timeout: float = 10.0  # seconds per try
    total_timeout: float | None = 25.0  # seconds for all tries and waits together
    base_delay: float = 0.25  # backoff before try n+1 is uniform(0, min(max_delay, base_delay * 2**n))
    max_delay: float = 4.0

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        cap = min(self.max_delay, self.base_delay * (2 ** retry_number))
        return (rng or random).uniform(0, cap)


DEFAULT_POLICY = RetryPolicy()


@contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Every platform call awaited inside finishes (or fails with ProviderTimeout) within
    `seconds`; nested deadlines only ever narrow."""
    end = time.monotonic() + seconds
    current = _deadline.get()
    if current is not None:
        end = min(end, current)
    token = _deadline.set(end)
    try:
        yield end
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left under the innermost `deadline`, or None when there is none."""
    end = _deadline.get()
    return None if end is None else end - time.monotonic()


async def call_with_retries(
    provider: str,
    operation: str,
    attempt: Callable[[float], Awaitable[T]],
    classify: Callable[[BaseException], ProviderError],
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    idempotent: bool = True,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `attempt(timeout_seconds)` until it succeeds, a non-retryable error occurs, the
    attempts run out or the deadline passes. `classify` turns whatever the SDK raised into one
    of our errors. The last error is raised."""
    start = time.monotonic()
    ends = [t for t in (_deadline.get(), start + policy.total_timeout if policy.total_timeout else None) if t]
    end = min(ends) if ends else None
    last: ProviderError | None = None
    for number in range(policy.attempts):
        timeout = policy.attempt_timeout
        if end is not None:
            timeout = min(timeout, end - time.monotonic())
        if timeout <= 0:
            break
        try:
            return await asyncio.wait_for(attempt(timeout), timeout)
        except ProviderError as exc:
            last = exc
        except (asyncio.TimeoutError, TimeoutError):
            last = ProviderTimeout(provider, unreachable(provider, operation))
            last.detail = f"no answer within {timeout:.2f}s"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every SDK error becomes one of ours
            last = classify(exc)
        if not _may_retry(last, idempotent) or number + 1 >= policy.attempts:
            break
        wait = max(policy.backoff(number), last.retry_after or 0.0)
        if end is not None and time.monotonic() + wait >= end:
            break
        await sleep(wait)
    if last is None:
        last = ProviderTimeout(provider, unreachable(provider, operation))
        last.detail = "the deadline passed before the first attempt"
    raise last


def _may_retry(error: ProviderError, idempotent: bool) -> bool:
    if not error.retryable:
        return False
    if idempotent:
        return True
    return error.request_sent is False or error.status_code == 429


PLATFORM_NAMES = {"retell": "Retell", "vapi": "Vapi", "signalwire": "SignalWire", "livekit": "LiveKit"}
UNREACHABLE = "could not reach the platform"


def platform_name(provider: str) -> str:
    return PLATFORM_NAMES.get(provider, provider)


def status_words(provider: str, status: int) -> str:
    """What an HTTP status from the platform means, in our words (never the platform's body)."""
    name = platform_name(provider)
    if status in (401, 403):
        return f"{name} refused the key ({status})"
    if status == 404:
        return f"{name} does not know this resource ({status})"
    if status == 408:
        return f"{name} did not answer in time ({status})"
    if status == 429:
        return f"{name} is limiting our requests ({status})"
    if status >= 500:
        return f"the platform answered {status}"
    return f"{name} rejected the request ({status})"


def unreachable(provider: str, operation: str) -> str:
    """The one message for every transport failure (refused, reset, timed out, no such name):
    a tenant who points a URL somewhere learns nothing about what is listening there."""
    return f"{UNREACHABLE} ({operation})"


def error_for_status(provider: str, operation: str, status: int, detail: str, *, retry_after: float | None = None) -> ProviderError:
    """The error an HTTP status means: 408/429/5xx retryable, other 4xx rejected. The message is
    ours (status and a short reason); the platform's own text stays in `detail`, for server logs."""
    from switchboard.providers.base import ProviderRejected, ProviderUnavailable

    message = f"{status_words(provider, status)} during {operation}"
    if status == 408:
        error: ProviderError = ProviderTimeout(provider, message, status_code=status)
    elif status == 429 or status >= 500:
        error = ProviderUnavailable(provider, message, status_code=status, retry_after=retry_after)
    else:
        error = ProviderRejected(provider, message, status_code=status)
    error.detail = scrub(_shorten(detail))
    return error


_TOKENISH = re.compile(r"(?i)(bearer\s+|basic\s+|key[=:]\s*|token[=:]\s*)?[A-Za-z0-9_\-\.\+/=]{24,}")


def scrub(text: str) -> str:
    """`text` (a platform's error body) fit for a server log: long token-like runs masked."""
    return _TOKENISH.sub("***", text)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # the HTTP-date form: fall back to our own backoff


def _shorten(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
