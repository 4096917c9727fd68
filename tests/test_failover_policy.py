"""The quota-aware failover policy (switchboard.pipeline.failover): which refusals are quota,
when the vendor said it serves again, how long a vendor is held out, and the chain's log line."""

from __future__ import annotations

from email.utils import format_datetime
from datetime import UTC, datetime

import pytest

from switchboard.pipeline.failover import DEFAULT_HOLD_SECONDS, MAX_HOLD_SECONDS, ChainStatus, QuotaBook, is_quota_error, reset_in_seconds

NOW = 1_800_000_000.0


@pytest.mark.parametrize(("status", "text", "quota"), [
    (402, "", True),
    (402, "Insufficient credits", True),
    (429, "You exceeded your current quota, please check your plan and billing details.", True),
    (429, '{"status": "RESOURCE_EXHAUSTED"}', True),
    (429, "Rate limit reached for model on tokens per day (TPD): Limit 500000", True),
    (429, "Number of request tokens has exceeded your per-minute rate limit", False),
    (429, "Too Many Requests", False),
    (400, "Your credit balance is too low to access the Anthropic API.", True),
    (400, "messages: field required", False),
    (401, '{"detail": {"status": "quota_exceeded", "message": "This request exceeds your quota"}}', True),  # ElevenLabs
    (401, '{"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}', False),
    (500, "quota service unavailable", False),
    (None, "quota", False),
])
def test_which_refusals_are_quota(status, text, quota) -> None:
    assert is_quota_error(status, text) is quota


def test_the_published_reset_is_read_in_every_form_vendors_use() -> None:
    assert reset_in_seconds({"Retry-After": "120"}, now=NOW) == 120
    at = datetime.fromtimestamp(NOW + 600, UTC)
    assert reset_in_seconds({"retry-after": format_datetime(at, usegmt=True)}, now=NOW) == pytest.approx(600)
    assert reset_in_seconds({"retry-after-ms": "1500"}, now=NOW) == 1.5
    assert reset_in_seconds({"x-ratelimit-reset-requests": "2m59.56s", "x-ratelimit-reset-tokens": "7.66s"}, now=NOW) \
        == pytest.approx(179.56)
    assert reset_in_seconds({"anthropic-ratelimit-tokens-reset": at.isoformat().replace("+00:00", "Z")}, now=NOW) \
        == pytest.approx(600)
    assert reset_in_seconds({}, '{"details": [{"retryDelay": "37s"}]}', now=NOW) == 37
    assert reset_in_seconds({"x-ratelimit-reset-tokens": "soon"}, now=NOW) is None
    assert reset_in_seconds(None, now=NOW) is None


def test_a_quota_refusal_holds_the_vendor_for_its_organisation_until_the_reset() -> None:
    now = [NOW]
    book = QuotaBook(clock=lambda: now[0])
    assert book.record_failure("org-a", "cartesia-tts", 500, "boom") is None  # an outage is no hold
    assert book.record_failure("org-a", "cartesia-tts", 429, "slow down", {"retry-after": "30"}) is None
    hold = book.record_failure("org-a", "cartesia-tts", 402, "payment required", {"retry-after": "90"})
    assert hold.until == NOW + 90 and hold.reason == "402"
    assert book.hold("org-a", "cartesia-tts") == hold and book.hold("org-b", "cartesia-tts") is None
    assert book.record_failure("org-a", "groq-llm", 402).until == NOW + DEFAULT_HOLD_SECONDS  # no reset published
    assert book.record_failure("org-a", "x-llm", 429, "quota", {"retry-after": str(10**9)}).until == NOW + MAX_HOLD_SECONDS
    now[0] = NOW + 91
    assert book.hold("org-a", "cartesia-tts") is None


def test_the_chain_line_says_what_failed_what_serves_and_what_waits() -> None:
    chain = ChainStatus("tts", ["cartesia-tts", "elevenlabs-tts", "espeak-tts"])
    assert chain.line() == "TTS: cartesia (active) → elevenlabs (available) → espeak (available)"
    assert chain.fail("cartesia-tts", "402") is True
    assert chain.line() == "TTS: cartesia (failed: 402) → elevenlabs (active) → espeak (available)"
    assert chain.fail("cartesia-tts", "402") is False  # the same again: no new line
    assert chain.succeed("cartesia-tts") is True and chain.active() == "cartesia-tts"
