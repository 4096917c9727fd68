"""The worker's traces: `switchboard.telemetry`'s provider handed to livekit-agents' own hook
(`livekit.agents.telemetry.set_tracer_provider`), so the session's spans — agent and user turns,
LLM, TTS, tool calls — are exported with ours and carry the call's ids (bound by the entrypoint).
Conversation content is withheld from every exporter (`allow_pii=False`): spans carry ids and
timings, never what the caller said."""

from __future__ import annotations

from livekit.agents import telemetry as agents_telemetry
from opentelemetry import trace

from switchboard import telemetry

SERVICE = "switchboard-agent-worker"


def configure(exporter=None):
    """Trace this job process when OTEL_EXPORTER_OTLP_ENDPOINT is set (or into `exporter`)."""
    provider = telemetry.configure(SERVICE, exporter=exporter)
    if provider is not None:
        agents_telemetry.set_tracer_provider(provider, allow_pii=False)
    return provider


def shutdown() -> None:
    """Export what is buffered and stop tracing (livekit-agents back on a no-op provider)."""
    telemetry.shutdown()
    agents_telemetry.set_tracer_provider(trace.NoOpTracerProvider())
