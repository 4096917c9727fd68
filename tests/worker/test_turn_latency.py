"""Latency per turn: a spoken call through the worker's real pipeline (espeak-ng speech → Silero
VAD → PocketSphinx → the local LLM → espeak-ng) records, for each reply to the caller, what
livekit-agents timed — end of speech → first agent audio, the transcript's and the end-of-turn
decision's delays, the LLM's first token, the TTS's first audio — and our overhead (what the
parts leave); the end-of-call report carries them, per turn in the transcript and as p50/p90 on
the call record. A text-mode turn (no speech, no audio) has no end-to-end time and none is made up."""

from __future__ import annotations

import pytest
from livekit.agents import llm

from agent_worker.latency import turn_latencies
from switchboard.db import Database
from switchboard.spec import CallLatency
from tests.worker.conftest import OFFLINE, create_org
from tests.worker.test_call_report import _call as text_call
from tests.worker.test_voice_roundtrip import ANSWER, QUESTION, spoken_call, until_answered


async def test_a_spoken_turn_is_timed_by_part_and_the_call_keeps_p50_p90(db: Database, db_url: str, vad) -> None:
    org = await create_org(db, begin_message=None, vendors=[
        ("pocketsphinx-stt", 10, True, {"keyphrases": [QUESTION, "goodbye"]}),
        ("local-llm", 10, True, {}),
        ("espeak-tts", 10, True, {}),
    ])
    async with spoken_call(db_url, org, vad, QUESTION, room="latency") as line:
        await until_answered(line.call, line.speaker, ANSWER)
    call, record_id = line.call, line.record_id

    turns = turn_latencies(call.session.history)
    [turn] = turns.values()  # the answer; the greeting answers nobody
    assert set(turn) == {"e2e", "stt", "eou", "llm", "tts", "overhead"}
    assert 0 < turn["e2e"] < 5000 and all(turn[p] >= 0 for p in turn)
    assert turn["stt"] <= turn["eou"]  # the end-of-turn decision waited for the transcript
    assert turn["overhead"] == pytest.approx(max(0.0, turn["e2e"] - turn["eou"] - turn["llm"] - turn["tts"]), abs=0.2)

    async with db.as_service() as conn:
        rec = await (await conn.execute("select * from call_records where id = %s", (record_id,))).fetchone()
        hist = await (await conn.execute(
            "select measure, sum(calls) n from latency_daily where organization_id = %s group by 1", (org.id,))).fetchall()
        parts = await (await conn.execute(
            "select part, calls, sum_ms from latency_parts_daily where organization_id = %s", (org.id,))).fetchall()
    assert rec["latency_turns"] == 1
    for part in turn:  # one turn: its p50 and p90 are the turn's own figures
        assert rec[f"latency_{part}_p50_ms"] == pytest.approx(turn[part], abs=0.1)
        assert rec[f"latency_{part}_p90_ms"] == pytest.approx(turn[part], abs=0.1)
    reply = next(e for e in rec["transcript_object"] if e["role"] == "agent" and e["content"] == ANSWER)
    assert reply["latency_ms"] == turn  # per turn, in the transcript
    assert {r["measure"]: r["n"] for r in hist} == {"e2e_p50": 1, "e2e_p90": 1}  # the dashboard's rollups
    assert {r["part"]: (r["calls"], pytest.approx(r["sum_ms"], abs=0.1)) for r in parts} == {
        p: (1, turn[p]) for p in ("stt", "eou", "llm", "tts", "overhead")}


async def test_a_text_turn_has_no_end_to_end_time(db: Database, db_url: str, vad) -> None:
    org = await create_org(db, vendors=OFFLINE)
    call, record_id = await text_call(db_url, vad, org.metadata())
    replies = [i for i in call.session.history.items if i.type == "message" and i.role == "assistant"]
    assert replies[-1].metrics.get("llm_node_ttft") is not None  # the framework timed the LLM…
    assert turn_latencies(call.session.history) == {}  # …but nobody stopped speaking: no turn latency
    assert call.report().latency is None
    async with db.as_service() as conn:
        rec = await (await conn.execute("select latency_turns, latency_e2e_p50_ms from call_records where id = %s",
                                        (record_id,))).fetchone()
    assert (rec["latency_turns"], rec["latency_e2e_p50_ms"]) == (None, None)


def test_turns_pair_each_reply_with_the_callers_message_before_it() -> None:
    """The framework's own message types, as its history holds them after three replies."""
    ctx = llm.ChatContext()
    ctx.add_message(role="assistant", content="Hello!", metrics={"e2e_latency": 9.0})  # greeting: nobody asked
    ctx.add_message(role="user", content="hours?", metrics={
        "stopped_speaking_at": 1.0, "transcription_delay": 0.2, "end_of_turn_delay": 0.5})
    first = ctx.add_message(role="assistant", content="9 to 5.", metrics={
        "e2e_latency": 1.0, "llm_node_ttft": 0.2, "tts_node_ttfb": 0.25})
    ctx.add_message(role="user", content="where?", metrics={
        "stopped_speaking_at": 5.0, "transcription_delay": 0.1, "end_of_turn_delay": 0.4})
    second = ctx.add_message(role="assistant", content="High Street.", metrics={
        "e2e_latency": 1.2, "llm_node_ttft": 0.5, "tts_node_ttfb": 0.4})  # preemptive: parts overlap
    ctx.add_message(role="user", content="thanks", metrics={})
    ctx.add_message(role="assistant", content="Bye.", metrics={"llm_node_ttft": 0.1})  # never played
    turns = turn_latencies(ctx)
    assert turns == {
        first.id: {"e2e": 1000.0, "stt": 200.0, "eou": 500.0, "llm": 200.0, "tts": 250.0, "overhead": 50.0},
        second.id: {"e2e": 1200.0, "stt": 100.0, "eou": 400.0, "llm": 500.0, "tts": 400.0, "overhead": 0.0},
    }
    latency = CallLatency.from_turns(list(turns.values()))
    assert latency.turns == 2
    assert (latency.e2e.p50_ms, latency.e2e.p90_ms) == (1100.0, 1180.0)
    assert (latency.overhead.p50_ms, latency.overhead.p90_ms) == (25.0, 45.0)
