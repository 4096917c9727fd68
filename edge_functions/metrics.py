"""Prometheus metrics of the edge functions (prometheus-client, default registry)."""

from __future__ import annotations

import functools

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

REQUESTS = Counter("switchboard_function_requests_total", "Requests per edge function and status code",
                   ["function", "status"])
LATENCY = Histogram("switchboard_function_request_seconds", "Request latency per edge function", ["function"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5))
ROUTING_DECISIONS = Counter("switchboard_routing_decisions_total",
                            "Inbound calls by the platform they were handed to (or the outcome when none)",
                            ["provider", "outcome"])
HANDOFF_FAILURES = Counter("switchboard_routing_failovers_total",
                           "Hand-offs that failed, so the call moved on to the next platform", ["provider"])
HANDOFF_LATENCY = Histogram("switchboard_handoff_seconds", "Time a platform took to accept a hand-off",
                            ["provider", "ok"], buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2))
WEBHOOKS = Counter("switchboard_webhooks_total",
                   "Provider webhooks by outcome (stored, duplicate, rejected, malformed, unavailable, processed, failed)",
                   ["provider", "outcome"])
DB_WEBHOOKS = Counter("switchboard_agent_syncs_total", "sync-agent pushes by platform and outcome",
                      ["provider", "outcome"])
ROUTING_RECORDS_DROPPED = Counter("switchboard_routing_records_dropped_total",
                                  "Routing call_records rows given up (database away past the queue's bound, or refused)")
ROUTING_RECORDS_PENDING = Gauge("switchboard_routing_records_pending",
                                "Routing call_records rows answered but not yet written")


@functools.lru_cache(maxsize=4096)
def child(metric: MetricWrapperBase, *labels: str) -> MetricWrapperBase:
    """`metric.labels(*labels)`, remembered: the hot paths count every request, and the
    client's label lookup (validation, a lock, string conversion) costs more than the count."""
    return metric.labels(*labels)
