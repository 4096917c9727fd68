"""Routing policy for an inbound call: which platform first, which next, and how long we may
try. Pure functions — no I/O — so the policy is unit-tested on its own and the router only
executes it.

* With a traffic split (`{"retell": 50, "vapi": 50}`) each call gets a deterministic arm: the
  hash of its call id mapped onto the weights, so a redelivered request lands on the same arm
  and 10,000 calls split as the weights say.
* Without a split the agent's active platform goes first.
* Then the agent's fallback order, then (for a split) the other arms.
* Platforms whose circuit is open are skipped — unless nothing else is left, when they are
  tried last rather than refusing the call outright.
* Every attempt shares one deadline (2 s by default) and an attempt with platforms still behind
  it gets at most half of it: a platform that hangs cannot use up the time the next one needs,
  and the caller never waits longer than the budget.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

DEFAULT_BUDGET_SECONDS = 2.0
MIN_ATTEMPT_SECONDS = 0.05  # below this an attempt cannot succeed: stop instead
ATTEMPT_SHARE = 0.5  # an attempt with platforms still behind it gets at most this share of the budget


@dataclass(frozen=True)
class AgentRouting:
    """The routing fields of an agent spec (agent_configs)."""

    active: str | None
    fallback_order: tuple[str, ...] = ()
    traffic_split: Mapping[str, float] = field(default_factory=dict)


def normalise_split(split: Mapping[str, float] | None) -> list[tuple[str, float]]:
    """Positive weights only, in a fixed order (by platform code), so every process maps a
    call to the same arm."""
    if not split:
        return []
    out = []
    for code, weight in sorted(split.items()):
        try:
            w = float(weight)
        except (TypeError, ValueError):
            continue
        if w > 0:
            out.append((code, w))
    return out


def split_point(call_id: str) -> float:
    """A uniform point in [0, 1) derived from the call id alone."""
    digest = hashlib.sha256(call_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose_arm(call_id: str, split: Mapping[str, float] | None) -> str | None:
    """The split arm for this call, or None when there is no split."""
    arms = normalise_split(split)
    if not arms:
        return None
    total = sum(w for _, w in arms)
    point = split_point(call_id) * total
    acc = 0.0
    for code, w in arms:
        acc += w
        if point < acc:
            return code
    return arms[-1][0]


@dataclass(frozen=True)
class RoutePlan:
    arm: str | None  # the experiment arm (None without a split)
    candidates: tuple[str, ...]  # platforms to try, in order
    skipped_open: tuple[str, ...] = ()  # platforms passed over because their circuit is open


def plan_route(
    call_id: str,
    routing: AgentRouting,
    *,
    available: Iterable[str] | None = None,
    open_circuits: Iterable[str] = (),
) -> RoutePlan:
    """The order in which to try platforms for one call.

    `available`: platforms this agent can run on (configured and active); None = no limit.
    `open_circuits`: platforms whose circuit breaker is open right now.
    """
    arm = choose_arm(call_id, routing.traffic_split)
    order: list[str] = []
    for code in (arm, routing.active, *routing.fallback_order, *(c for c, _ in normalise_split(routing.traffic_split))):
        if code and code not in order:
            order.append(code)
    if available is not None:
        allowed = set(available)
        order = [c for c in order if c in allowed]
    blocked = set(open_circuits)
    healthy = [c for c in order if c not in blocked]
    skipped = tuple(c for c in order if c in blocked)
    return RoutePlan(arm=arm, candidates=tuple(healthy + list(skipped)), skipped_open=skipped)


class Budget:
    """One deadline shared by every attempt of a call's hand-off."""

    def __init__(self, seconds: float = DEFAULT_BUDGET_SECONDS, *, clock=time.monotonic):
        self.seconds = seconds
        self._clock = clock
        self._deadline = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._deadline - self._clock())

    def exhausted(self) -> bool:
        return self.remaining() < MIN_ATTEMPT_SECONDS

    def attempt_timeout(self, cap: float | None = None) -> float:
        """The time the next attempt may take: what is left, at most `cap`."""
        left = self.remaining()
        return left if cap is None else min(left, cap)
