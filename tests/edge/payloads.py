"""Webhook payloads shaped as each provider's documents say, signed with each provider's
published scheme (using the providers' own SDK signers where they ship one)."""

from __future__ import annotations

import json
import time
from typing import Any

from retell.lib.webhook_auth import symmetric as retell_symmetric

from .conftest import TEST_KEYS


def retell_call(call_id: str, *, ids: dict[str, str], to_number: str, status: str = "ended",
                start_ms: int = 1_795_000_000_000, duration_ms: int = 95_000, analysed: bool = False,
                with_cost: bool = True) -> dict[str, Any]:
    """A `V2PhoneCallResponse` (Retell's call object in webhooks)."""
    call: dict[str, Any] = {
        "call_type": "phone_call", "from_number": "+14155550111", "to_number": to_number, "direction": "inbound",
        "call_id": call_id, "agent_id": "retell-agent-1", "agent_version": 1, "call_status": status,
        "metadata": ids, "start_timestamp": start_ms,
    }
    if status == "ended":
        call |= {"end_timestamp": start_ms + duration_ms, "duration_ms": duration_ms,
                 "transcript": "Agent: Hello\nUser: I'd like a cleaning.", "disconnection_reason": "user_hangup",
                 "recording_url": f"https://recordings.example.com/{call_id}.wav"}
        if with_cost:
            call["call_cost"] = {
                "product_costs": [
                    {"product": "retell_platform", "unit_price": 5.5, "cost": 8.71},
                    {"product": "elevenlabs_tts", "unit_price": 1.5, "cost": 2.38},
                    {"product": "gpt_4o_mini", "unit_price": 0.6, "cost": 0.95},
                    {"product": "retell_twilio", "unit_price": 1.5, "cost": 2.38},
                ],
                "total_duration_seconds": duration_ms // 1000, "total_duration_unit_price": 9.1,
                "combined_cost": 14.42,
            }
    if analysed:
        call["call_analysis"] = {"call_summary": "Booked a cleaning.", "user_sentiment": "Positive",
                                 "call_successful": True, "in_voicemail": False}
    return call


def retell_webhook(event: str, call: dict[str, Any], key: str = TEST_KEYS["RETELL_API_KEY"]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"event": event, "call": call}).encode()
    signature = retell_symmetric["sign"](body.decode(), key, int(time.time() * 1000))
    return body, {"content-type": "application/json", "x-retell-signature": signature}


VAPI_SECRET = "vapi-webhook-secret-test"


def vapi_message(kind: str, call_id: str, *, ids: dict[str, str], to_number: str, status: str | None = None,
                 started: str = "2026-11-20T23:59:30.000Z", ended: str = "2026-11-21T00:01:00.000Z") -> dict[str, Any]:
    """A Vapi server message (`ServerMessageEndOfCallReport` / `ServerMessageStatusUpdate`)."""
    phone = {"provider": "byo-phone-number", "number": to_number, "credentialId": "cred-edge-1"}
    call = {"id": call_id, "orgId": "5f3f5b5e-0000-4000-8000-000000000001", "type": "inboundPhoneCall",
            "createdAt": started, "updatedAt": ended, "customer": {"number": "+14155550122"},
            "assistant": {"metadata": ids}}
    message: dict[str, Any] = {"type": kind, "timestamp": 1795000000000, "call": call,
                               "customer": {"number": "+14155550122"}, "phoneNumber": phone,
                               "assistant": {"metadata": ids}}
    if kind == "status-update":
        message["status"] = status or "in-progress"
        if message["status"] == "in-progress":
            message["startedAt"] = started
    if kind == "end-of-call-report":
        message |= {
            "endedReason": "customer-ended-call", "startedAt": started, "endedAt": ended,
            "cost": 0.1375,
            "costBreakdown": {"transport": 0.012, "stt": 0.015, "llm": 0.021, "tts": 0.0325, "vapi": 0.075,
                              "total": 0.1555, "analysisCostBreakdown": {"summary": 0.0009, "structuredData": 0.0009,
                                                                        "successEvaluation": 0.0, "summaryPromptTokens": 120}},
            "artifact": {"transcript": "AI: Hello\nUser: Book me in", "recordingUrl": f"https://storage.vapi.ai/{call_id}.wav"},
            "analysis": {"summary": "Booked.", "successEvaluation": "true", "structuredData": {"sentiment": "positive"}},
        }
    return {"message": message}


def vapi_webhook(payload: dict[str, Any], secret: str = VAPI_SECRET) -> tuple[bytes, dict[str, str]]:
    return json.dumps(payload).encode(), {"content-type": "application/json", "x-vapi-secret": secret}
