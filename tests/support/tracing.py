"""Spans captured in memory: tracing configured for the test's process through the shells' own
start-up (`switchboard.telemetry.configure`, the worker's `agent_worker.tracing.configure`),
exported synchronously into an `InMemorySpanExporter`, and switched off again afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from switchboard import telemetry


class Spans(InMemorySpanExporter):
    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.get_finished_spans() if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, (name, [s.name for s in self.get_finished_spans()])
        return found[0]

    def attribute_values(self) -> list[str]:
        """Every attribute value of every span, as text (to look for what must not be there)."""
        return [str(v) for s in self.get_finished_spans() for v in (s.attributes or {}).values()]


@pytest.fixture
def spans() -> Iterator[Spans]:
    exporter = Spans()
    telemetry.configure("switchboard-test", exporter=exporter)
    yield exporter
    telemetry.shutdown()
