"""Latency per turn, as livekit-agents measured it: each reply's `ChatMessage.metrics` (the
framework's per-turn report; its `metrics_collected` event is deprecated in favour of these)
carries `e2e_latency` (the caller stopped speaking → the agent's first audio frame),
`llm_node_ttft` and `tts_node_ttfb`; the caller's message before it carries
`transcription_delay` and `end_of_turn_delay`. Nothing is timed again here.

A turn is a reply to the caller (the greeting is not one). Its `overhead` is what the parts leave
of `e2e` — the end-of-turn decision (which waits for the transcript, so `stt` is inside it), the
LLM's first token, the TTS's first audio — i.e. our own time between them. With preemptive
generation the LLM can start before the turn ends, so the parts may overlap: overhead is then
floored at 0."""

from __future__ import annotations

from typing import Any

from livekit.agents import llm

from switchboard.spec import CallLatency


def _ms(seconds: Any) -> float | None:
    return round(float(seconds) * 1000, 1) if isinstance(seconds, (int, float)) and seconds >= 0 else None


def turn_latency(user: dict[str, Any], reply: dict[str, Any]) -> dict[str, float] | None:
    """One reply's latency in milliseconds by part (spec.LATENCY_PARTS; parts not measured are
    left out), or None when the framework did not time the reply (it never played, text mode)."""
    e2e = _ms(reply.get("e2e_latency"))
    if e2e is None:
        return None
    turn = {"e2e": e2e, "stt": _ms(user.get("transcription_delay")), "eou": _ms(user.get("end_of_turn_delay")),
            "llm": _ms(reply.get("llm_node_ttft")), "tts": _ms(reply.get("tts_node_ttfb"))}
    if None not in (turn["eou"], turn["llm"], turn["tts"]):
        turn["overhead"] = round(max(0.0, e2e - turn["eou"] - turn["llm"] - turn["tts"]), 1)
    return {k: v for k, v in turn.items() if v is not None}


def turn_latencies(history: llm.ChatContext) -> dict[str, dict[str, float]]:
    """Reply message id → its turn's latency, for every reply to the caller the framework timed."""
    turns: dict[str, dict[str, float]] = {}
    user: dict[str, Any] | None = None  # the caller's message not answered yet
    for item in history.items:
        if item.type != "message":
            continue
        if item.role == "user":
            user = dict(item.metrics or {})
        elif item.role == "assistant" and user is not None:
            turn = turn_latency(user, dict(item.metrics or {}))
            if turn is not None:
                turns[item.id] = turn
                user = None
    return turns


def call_latency(turns: dict[str, dict[str, float]]) -> CallLatency | None:
    return CallLatency.from_turns(list(turns.values()))
