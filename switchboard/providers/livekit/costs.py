"""LiveKit reports no cost: a call's cost is computed from what our worker measured
(`AgentSession.usage`: one entry per STT/LLM/TTS model) and the session's length, priced from the
price book — LiveKit's agent-session minute and SIP minute under subject "livekit", each vendor
under its catalog key ("openai-llm", "cartesia-tts", …)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from switchboard.billing import CallUsage, ComponentUsage, PriceBook, price_usage
from switchboard.providers.base import CostBreakdown

_TYPES = {"stt_usage": "stt", "llm_usage": "llm", "tts_usage": "tts"}


class ModelUsage(BaseModel):
    """One entry of livekit-agents' `AgentSession.usage.model_usage` (as `model_dump()` gives it);
    `catalog_key` names the price_book subject when the worker knows it, otherwise it is
    "<provider>-<stt|llm|tts>" (the catalog's naming)."""

    type: str
    provider: str
    model: str = ""
    catalog_key: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    characters_count: int = 0
    audio_duration: float = 0.0

    def component_usage(self) -> ComponentUsage | None:
        component = _TYPES.get(self.type)
        if component is None:
            return None
        subject = self.catalog_key or f"{self.provider.lower()}-{component}"
        if component == "stt":
            return ComponentUsage(component="stt", subject=subject, minutes=Decimal(str(self.audio_duration)) / 60)
        if component == "llm":
            return ComponentUsage(component="llm", subject=subject, input_tokens=self.input_tokens, output_tokens=self.output_tokens)
        return ComponentUsage(component="tts", subject=subject, characters=self.characters_count)


def session_usage(*, session_seconds: float, sip: bool, model_usage: list[dict[str, Any]]) -> CallUsage:
    minutes = Decimal(str(session_seconds)) / 60
    components = [u for u in (ModelUsage.model_validate(m).component_usage() for m in model_usage) if u is not None]
    return CallUsage(platform="livekit", platform_minutes=minutes, telephony_minutes=minutes if sip else Decimal(0), components=components)


def livekit_cost(usage: CallUsage, prices: PriceBook | None, *, on=None) -> CostBreakdown | None:
    return price_usage(prices, usage, on=on) if prices is not None else None
