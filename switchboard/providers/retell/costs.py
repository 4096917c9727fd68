"""Retell's `call.call_cost` → CostBreakdown. Retell reports every product's cost in cents
(`product_costs[]`) and their sum as `combined_cost`; products are named by vendor and model
("elevenlabs_tts", "gpt_4o_mini", "retell_platform", "retell_twilio", …), so each is assigned to
a component by its name, and anything unrecognised is Retell's own (platform). When the products
do not add up to `combined_cost` (a discount, a product missing from the list) the difference is
booked to platform, so the total is exactly what Retell billed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from switchboard.billing import cents_to_usd
from switchboard.spec import CostBreakdown

_TTS = ("tts", "elevenlabs", "cartesia", "minimax", "fish_audio", "playht", "voice_synthesis")
_LLM = ("llm", "gpt", "claude", "gemini", "o1", "o3", "o4", "llama", "deepseek", "model")
_STT = ("stt", "asr", "transcri", "speech_recognition")
_TELEPHONY = ("twilio", "telnyx", "vonage", "telephony", "sip", "pstn", "phone", "number")


def component_of(product: str) -> str:
    name = product.lower()
    if any(k in name for k in _TELEPHONY):
        return "telephony"
    if any(k in name for k in _TTS):
        return "tts"
    if any(k in name for k in _STT):
        return "stt"
    if any(name.startswith(k) or f"_{k}" in name or k in name.split("_") for k in _LLM):
        return "llm"
    return "platform"


def retell_cost(call_cost: dict[str, Any] | None) -> CostBreakdown | None:
    if not call_cost or "product_costs" not in call_cost:
        return None
    cents: dict[str, Decimal] = {c: Decimal(0) for c in ("stt", "llm", "tts", "platform", "telephony")}
    for item in call_cost.get("product_costs") or []:
        cents[component_of(str(item.get("product", "")))] += Decimal(str(item.get("cost") or 0))
    combined = call_cost.get("combined_cost")
    if combined is not None:
        cents["platform"] += Decimal(str(combined)) - sum(cents.values(), Decimal(0))
    return CostBreakdown(**{c: cents_to_usd(v) for c, v in cents.items()}, source="reported")
