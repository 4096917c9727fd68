"""Adapter plumbing exists once (issue #12 point 4): every platform's adapter calls its platform
through `PlatformAdapter._call(operation, attempt)`, reports health through the base's
`health_check` over its own `_probe()`, and hands a call over SIP with the one `_bridge`."""

from __future__ import annotations

from uuid import uuid4

import pytest

from switchboard.providers.base import ProviderCredentials, ProviderRejected

from switchboard.spec import AgentSpec, InboundCall
from switchboard.providers.common import SIP_HEADERS, PlatformAdapter
from switchboard.providers.registry import PLATFORMS, provider_class
from switchboard.providers.resilience import RetryPolicy

SHARED = ("health_check", "_call", "_bridge")


@pytest.mark.parametrize("code", sorted(PLATFORMS))
def test_every_adapter_uses_the_shared_plumbing(code: str) -> None:
    cls = provider_class(code)
    assert issubclass(cls, PlatformAdapter)
    redefined = [name for name in SHARED if any(name in klass.__dict__ for klass in cls.__mro__[: cls.__mro__.index(PlatformAdapter)])]
    assert redefined == [], f"{cls.__name__} redefines {redefined}"
    assert "_probe" in cls.__dict__, f"{cls.__name__} has no probe of its own"


class Throwaway(PlatformAdapter):
    """A platform with nothing but a probe, to see the base's plumbing at work."""

    code = "throwaway"
    name = "Throwaway"
    capabilities = None  # type: ignore[assignment]
    create_agent = update_agent = delete_agent = create_call = end_call = list_voices = None  # type: ignore[assignment]
    hand_off_inbound = verify_webhook = parse_webhook = None  # type: ignore[assignment]

    def __init__(self, outcomes: list[BaseException | None]):
        super().__init__(ProviderCredentials(), retry=RetryPolicy(attempts=3, base_delay=0.001))
        self.outcomes = outcomes
        self.timeouts: list[float] = []

    async def _probe(self) -> None:
        await self._call("ping", self._attempt)

    async def _attempt(self, timeout: float) -> str:
        self.timeouts.append(timeout)
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return "pong"


async def test_health_check_times_the_probe_and_retries_what_may_succeed() -> None:
    adapter = Throwaway([ConnectionResetError("peer reset"), None])
    status = await adapter.health_check()
    assert status.ok and status.latency_ms > 0 and status.detail is None
    assert len(adapter.timeouts) == 2 and all(0 < t <= 10.0 for t in adapter.timeouts)


async def test_health_check_reports_the_failure_in_our_words() -> None:
    adapter = Throwaway([OSError("10.0.0.7:5432 refused"), OSError("again"), OSError("and again")])
    status = await adapter.health_check()
    assert not status.ok
    assert status.detail == "could not reach the platform (ping)"  # never the transport's words
    rejected = Throwaway([ProviderRejected("throwaway", "Throwaway refused the key (401) during ping", status_code=401)])
    status = await rejected.health_check()
    assert (status.ok, status.detail, len(rejected.timeouts)) == (False, "Throwaway refused the key (401) during ping", 1)


def test_bridge_answers_in_the_numbers_format() -> None:
    adapter = Throwaway([])
    call = InboundCall(telephony_call_id="tel-1", from_number="+15551230000", to_number="+15559870000",
                       organization_id=uuid4(), agent_config_id=uuid4(), call_record_id=uuid4())
    spec = AgentSpec(prompt="hi", max_duration_seconds=600)
    swml = adapter._bridge("sip:a@b.example", spec, call, provider_call_id="p-1")
    connect = swml.swml["sections"]["main"][0]["connect"]
    assert (swml.provider_call_id, connect["to"], connect["max_duration"]) == ("p-1", "sip:a@b.example", 600)
    assert {h["name"]: h["value"] for h in connect["headers"]}[SIP_HEADERS["call_record_id"]] == str(call.call_record_id)
    laml = adapter._bridge("sip:a@b.example?x=<y>", spec, call.model_copy(update={"answer_format": "laml"}))
    assert laml.swml is None and "<Sip>sip:a@b.example?x=&lt;y&gt;</Sip>" in laml.laml
