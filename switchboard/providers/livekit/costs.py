"""LiveKit reports no cost. Our worker measures each call — agent-session minutes, SIP minutes,
and every STT/LLM/TTS vendor's quantities under its catalog key (`agent_worker.report.call_usage`
→ `switchboard.billing.CallUsage`, carried in the end-of-call event's `usage`) — and the cost is
that usage × the price book: LiveKit's minute prices under "livekit", each vendor's under its
catalog key ("openai-llm", "cartesia-tts", …)."""

from __future__ import annotations

from datetime import date
from typing import Any

from switchboard.billing import CallUsage, PriceBook, price_usage_if_known
from switchboard.spec import CostBreakdown


def livekit_cost(usage: CallUsage | dict[str, Any], prices: PriceBook | None, *, on: date | None = None) -> CostBreakdown | None:
    """The call's cost (source "computed"), or None while a price is unknown (the usage is kept)."""
    return price_usage_if_known(prices, CallUsage.model_validate(usage) if isinstance(usage, dict) else usage, on=on)
