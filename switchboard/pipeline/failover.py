"""Quota-aware failover of an organisation's vendor chains (issue #15 point 3), pure policy: the
worker (agent_worker.bounded / chains) feeds it what a failed attempt said.

- A quota or payment error — HTTP 402, 429 whose words speak of quota, credit, billing,
  balance or a daily limit (a plain per-minute rate limit is not one), Anthropic's 400 "credit
  balance is too low", ElevenLabs' 401 `quota_exceeded` — keeps that vendor out of the organisation's chains
  until its reset: the vendor's `Retry-After` (seconds or an HTTP date), else its published
  reset (`x-ratelimit-reset-*` durations as OpenAI and Groq send them, Anthropic's
  `anthropic-ratelimit-*-reset` instants, Gemini's `retryDelay`), else `DEFAULT_HOLD_SECONDS`.
  While out, an attempt fails at once without a request (the adapters fail over at once).
- `ChainStatus` is one chain's state in the one-line form the worker logs at start-up and at
  every failover: "TTS: cartesia (failed: 402) → elevenlabs (active) → espeak (available)".

The book is per worker process (each process learns a vendor's quota from its own first
refusal); keys are per organisation, so the book is keyed by (organisation, catalog key).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DEFAULT_HOLD_SECONDS = 300.0
MAX_HOLD_SECONDS = 31 * 86400.0  # a monthly quota's reset at most
_QUOTA_WORDS = re.compile(
    r"quota|credit|billing|balance|payment|insufficient|resource[_ ]exhausted|exceeded your (?:current|monthly|daily)|per day",
    re.IGNORECASE,
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def is_quota_error(status: int | None, text: str = "") -> bool:
    if status == 402:
        return True
    if status == 400 and "credit balance is too low" in (text or ""):  # Anthropic's words for it
        return True
    if status == 401 and "quota_exceeded" in (text or ""):  # ElevenLabs' detail.status for it
        return True
    return status == 429 and bool(_QUOTA_WORDS.search(text or ""))


def _duration_seconds(value: str) -> float | None:
    """'1m30s', '6ms', '2.5s', '37s' (Go-style durations: OpenAI, Groq, Gemini's retryDelay)."""
    parts = _DURATION.findall(value.strip())
    if not parts or "".join(n + u for n, u in parts) != value.strip():
        return None
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


def _instant_seconds(value: str, now: float) -> float | None:
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            at = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.timestamp() - now


def reset_in_seconds(headers: Mapping[str, str] | None, text: str = "", *, now: float | None = None) -> float | None:
    """Seconds until the vendor says it serves again, from what it published; None when silent."""
    now = time.time() if now is None else now
    h = {k.lower(): v for k, v in (headers or {}).items()}
    candidates: list[float] = []
    if (value := h.get("retry-after")) is not None:
        seconds = float(value) if value.strip().replace(".", "", 1).isdigit() else _instant_seconds(value, now)
        if seconds is not None:
            return max(0.0, seconds)
    if (value := h.get("retry-after-ms")) is not None and value.strip().isdigit():
        return int(value) / 1000
    for name, value in h.items():
        if name.startswith("x-ratelimit-reset"):
            seconds = _duration_seconds(value)
        elif name.startswith("anthropic-ratelimit-") and name.endswith("-reset"):
            seconds = _instant_seconds(value, now)
        else:
            continue
        if seconds is not None:
            candidates.append(seconds)
    if match := re.search(r'"retryDelay"\s*:\s*"([^"]+)"', text or ""):
        if (seconds := _duration_seconds(match.group(1))) is not None:
            candidates.append(seconds)
    return max(0.0, max(candidates)) if candidates else None


@dataclass(frozen=True)
class Hold:
    until: float  # epoch seconds
    reason: str  # "402", "429 quota"

    def until_text(self) -> str:
        return datetime.fromtimestamp(self.until, UTC).strftime("%H:%M:%SZ")


class QuotaBook:
    """Which vendors are out of quota, per organisation, until when (thread-safe: the worker's
    jobs may run in threads)."""

    def __init__(self, clock=time.time) -> None:
        self._clock = clock
        self._holds: dict[tuple[str, str], Hold] = {}
        self._lock = threading.Lock()

    def hold(self, scope: str, key: str) -> Hold | None:
        with self._lock:
            hold = self._holds.get((scope, key))
            if hold is not None and hold.until <= self._clock():
                del self._holds[(scope, key)]
                return None
            return hold

    def record_failure(self, scope: str, key: str, status: int | None, text: str = "",
                       headers: Mapping[str, str] | None = None) -> Hold | None:
        """A failed attempt: a quota error puts the vendor out until its reset (returned)."""
        if not is_quota_error(status, text):
            return None
        now = self._clock()
        seconds = reset_in_seconds(headers, text, now=now)
        seconds = DEFAULT_HOLD_SECONDS if seconds is None else min(seconds, MAX_HOLD_SECONDS)
        hold = Hold(until=now + seconds, reason=str(status) if status == 402 else f"{status} quota")
        with self._lock:
            self._holds[(scope, key)] = hold
        return hold

    def hold_until(self, scope: str, key: str, until: float, reason: str) -> Hold:
        """Keep a vendor out until `until` (a published reading said its quota is used up)."""
        hold = Hold(until=min(until, self._clock() + MAX_HOLD_SECONDS), reason=reason)
        with self._lock:
            self._holds[(scope, key)] = hold
        return hold

    def clear(self) -> None:
        with self._lock:
            self._holds.clear()


@dataclass
class ChainStatus:
    """One service's chain in the order tried; `line()` is what the worker logs."""

    service: str
    keys: list[str]
    failed: dict[str, str] = field(default_factory=dict)  # key → "402", "timeout", "out until 20:15:00Z (quota)"

    def name(self, key: str) -> str:
        return key.removesuffix(f"-{self.service}")

    def active(self) -> str | None:
        return next((k for k in self.keys if k not in self.failed), None)

    def line(self) -> str:
        active = self.active()
        parts = []
        for key in self.keys:
            if key in self.failed:
                state = f"failed: {self.failed[key]}"
            else:
                state = "active" if key == active else "available"
            parts.append(f"{self.name(key)} ({state})")
        return f"{self.service.upper()}: " + " → ".join(parts)

    def fail(self, key: str, why: str) -> bool:
        """Record a failure; True when it changed what the chain looks like (worth a log line)."""
        changed = self.failed.get(key) != why
        self.failed[key] = why
        return changed

    def succeed(self, key: str) -> bool:
        return self.failed.pop(key, None) is not None
