"""Traces of the edge functions, through the real app and Postgres: a routed call makes the
request, routing and hand-off spans of one trace, each with the call's ids; a failed hand-off is
a failed span; a webhook makes its ingestion spans; with OTEL_EXPORTER_OTLP_ENDPOINT set the
spans reach a collector as OTLP/HTTP protobuf; unset, nothing is set up. No phone number in any
span."""

from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.trace import SpanKind, StatusCode

from switchboard import telemetry
from switchboard.db import Database
from switchboard.inbound import call_record_id_for
from tests.support.tracing import Spans, spans  # noqa: F401  (fixture)

from .conftest import Edge, FailingPlatform, Seeded, running_edge, seed_org, use_settings
from .payloads import retell_call, retell_webhook
from .test_router import ROUTER, swml_request

CALLER = "+14155550123"  # swml_request's caller


def call_ids(call_id: str, seeded: Seeded) -> dict[str, str]:
    return {"switchboard.call_id": call_id, "switchboard.call_record_id": str(call_record_id_for(call_id)),
            "switchboard.organization_id": str(seeded.organization_id)}


def ids_of(span) -> dict[str, str]:
    return {k: v for k, v in span.attributes.items() if k in ("switchboard.call_id", "switchboard.call_record_id",
                                                               "switchboard.organization_id")}


async def test_a_routed_call_makes_request_routing_and_hand_off_spans(edge: Edge, db: Database, spans: Spans) -> None:  # noqa: F811
    s = await seed_org(db, active="livekit")
    call_id = str(uuid.uuid4())
    r = await edge.client.post(ROUTER, content=(req := swml_request(s.number, call_id))[0], headers=req[1])
    assert r.status_code == 200 and "sip:" in r.text

    request, route, hand_off = spans.one("POST voice-ai-router"), spans.one("routing.route"), spans.one("hand_off")
    assert request.kind == SpanKind.SERVER and request.attributes["http.response.status_code"] == 200
    assert (hand_off.parent.span_id, route.parent.span_id) == (route.context.span_id, request.context.span_id)  # nested
    assert route.attributes["switchboard.outcome"] == "routed" and route.attributes["switchboard.platform"] == "livekit"
    assert hand_off.attributes["switchboard.platform"] == "livekit" and hand_off.status.is_ok
    for span in (request, route, hand_off):
        assert ids_of(span) == call_ids(call_id, s), span.name
    assert not [v for v in spans.attribute_values() if CALLER in v or s.number in v]


async def test_a_failed_hand_off_is_a_failed_span_and_the_next_one_takes_the_call(db_url: str, db: Database,
                                                                                  spans: Spans, monkeypatch) -> None:  # noqa: F811
    async with FailingPlatform("500") as down:
        use_settings(monkeypatch, RETELL_BASE_URL=down.url)
        async with running_edge(db_url) as edge:
            s = await seed_org(db, active="retell", fallback=["livekit"])
            call_id = str(uuid.uuid4())
            r = await edge.client.post(ROUTER, content=(req := swml_request(s.number, call_id))[0], headers=req[1])
            assert r.status_code == 200
    first, second = sorted(spans.named("hand_off"), key=lambda sp: sp.attributes["switchboard.attempt"])
    assert (first.attributes["switchboard.platform"], second.attributes["switchboard.platform"]) == ("retell", "livekit")
    assert first.status.status_code == StatusCode.ERROR and second.status.is_ok
    register = spans.one("register-phone-call")  # Retell's API, asked inside the failed hand-off
    assert register.kind == SpanKind.CLIENT and register.parent.span_id == first.context.span_id
    assert register.status.status_code == StatusCode.ERROR and register.attributes["switchboard.platform"] == "retell"
    # our words and the error's type, never the exception's text or traceback (they may quote the platform)
    assert "answered 500" in register.status.description and register.attributes["error.type"] and not register.events
    route = spans.one("routing.route")
    assert route.attributes["switchboard.platform"] == "livekit" and route.attributes["switchboard.failovers"] == 1
    assert ids_of(first) == ids_of(second) == call_ids(call_id, s)


async def test_a_webhook_makes_its_ingestion_spans(edge: Edge, db: Database, seeded: Seeded, spans: Spans) -> None:  # noqa: F811
    ids = {"organization_id": str(seeded.organization_id), "agent_config_id": str(seeded.agent_config_id)}
    body, headers = retell_webhook("call_ended", retell_call("call_t1", ids=ids, to_number=seeded.number))
    r = await edge.client.post(f"/functions/v1/provider-webhook-router/retell/{seeded.organization_id}",
                               content=body, headers=headers)
    assert r.status_code == 200, r.text
    await edge.settle()
    request, receive, process = (spans.one("POST provider-webhook-router"), spans.one("webhook.receive"),
                                 spans.one("webhook.process"))
    assert receive.parent.span_id == request.context.span_id
    assert process.context.trace_id == request.context.trace_id  # merged after the answer, in the same trace
    assert receive.attributes["switchboard.outcome"] == "stored" and receive.attributes["switchboard.platform"] == "retell"
    assert receive.attributes["switchboard.event_id"] == "call_t1:call_ended"
    assert process.attributes["switchboard.outcome"] == "processed"
    for span in (request, receive, process):
        assert span.attributes["switchboard.call_id"] == "call_t1", span.name
    assert receive.attributes["switchboard.organization_id"] == str(seeded.organization_id)
    assert not [v for v in spans.attribute_values() if "+1415555" in v or seeded.number in v]


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector: keeps each POST to /v1/traces, decoded as the protocol says."""

    received: list[tuple[str, str, ExportTraceServiceRequest]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Collector.received.append((self.path, self.headers["Content-Type"], ExportTraceServiceRequest.FromString(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def collector():
    Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)  # a thread: the exporter posts synchronously
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_with_an_otlp_endpoint_spans_reach_the_collector(db_url: str, db: Database, collector: str,
                                                               monkeypatch) -> None:
    use_settings(monkeypatch, OTEL_EXPORTER_OTLP_ENDPOINT=collector)
    s = await seed_org(db, active="livekit")
    call_id = str(uuid.uuid4())
    try:
        async with running_edge(db_url) as edge:  # the server's own start-up configures tracing
            assert telemetry.enabled()
            r = await edge.client.post(ROUTER, content=(req := swml_request(s.number, call_id))[0], headers=req[1])
            assert r.status_code == 200
    finally:
        telemetry.shutdown()  # what exit does: the batch is exported
    assert Collector.received, "no export reached the collector"
    path, content_type, _ = Collector.received[0]
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    exported = {}
    for *_, req in Collector.received:
        for rs in req.resource_spans:
            service = {a.key: a.value.string_value for a in rs.resource.attributes}["service.name"]
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    exported[sp.name] = (service, {a.key: a.value.string_value for a in sp.attributes})
    assert {"POST voice-ai-router", "routing.route", "hand_off"} <= set(exported)
    service, attributes = exported["hand_off"]
    assert service == "switchboard-edge-functions"
    assert attributes["switchboard.call_id"] == call_id and attributes["switchboard.platform"] == "livekit"


def test_without_an_endpoint_nothing_is_set_up(monkeypatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert telemetry.configure("switchboard-test") is None and not telemetry.enabled()
    with telemetry.span("anything", {"switchboard.platform": "retell"}) as span:
        assert not span.is_recording()


async def test_every_request_is_a_server_span_with_its_route(edge: Edge, spans: Spans) -> None:  # noqa: F811
    r = await edge.client.get("/health", headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    assert r.status_code == 200
    span = spans.one("GET health")
    assert span.kind == SpanKind.SERVER and span.attributes["http.route"] == "/health"
    assert format(span.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"  # the caller's trace continues
