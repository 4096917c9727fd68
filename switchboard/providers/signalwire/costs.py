"""SignalWire AI reports usage, not cost: with `params.enable_accounting` its post-prompt report
carries `total_minutes` (billable AI minutes, STT, LLM and standard TTS included). The cost is
those minutes × the platform's AI-minute price plus the same minutes × its transport price,
both from the price book."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from switchboard.billing import CallUsage, PriceBook, price_usage_if_known
from switchboard.spec import CostBreakdown


def accounting_usage(report: dict[str, Any]) -> CallUsage | None:
    minutes = report.get("total_minutes")
    if minutes is None:
        return None
    billable = Decimal(str(minutes))
    return CallUsage(platform="signalwire", platform_minutes=billable, telephony_minutes=billable)


def accounting_details(report: dict[str, Any]) -> dict[str, Any]:
    """The raw accounting figures, kept with the usage for the dashboard."""
    keys = ("total_minutes", "total_input_tokens", "total_output_tokens", "total_wire_input_tokens",
            "total_wire_output_tokens", "total_tts_chars", "total_asr_minutes")
    return {k: report[k] for k in keys if k in report}


def signalwire_cost(report: dict[str, Any], prices: PriceBook | None, *, on=None) -> CostBreakdown | None:
    usage = accounting_usage(report)
    return price_usage_if_known(prices, usage, on=on) if usage is not None else None
