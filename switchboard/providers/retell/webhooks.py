"""Retell webhooks: `x-retell-signature: v=<ms>,d=<hex HMAC-SHA256(api key, body + ms)>`,
verified with retell-sdk's own verifier (which also refuses timestamps over 5 minutes off), and
the body `{event, call}` normalised. Retell sends no event id and redelivers on failure, so the
de-duplication key is "<call_id>:<event>"."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from retell.lib.webhook_auth import FIVE_MINUTES, verify as retell_verify

from switchboard.providers.base import WebhookMalformed, WebhookRejected
from switchboard.providers.common import from_epoch, ids_from_metadata, signed_text
from switchboard.providers.retell.costs import retell_cost
from switchboard.spec import CallEvent, CallLatency, LatencyStat, WebhookRequest

SIGNATURE_HEADER = "x-retell-signature"
_SIGNATURE = re.compile(r"v=(\d+),d=([0-9a-f]{64})")
KINDS = {"call_started": "started", "call_ended": "ended", "call_analyzed": "analyzed"}


def verify(request: WebhookRequest, api_key: str | None, *, now_ms: int | None = None) -> None:
    if not api_key:
        raise WebhookRejected("retell: no API key configured to verify webhooks")
    signature = request.header(SIGNATURE_HEADER)
    if not signature:
        raise WebhookRejected(f"retell: missing {SIGNATURE_HEADER}")
    match = _SIGNATURE.fullmatch(signature.strip())
    if not match:
        raise WebhookRejected(f"retell: malformed {SIGNATURE_HEADER}")
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if abs(now - int(match.group(1))) > FIVE_MINUTES:
        raise WebhookRejected("retell: signature timestamp is more than 5 minutes off")
    body = signed_text(request, "retell")
    if now_ms is None:
        ok = retell_verify(body, api_key, signature.strip())
    else:  # the SDK's verifier with an explicit clock (tests, replays of the inbox)
        from retell.lib.webhook_auth import symmetric

        ok = symmetric["verify"](body, api_key, signature.strip(), {"timestamp": now})
    if not ok:
        raise WebhookRejected("retell: signature does not match")


def parse(request: WebhookRequest) -> list[CallEvent]:
    try:
        payload = json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WebhookMalformed(f"retell: body is not JSON ({exc})") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), str) or not isinstance(payload.get("call"), dict):
        raise WebhookMalformed("retell: expected {event, call}")
    event_type: str = payload["event"]
    call: dict[str, Any] = payload["call"]
    call_id = call.get("call_id")
    if not call_id:
        raise WebhookMalformed("retell: call.call_id is missing")
    return [call_event(event_type, call)]


def call_event(event_type: str, call: dict[str, Any]) -> CallEvent:
    """One Retell call object (as in `V2CallBase` / `V2PhoneCallResponse`) as a CallEvent."""
    analysis = call.get("call_analysis") if isinstance(call.get("call_analysis"), dict) else None
    metadata = call.get("metadata") if isinstance(call.get("metadata"), dict) else {}
    ids = ids_from_metadata(metadata)
    duration_ms = call.get("duration_ms")
    status = call.get("call_status")
    call_type = call.get("call_type")
    direction = call.get("direction") if call_type == "phone_call" else ("web" if call_type == "web_call" else None)
    kind = KINDS.get(event_type, "other")
    return CallEvent(
        kind=kind,
        provider="retell",
        event_id=f"{call['call_id']}:{event_type}",
        event_type=event_type,
        provider_call_id=call["call_id"],
        telephony_call_id=ids.get("telephony_call_id"),
        organization_id=ids.get("organization_id"),
        agent_config_id=ids.get("agent_config_id"),
        call_record_id=ids.get("call_record_id"),
        direction=direction if direction in ("inbound", "outbound", "web") else None,
        from_number=call.get("from_number"),
        to_number=call.get("to_number"),
        status=status if status in ("registered", "ongoing", "ended", "error", "not_connected") else None,
        started_at=from_epoch(call.get("start_timestamp"), unit="ms"),
        ended_at=from_epoch(call.get("end_timestamp"), unit="ms"),
        duration_seconds=round(duration_ms / 1000) if isinstance(duration_ms, (int, float)) else None,
        transcript=call.get("transcript"),
        transcript_object=call.get("transcript_object"),
        recording_url=call.get("recording_url"),
        analysis=_analysis(analysis) if analysis else None,
        sentiment=(analysis or {}).get("user_sentiment"),
        successful=(analysis or {}).get("call_successful"),
        disconnection_reason=call.get("disconnection_reason"),
        cost=retell_cost(call.get("call_cost")),
        latency=retell_latency(call.get("latency")),
        metadata=metadata,
    )


def _analysis(analysis: dict[str, Any]) -> dict[str, Any]:
    out = {
        "summary": analysis.get("call_summary"),
        "sentiment": analysis.get("user_sentiment"),
        "successful": analysis.get("call_successful"),
        "in_voicemail": analysis.get("in_voicemail"),
        "data": analysis.get("custom_analysis_data") or {},
    }
    return {k: v for k, v in out.items() if v is not None}


# Retell's `call.latency` measures (each a `CallLatency`: p50, p90, … in milliseconds) → our parts.
# Its knowledge_base, s2s and llm_websocket_network_rtt have no part of ours; no end-of-turn or
# overhead figure is published, so those stay unknown.
_LATENCY_PARTS = {"e2e": "e2e", "asr": "stt", "llm": "llm", "tts": "tts"}


def retell_latency(latency: Any) -> CallLatency | None:
    if not isinstance(latency, dict):
        return None
    parts: dict[str, LatencyStat] = {}
    for name, part in _LATENCY_PARTS.items():
        stat = latency.get(name)
        if isinstance(stat, dict) and (_number(stat.get("p50")) is not None or _number(stat.get("p90")) is not None):
            parts[part] = LatencyStat(p50_ms=_number(stat.get("p50")), p90_ms=_number(stat.get("p90")))
    if not parts:
        return None
    turns = _number((latency.get("e2e") or {}).get("num")) if isinstance(latency.get("e2e"), dict) else None
    return CallLatency(turns=int(turns) if turns is not None else None, **parts)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None
