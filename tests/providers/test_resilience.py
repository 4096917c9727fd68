"""Timeouts, bounded retries with backoff, the deadline the router holds a hand-off to, and the
rule that a call which may have reached the platform is not repeated when it creates something."""

from __future__ import annotations

import asyncio
import time

import pytest

from switchboard.providers.base import ProviderCredentials, ProviderRejected, ProviderTimeout, ProviderUnavailable
from switchboard.providers.resilience import RetryPolicy, call_with_retries, deadline
from switchboard.providers.retell.adapter import RetellProvider


def classify(exc):
    return ProviderUnavailable("test", str(exc))


async def test_retryable_errors_are_retried_within_the_attempt_budget():
    attempts = []

    async def flaky(timeout):
        attempts.append(timeout)
        if len(attempts) < 3:
            raise ProviderUnavailable("test", "503", status_code=503)
        return "ok"

    assert await call_with_retries("test", "op", flaky, classify, policy=RetryPolicy(attempts=3, base_delay=0.001)) == "ok"
    assert len(attempts) == 3
    attempts.clear()
    with pytest.raises(ProviderUnavailable):
        await call_with_retries("test", "op", flaky, classify, policy=RetryPolicy(attempts=2, base_delay=0.001))
    assert len(attempts) == 2


async def test_rejections_are_not_retried():
    calls = 0

    async def bad(timeout):
        nonlocal calls
        calls += 1
        raise ProviderRejected("test", "400", status_code=400)

    with pytest.raises(ProviderRejected):
        await call_with_retries("test", "op", bad, classify, policy=RetryPolicy(attempts=5, base_delay=0.001))
    assert calls == 1


async def test_non_idempotent_calls_retry_only_when_nothing_was_sent():
    sent: list[str] = []

    async def ambiguous(timeout):
        sent.append("x")
        raise ProviderUnavailable("test", "502", status_code=502)  # may have been processed

    with pytest.raises(ProviderUnavailable):
        await call_with_retries("test", "create", ambiguous, classify, policy=RetryPolicy(attempts=4, base_delay=0.001), idempotent=False)
    assert len(sent) == 1

    refused: list[str] = []

    async def never_arrived(timeout):
        refused.append("x")
        raise ProviderUnavailable("test", "connection refused", request_sent=False)

    with pytest.raises(ProviderUnavailable):
        await call_with_retries("test", "create", never_arrived, classify, policy=RetryPolicy(attempts=3, base_delay=0.001), idempotent=False)
    assert len(refused) == 3


async def test_backoff_grows_with_jitter_and_is_capped():
    policy = RetryPolicy(base_delay=0.5, max_delay=2.0)
    import random

    rng = random.Random(7)
    delays = [[policy.backoff(n, rng) for _ in range(200)] for n in range(5)]
    assert max(delays[0]) <= 0.5 and max(delays[1]) <= 1.0 and all(max(d) <= 2.0 for d in delays)
    assert min(delays[2]) < 0.5 < max(delays[2])  # jitter spreads retries out


async def test_a_hanging_platform_times_out_and_the_deadline_bounds_everything():
    async def hang(reader, writer):
        await asyncio.sleep(30)

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        retell = RetellProvider(ProviderCredentials(values={"api_key": "k"}, base_url=f"http://127.0.0.1:{port}"),
                                retry=RetryPolicy(attempts=3, attempt_timeout=0.3, base_delay=0.01))
        start = time.monotonic()
        with pytest.raises(ProviderTimeout):
            await retell.list_voices()
        assert 0.8 < time.monotonic() - start < 3.0  # three attempts of 0.3 s

        # the router's budget: the same three attempts of up to 0.3 s, held to 0.5 s in total
        start = time.monotonic()
        with deadline(0.5), pytest.raises(ProviderTimeout):
            await retell.list_voices()
        assert time.monotonic() - start < 0.8
        await retell.aclose()
    finally:
        server.close()
        await server.wait_closed()
