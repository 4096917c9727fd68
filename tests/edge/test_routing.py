"""The routing policy, alone: split arms, ordering, open circuits, the shared budget."""

from __future__ import annotations

import uuid
from collections import Counter

from switchboard.routing import AgentRouting, Budget, choose_arm, plan_route


def test_a_50_50_split_lands_within_three_percent_over_10000_calls() -> None:
    split = {"retell": 50, "vapi": 50}
    counts = Counter(choose_arm(f"call-{uuid.uuid4()}", split) for _ in range(10_000))
    assert set(counts) == {"retell", "vapi"}
    assert abs(counts["retell"] / 10_000 - 0.5) <= 0.03


def test_uneven_weights_are_respected() -> None:
    split = {"retell": 80, "livekit": 20, "vapi": 0}
    counts = Counter(choose_arm(f"c{i}", split) for i in range(20_000))
    assert "vapi" not in counts
    assert abs(counts["livekit"] / 20_000 - 0.2) <= 0.02


def test_the_arm_is_deterministic_per_call() -> None:
    split = {"retell": 1, "vapi": 1, "signalwire": 1}
    for i in range(200):
        call = f"CA{i:032x}"
        assert choose_arm(call, split) == choose_arm(call, dict(reversed(split.items())))


def test_no_split_means_the_active_platform_first_then_the_fallback_order() -> None:
    plan = plan_route("c1", AgentRouting("retell", ("vapi", "signalwire", "retell")))
    assert plan.arm is None
    assert plan.candidates == ("retell", "vapi", "signalwire")


def test_split_arm_first_then_active_then_fallbacks_then_other_arms() -> None:
    routing = AgentRouting("livekit", ("signalwire",), {"retell": 50, "vapi": 50})
    call = next(f"c{i}" for i in range(100) if choose_arm(f"c{i}", routing.traffic_split) == "vapi")
    plan = plan_route(call, routing)
    assert plan.arm == "vapi"
    assert plan.candidates == ("vapi", "livekit", "signalwire", "retell")


def test_open_circuits_are_skipped_but_kept_as_a_last_resort() -> None:
    routing = AgentRouting("retell", ("vapi", "livekit"))
    plan = plan_route("c", routing, open_circuits={"retell"})
    assert plan.candidates == ("vapi", "livekit", "retell") and plan.skipped_open == ("retell",)
    plan = plan_route("c", routing, open_circuits={"retell", "vapi", "livekit"})
    assert plan.candidates == ("retell", "vapi", "livekit")


def test_unavailable_platforms_are_never_tried() -> None:
    plan = plan_route("c", AgentRouting("retell", ("vapi", "livekit")), available={"vapi", "livekit"})
    assert plan.candidates == ("vapi", "livekit")
    assert plan_route("c", AgentRouting(None), available=set()).candidates == ()


def test_invalid_weights_are_ignored() -> None:
    assert choose_arm("c", {"retell": "x", "vapi": -5}) is None
    assert choose_arm("c", {"retell": "x", "vapi": 3}) == "vapi"


def test_the_budget_is_shared_by_every_attempt() -> None:
    now = [100.0]
    budget = Budget(2.0, clock=lambda: now[0])
    assert budget.attempt_timeout(cap=1.5) == 1.5
    now[0] += 1.2
    assert abs(budget.attempt_timeout(cap=1.5) - 0.8) < 1e-9
    now[0] += 0.78
    assert budget.exhausted()
    now[0] += 5
    assert budget.remaining() == 0.0
