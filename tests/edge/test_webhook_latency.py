"""The hosted platforms' reported latencies, stored as the worker's are (p50/p90 per call and
part): Retell's `call.latency` (e2e, asr, llm, tts) and Vapi's per-turn
`artifact.performanceMetrics.turnLatencies`, each in a payload checked against the platform's
published document and posted through the webhook router. What a platform does not report
(Retell's end-of-turn delay and overhead) stays NULL."""

from __future__ import annotations

import pytest

from switchboard.db import Database
from tests.support.openapi import openapi_document
from tests.support.prism import CONTRACTS

from .conftest import Edge, Seeded
from .payloads import retell_call, retell_webhook, vapi_message, vapi_webhook
from .test_webhooks import _vapi_org, ids, post, rows

RETELL_LATENCY = {
    "e2e": {"p50": 812.0, "p90": 1190.5, "p95": 1400, "p99": 2400, "max": 2600, "min": 540, "num": 7,
            "values": [540, 700, 790, 812, 900, 1100, 2600]},
    "asr": {"p50": 130, "p90": 210},
    "llm": {"p50": 402, "p90": 655},
    "tts": {"p50": 180, "p90": 260},
    "knowledge_base": {"p50": 90, "p90": 120},  # no part of ours
}


async def test_retells_latency_is_kept_per_call_as_it_reports_it(edge: Edge, db: Database, seeded: Seeded) -> None:
    call = retell_call("call_lat1", ids=ids(seeded), to_number=seeded.number, analysed=True) | {"latency": RETELL_LATENCY}
    openapi_document(CONTRACTS / "retell-openapi.yaml").validate_component("V2PhoneCallResponse", call, strict=False)
    r = await post(edge, f"retell/{seeded.organization_id}", *retell_webhook("call_analyzed", call))
    assert r.status_code == 200, r.text
    await edge.settle()
    [rec] = await rows(db, "select * from call_records")
    assert rec["latency_turns"] == 7
    assert (rec["latency_e2e_p50_ms"], rec["latency_e2e_p90_ms"]) == (812.0, 1190.5)
    assert (rec["latency_stt_p50_ms"], rec["latency_stt_p90_ms"]) == (130.0, 210.0)
    assert (rec["latency_llm_p50_ms"], rec["latency_tts_p90_ms"]) == (402.0, 260.0)
    assert rec["latency_eou_p50_ms"] is None and rec["latency_overhead_p50_ms"] is None  # not reported: unknown
    # an earlier event without latency (call_ended replayed late) blanks nothing
    ended = retell_call("call_lat1", ids=ids(seeded), to_number=seeded.number)
    assert (await post(edge, f"retell/{seeded.organization_id}", *retell_webhook("call_ended", ended))).status_code == 200
    await edge.settle()
    [rec] = await rows(db, "select latency_e2e_p50_ms from call_records")
    assert rec["latency_e2e_p50_ms"] == 812.0
    hist = await rows(db, "select measure, sum(calls) n from latency_daily group by 1")
    assert {r["measure"]: r["n"] for r in hist} == {"e2e_p50": 1, "e2e_p90": 1}
    parts = await rows(db, "select part, calls, sum_ms from latency_parts_daily")
    assert {r["part"]: (r["calls"], r["sum_ms"]) for r in parts} == {"stt": (1, 130), "llm": (1, 402), "tts": (1, 180)}


async def test_vapis_turn_latencies_become_the_calls_p50_p90(edge: Edge, db: Database, seeded: Seeded) -> None:
    await _vapi_org(db, seeded)
    report = vapi_message("end-of-call-report", "vapi-lat-1", ids=ids(seeded), to_number=seeded.number)
    report["message"]["artifact"]["performanceMetrics"] = {
        "turnLatencies": [
            {"modelLatency": 300, "voiceLatency": 150, "transcriberLatency": 100, "endpointingLatency": 400, "turnLatency": 1000},
            {"modelLatency": 500, "voiceLatency": 250, "transcriberLatency": 120, "endpointingLatency": 300, "turnLatency": 1200},
            {"modelLatency": 400, "voiceLatency": 200, "transcriberLatency": 80, "endpointingLatency": 500, "turnLatency": 1400},
        ],
        "turnLatencyAverage": 1200, "modelLatencyAverage": 400,
    }
    openapi_document(CONTRACTS / "vapi-openapi.json").validate_component(
        "ServerMessageEndOfCallReport", report["message"], strict=False)
    assert (await post(edge, "vapi", *vapi_webhook(report))).status_code == 200
    await edge.settle()
    [rec] = await rows(db, "select * from call_records")
    assert rec["latency_turns"] == 3
    assert (rec["latency_e2e_p50_ms"], rec["latency_e2e_p90_ms"]) == (1200.0, pytest.approx(1360.0))
    assert (rec["latency_eou_p50_ms"], rec["latency_llm_p50_ms"], rec["latency_tts_p50_ms"], rec["latency_stt_p50_ms"]) == (
        400.0, 400.0, 200.0, 100.0)
    assert rec["latency_overhead_p50_ms"] is None  # Vapi names no overhead; none is derived
