"""OpenTelemetry traces: spans for routing, hand-off, webhook ingestion and the worker's turns,
each carrying the ids of the call it serves.

* The core uses the API only (`span()`); while tracing is off a span is a flag check, so the
  hot paths pay next to nothing.
* A shell's start-up calls `configure(service)`: with `OTEL_EXPORTER_OTLP_ENDPOINT` (or
  `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, an SDK provider exporting in batches over OTLP
  (http/protobuf, or gRPC when `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`); unset, nothing at all.
  The SDK and the exporters are the shells' dependencies, imported only here, only then.
* Ids: every span gets the call id, call record id and organisation id bound for the logs
  (`switchboard.logs.bind`) — at its start, through a span processor (so livekit-agents' spans
  get them too), and ours again at their end (ids learnt inside, e.g. once a request is parsed).
  Only ids: never a phone number, a transcript or a key.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import trace

from switchboard.errors import SwitchboardError
from switchboard.logs import current_context

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

# log-context key → span attribute
CALL_IDS = (
    ("call_id", "switchboard.call_id"),
    ("call_record_id", "switchboard.call_record_id"),
    ("organization_id", "switchboard.organization_id"),
)
SpanKind = trace.SpanKind
T = TypeVar("T")

_tracer: trace.Tracer | None = None  # None: tracing is off
_provider: TracerProvider | None = None


def enabled() -> bool:
    return _tracer is not None


def call_attributes() -> dict[str, str]:
    """The call's ids bound so far in this context, as span attributes."""
    ctx = current_context()
    return {attr: str(ctx[key]) for key, attr in CALL_IDS if ctx.get(key) is not None}


class _Off:
    """The span while tracing is off: a shared no-op (no generator, no allocation)."""

    def __enter__(self) -> trace.Span:
        return trace.INVALID_SPAN

    def __exit__(self, *exc: object) -> None:
        return None


_OFF = _Off()


def span(name: str, attributes: Mapping[str, Any] | None = None, *, kind: trace.SpanKind = SpanKind.INTERNAL,
         context: Any = None) -> contextlib.AbstractContextManager[trace.Span]:
    """A span made current for the block (a non-recording one while tracing is off);
    attributes that are None are left out. An exception leaving the block fails the span."""
    if _tracer is None:
        return _OFF
    return _recording(_tracer, name, attributes, kind, context)


@contextlib.contextmanager
def _recording(tracer: trace.Tracer, name: str, attributes: Mapping[str, Any] | None, kind: trace.SpanKind,
               context: Any) -> Iterator[trace.Span]:
    with tracer.start_as_current_span(name, context=context, kind=kind, attributes=_given(attributes),
                                      record_exception=False, set_status_on_exception=False) as s:
        try:
            yield s
        except BaseException as exc:
            # The exception's type and our own words only: its text, traceback and chain may
            # quote what a platform answered (a number, a body).
            s.set_attribute("error.type", type(exc).__qualname__)
            s.set_status(trace.StatusCode.ERROR, str(exc) if isinstance(exc, SwitchboardError) else None)
            raise
        finally:
            s.set_attributes(call_attributes())


def traced(name: str, result: Callable[[Any], Mapping[str, Any]] | None = None):
    """Decorate a coroutine function: its call is a span; `result(value)` gives attributes
    read from what it returns (its outcome)."""
    def decorate(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> T:
            if _tracer is None:
                return await fn(*args, **kwargs)
            with span(name) as s:
                value = await fn(*args, **kwargs)
                if result is not None:
                    s.set_attributes(_given(result(value)))
                return value
        return wrapper
    return decorate


def annotate(attributes: Mapping[str, Any]) -> None:
    """Add attributes (None ones left out) to the current span, if tracing."""
    if _tracer is not None:
        trace.get_current_span().set_attributes(_given(attributes))


def failed(s: trace.Span, error: str | None) -> None:
    """Mark a span failed with our words (not an exception's) when `error` is set."""
    if error is not None:
        s.set_status(trace.StatusCode.ERROR, error)


def _given(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (attributes or {}).items() if v is not None}


def configure(service: str, *, exporter: SpanExporter | None = None) -> TracerProvider | None:
    """Start tracing for this process when an OTLP endpoint is configured, or into `exporter`
    (tests: an in-memory one, exported synchronously). Returns the SDK provider, or None when
    tracing stays as it was (off, unless configured before)."""
    global _tracer, _provider
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if exporter is None and (not endpoint or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true"):
        return None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or service}))
    provider.add_span_processor(_call_ids_processor())
    provider.add_span_processor(SimpleSpanProcessor(exporter) if exporter is not None else BatchSpanProcessor(_otlp()))
    if _provider is not None:
        _provider.shutdown()
    _provider, _tracer = provider, provider.get_tracer("switchboard")
    return provider


def flush(timeout_seconds: float = 5.0) -> None:
    """Export what is buffered now (blocking: call it off the event loop)."""
    if _provider is not None:
        _provider.force_flush(int(timeout_seconds * 1000))


def shutdown() -> None:
    """Export what is buffered and stop tracing (the provider also flushes at exit)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = None


def _otlp() -> SpanExporter:
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # reads the endpoint (adding /v1/traces), headers and timeout itself


def _call_ids_processor():
    from opentelemetry.sdk.trace import SpanProcessor

    class CallIds(SpanProcessor):
        """Stamps the call's ids bound in the span's context on every span as it starts."""

        def on_start(self, span, parent_context=None) -> None:
            ids = call_attributes()
            if ids:
                span.set_attributes(ids)

    return CallIds()
