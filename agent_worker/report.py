"""The end-of-call report: a LiveKit session's transcript and usage as a normalised `CallEvent`,
for `switchboard.ingest.record_call_event` (the same path provider webhooks take).

Usage comes from the session's usage collector: each vendor reports under its catalog key (see
agent_worker.bounded), so each vendor's quantities are priced with that key's `price_book` rows,
in the units the catalog prices it in; the platform (LiveKit agent minutes) and, for SIP calls,
telephony minutes are priced under 'livekit' (switchboard.billing.CallUsage)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from livekit.agents import llm
from livekit.agents.metrics import LLMModelUsage, STTModelUsage, TTSModelUsage

from switchboard.billing import CallUsage, ComponentUsage
from switchboard.pipeline.catalog import BY_KEY
from switchboard.providers.livekit.platform import CODE as LIVEKIT

PLATFORM = LIVEKIT


def _units(key: str) -> set[str]:
    entry = BY_KEY.get(key)
    return entry.units if entry else set()


def _subject(key: str, model: str | None) -> str:
    """The price_book subject: the catalog key, or "<key>:<model>" for vendors priced per model."""
    return BY_KEY[key].price_subject(model)


def _minutes(seconds: float) -> Decimal:
    return (Decimal(str(max(0.0, seconds))) / 60).quantize(Decimal("0.000001"))


def call_usage(model_usage: list[Any], *, duration_seconds: float, sip: bool) -> CallUsage:
    """Session usage → the call's billable quantities."""
    components: list[ComponentUsage] = []
    for usage in model_usage:
        key = usage.provider
        units = _units(key)
        if not units:
            continue  # not one of our vendors (e.g. the turn detector): free, kept in the raw usage
        subject = _subject(key, getattr(usage, "model", None))
        if isinstance(usage, LLMModelUsage):
            components.append(ComponentUsage(
                component="llm", subject=subject,
                input_tokens=usage.input_tokens if "1m_input_tokens" in units else None,
                output_tokens=usage.output_tokens if "1m_output_tokens" in units else None,
            ))
        elif isinstance(usage, STTModelUsage) and "minute" in units:
            components.append(ComponentUsage(component="stt", subject=subject, minutes=_minutes(usage.audio_duration)))
        elif isinstance(usage, TTSModelUsage):
            if "1k_characters" in units:
                components.append(ComponentUsage(component="tts", subject=subject, characters=usage.characters_count))
            elif "minute" in units:
                components.append(ComponentUsage(component="tts", subject=subject, minutes=_minutes(usage.audio_duration)))
    minutes = _minutes(duration_seconds)
    return CallUsage(
        platform=PLATFORM, platform_minutes=minutes, telephony_minutes=minutes if sip else Decimal(0),
        components=components,
    )


def transcript(history: llm.ChatContext, latencies: dict[str, dict[str, float]] | None = None,
               ) -> tuple[str, list[dict[str, Any]]]:
    """("Agent: …\\nUser: …", utterances and tool calls in order) — Retell's transcript layout;
    a reply the framework timed carries its turn's latency (`latency_ms`, agent_worker.latency)."""
    lines: list[str] = []
    entries: list[dict[str, Any]] = []
    for item in history.items:
        at = datetime.fromtimestamp(item.created_at).astimezone().isoformat() if getattr(item, "created_at", None) else None
        if item.type == "message" and item.role in ("user", "assistant"):
            text = (item.text_content or "").strip()
            if not text:
                continue
            role = "agent" if item.role == "assistant" else "user"
            lines.append(f"{'Agent' if role == 'agent' else 'User'}: {text}")
            entry = {"role": role, "content": text, "at": at, "interrupted": bool(getattr(item, "interrupted", False))}
            if latencies and item.id in latencies:
                entry["latency_ms"] = latencies[item.id]
            entries.append(entry)
        elif item.type == "function_call":
            entries.append({"role": "tool_call", "name": item.name, "arguments": item.arguments, "at": at})
        elif item.type == "function_call_output":
            entries.append(
                {"role": "tool_result", "name": item.name, "content": item.output[:2000], "is_error": item.is_error, "at": at}
            )
    return "\n".join(lines), entries
