"""The end-of-call report: a LiveKit session's transcript and usage as a normalised `CallEvent`,
for `switchboard.ingest.record_call_event` (the same path provider webhooks take).

Usage comes from the session's usage collector: each vendor reports under its catalog key (see
agent_worker.bounded), so each line is priced with that key's `price_book` rows in the unit the
catalog prices it in; the platform (LiveKit agent minutes) and, for SIP calls, telephony minutes
are priced under the 'livekit' subject."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from livekit.agents import llm
from livekit.agents.metrics import LLMModelUsage, STTModelUsage, TTSModelUsage

from switchboard.billing import UsageItem
from switchboard.pipeline.catalog import BY_KEY

PLATFORM = "livekit"


def _units(key: str) -> set[str]:
    entry = BY_KEY.get(key)
    return {p.unit for p in entry.prices} if entry else set()


def usage_items(model_usage: list[Any], *, duration_seconds: float, sip: bool) -> list[UsageItem]:
    """Session usage → priceable quantities (natural units; see switchboard.billing)."""
    items: list[UsageItem] = []
    for usage in model_usage:
        key = usage.provider
        units = _units(key)
        if not units:
            continue  # not one of our vendors (e.g. the turn detector): free, kept only in the raw usage
        if isinstance(usage, LLMModelUsage):
            if "1m_input_tokens" in units:
                items.append(UsageItem(component="llm", subject=key, unit="1m_input_tokens", quantity=usage.input_tokens))
            if "1m_output_tokens" in units:
                items.append(UsageItem(component="llm", subject=key, unit="1m_output_tokens", quantity=usage.output_tokens))
        elif isinstance(usage, STTModelUsage) and "minute" in units:
            items.append(UsageItem(component="stt", subject=key, unit="minute", quantity=usage.audio_duration / 60))
        elif isinstance(usage, TTSModelUsage):
            if "1k_characters" in units:
                items.append(UsageItem(component="tts", subject=key, unit="1k_characters", quantity=usage.characters_count))
            elif "minute" in units:
                items.append(UsageItem(component="tts", subject=key, unit="minute", quantity=usage.audio_duration / 60))
    minutes = max(0.0, duration_seconds) / 60
    items.append(UsageItem(component="platform", subject=PLATFORM, unit="minute", quantity=minutes))
    if sip:
        items.append(UsageItem(component="telephony", subject=PLATFORM, unit="minute", quantity=minutes))
    return items


def transcript(history: llm.ChatContext) -> tuple[str, list[dict[str, Any]]]:
    """("Agent: …\\nUser: …", utterances and tool calls in order) — Retell's transcript layout."""
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
            entries.append({"role": role, "content": text, "at": at, "interrupted": bool(getattr(item, "interrupted", False))})
        elif item.type == "function_call":
            entries.append({"role": "tool_call", "name": item.name, "arguments": item.arguments, "at": at})
        elif item.type == "function_call_output":
            entries.append(
                {"role": "tool_result", "name": item.name, "content": item.output[:2000], "is_error": item.is_error, "at": at}
            )
    return "\n".join(lines), entries
