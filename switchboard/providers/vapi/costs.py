"""Vapi's cost report → CostBreakdown. Vapi reports USD: `call.costBreakdown` {transport, stt,
llm, tts, vapi, total} (post-call analysis, `analysisCostBreakdown`, is LLM work and counted as
llm), else the `costs[]` list by type, else only the total `cost` (then booked to platform)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from switchboard.billing import usd
from switchboard.spec import CostBreakdown

_COSTS_TYPE = {"transport": "telephony", "transcriber": "stt", "model": "llm", "voice": "tts", "vapi": "platform",
               "analysis": "llm", "voicemail-detection": "platform", "knowledge-base": "llm"}


def _d(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


def vapi_cost(message: dict[str, Any]) -> CostBreakdown | None:
    call = message.get("call") if isinstance(message.get("call"), dict) else {}
    breakdown = call.get("costBreakdown") or message.get("costBreakdown")
    if isinstance(breakdown, dict) and breakdown:
        analysis = breakdown.get("analysisCostBreakdown") or {}
        analysis_total = sum(
            (_d(v) for k, v in analysis.items() if not k.endswith("Tokens")), Decimal(0)
        ) if isinstance(analysis, dict) else Decimal(0)
        parts = {
            "telephony": _d(breakdown.get("transport")),
            "stt": _d(breakdown.get("stt")),
            "llm": _d(breakdown.get("llm")),
            "tts": _d(breakdown.get("tts")),
            "platform": _d(breakdown.get("vapi")) + _d(breakdown.get("chat")),
        }
        total = breakdown.get("total")
        if total is not None:
            # The total also covers post-call analysis (LLM work); anything else the parts do
            # not explain is Vapi's, so the breakdown always adds up to what Vapi billed.
            rest = _d(total) - sum(parts.values(), Decimal(0))
            analysis_part = min(max(rest, Decimal(0)), analysis_total)
            parts["llm"] += analysis_part
            parts["platform"] += rest - analysis_part
        return CostBreakdown(**{k: usd(v) for k, v in parts.items()}, source="reported")
    costs = message.get("costs") or call.get("costs")
    if isinstance(costs, list) and costs:
        parts = {c: Decimal(0) for c in ("stt", "llm", "tts", "platform", "telephony")}
        for item in costs:
            if isinstance(item, dict):
                parts[_COSTS_TYPE.get(str(item.get("type")), "platform")] += _d(item.get("cost"))
        return CostBreakdown(**{k: usd(v) for k, v in parts.items()}, source="reported")
    total = message.get("cost", call.get("cost"))
    if total is not None:
        return CostBreakdown(platform=usd(_d(total)), source="reported")
    return None
