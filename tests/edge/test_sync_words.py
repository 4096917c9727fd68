"""Issue #13: the sync state a person reads. A platform the agent does not use is "not in use",
never "failed"; a missing key or the LiveKit SIP-trunk step reads as a set-up step in words."""

from __future__ import annotations

from switchboard.agent_sync import in_use, shown_state


def test_in_use_means_active_a_fallback_or_a_split_arm() -> None:
    assert in_use("retell", active="retell", fallback_order=[], traffic_split={})
    assert in_use("vapi", active="retell", fallback_order=["vapi"], traffic_split={})
    assert in_use("vapi", active="retell", fallback_order=[], traffic_split={"retell": 50, "vapi": 50})
    assert not in_use("livekit", active="retell", fallback_order=["vapi"], traffic_split={"vapi": 0})


def test_an_unused_platform_is_not_in_use_even_with_a_stored_failure() -> None:
    s = shown_state("livekit", "LiveKit", used=False, status="failed", error="['numbers']", key_missing=None)
    assert (s.state, s.tone) == ("not in use", "gray") and "[" not in s.reason


def test_a_missing_key_and_the_sip_trunk_are_set_up_steps() -> None:
    s = shown_state("retell", "Retell AI", used=True, status="failed", error="Retell API key is not configured",
                    key_missing=True)
    assert (s.state, s.tone, s.action) == ("needs set-up", "amber", "settings")
    assert s.reason == "needs your Retell AI API key — add it in Settings"
    s = shown_state("retell", "Retell AI", used=True, status="failed", error="Retell API key is not configured",
                    key_missing=False)
    assert s.state == "pending"
    s = shown_state("livekit", "LiveKit", used=True, status="failed",
                    error="an inbound SIP trunk needs numbers, SIP credentials or allowed addresses", key_missing=False)
    assert (s.state, s.tone, s.action) == ("needs set-up", "amber", "settings") and "phone number" in s.reason
    s = shown_state("vapi", "Vapi", used=True, status="failed", error="Vapi said 401", key_missing=False)
    assert (s.state, s.tone) == ("failed", "red")
