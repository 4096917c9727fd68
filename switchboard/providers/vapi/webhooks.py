"""Vapi server messages: authenticated as the organisation configured it on Vapi — a secret
token (`Authorization: Bearer <token>`, or a custom header such as `X-Vapi-Secret`) or an HMAC
credential (hex/base64 HMAC-SHA1/256/512 of "{timestamp}.{body}" in `x-signature`, the
timestamp in `x-timestamp`, refused when over 5 minutes off) — and normalised from
`{message: {type, call, …}}`. Nothing is accepted when no secret is configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from switchboard.providers.base import ProviderCredentials, WebhookMalformed, WebhookRejected
from switchboard.providers.common import from_iso, ids_from_metadata
from switchboard.providers.vapi.costs import vapi_cost
from switchboard.spec import CallEvent, CallLatency, WebhookRequest

MAX_SKEW_SECONDS = 300
_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_ENDED_STATUS = {"ended": "ended"}


def verify(request: WebhookRequest, creds: ProviderCredentials, *, now: float | None = None) -> None:
    hmac_secret = creds.get("webhook_hmac_secret")
    token = creds.get("webhook_secret")
    if not hmac_secret and not token:
        raise WebhookRejected("vapi: no webhook secret configured")
    signature_header = (creds.get("webhook_signature_header") or "x-signature").lower()
    if hmac_secret and request.header(signature_header):
        _verify_hmac(request, creds, hmac_secret, signature_header, now=now)
        return
    if token:
        header = secret_header(creds)
        presented = request.header(header)
        auth = request.header("authorization") or ""
        if auth.lower().startswith("bearer "):
            presented = presented or auth[7:].strip()
        if presented and hmac.compare_digest(presented.encode(), token.encode()):
            return
        raise WebhookRejected("vapi: missing or wrong secret token")
    raise WebhookRejected(f"vapi: missing {signature_header}")


def secret_header(creds: ProviderCredentials) -> str:
    """The (lower-case) header the organisation's secret token travels in."""
    return (creds.get("webhook_secret_header") or "x-vapi-secret").lower()


def _verify_hmac(request: WebhookRequest, creds: ProviderCredentials, secret: str, signature_header: str, *, now: float | None) -> None:
    algorithm = (creds.get("webhook_hmac_algorithm") or "sha256").lower()
    if algorithm not in _ALGORITHMS:
        raise WebhookRejected(f"vapi: unsupported HMAC algorithm {algorithm}")
    timestamp_header = (creds.get("webhook_timestamp_header") or "x-timestamp").lower()
    timestamp = request.header(timestamp_header)
    if not timestamp:
        raise WebhookRejected(f"vapi: missing {timestamp_header}")
    try:
        ts = float(timestamp)
    except ValueError as exc:
        raise WebhookRejected("vapi: malformed timestamp") from exc
    ts_seconds = ts / 1000 if ts > 1e11 else ts  # milliseconds or seconds
    if abs((time.time() if now is None else now) - ts_seconds) > MAX_SKEW_SECONDS:
        raise WebhookRejected("vapi: signature timestamp is more than 5 minutes off")
    key = base64.b64decode(secret) if creds.get("webhook_hmac_secret_is_base64") == "true" else secret.encode()
    message = timestamp.encode() + b"." + request.body
    digest = hmac.new(key, message, _ALGORITHMS[algorithm]).digest()
    encoding = (creds.get("webhook_hmac_encoding") or "hex").lower()
    expected = base64.b64encode(digest).decode() if encoding == "base64" else digest.hex()
    presented = request.header(signature_header) or ""
    prefix = creds.get("webhook_hmac_prefix") or ""
    if prefix and presented.startswith(prefix):
        presented = presented[len(prefix):]
    if not hmac.compare_digest(presented.strip().encode(), expected.encode()):
        raise WebhookRejected("vapi: signature does not match")


def sign(body: bytes, secret: str, timestamp: str, algorithm: str = "sha256") -> str:
    """The hex signature Vapi's HMAC credential sends (for tests and local replays)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, _ALGORITHMS[algorithm]).hexdigest()


def parse(request: WebhookRequest) -> list[CallEvent]:
    try:
        payload = json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WebhookMalformed(f"vapi: body is not JSON ({exc})") from exc
    message = payload.get("message") if isinstance(payload, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise WebhookMalformed("vapi: expected {message: {type, …}}")
    call = message.get("call") if isinstance(message.get("call"), dict) else None
    if not call or not call.get("id"):
        raise WebhookMalformed(f"vapi: {message['type']} without call.id")
    return [message_event(message, call)]


def message_event(message: dict[str, Any], call: dict[str, Any]) -> CallEvent:
    kind_name = message["type"]
    artifact = message.get("artifact") if isinstance(message.get("artifact"), dict) else (call.get("artifact") or {})
    analysis = message.get("analysis") if isinstance(message.get("analysis"), dict) else (call.get("analysis") or None)
    customer = message.get("customer") or call.get("customer") or {}
    phone = message.get("phoneNumber") or call.get("phoneNumber") or {}
    metadata: dict[str, Any] = {}
    for source in (message.get("assistant"), call.get("assistant"), call.get("assistantOverrides")):
        if isinstance(source, dict) and isinstance(source.get("metadata"), dict):
            metadata.update(source["metadata"])
    ids = ids_from_metadata(metadata)
    call_type = call.get("type")
    direction = {"inboundPhoneCall": "inbound", "outboundPhoneCall": "outbound", "webCall": "web"}.get(call_type)
    started = from_iso(message.get("startedAt") or call.get("startedAt"))
    ended = from_iso(message.get("endedAt") or call.get("endedAt"))
    status_value = message.get("status") or call.get("status")
    if kind_name == "end-of-call-report":
        kind, event_id, status = "ended", f"{call['id']}:end-of-call-report", "ended"
    elif kind_name == "status-update":
        kind = {"in-progress": "started", "ended": "ended"}.get(status_value, "other")
        event_id = f"{call['id']}:status-update:{status_value}"
        status = {"in-progress": "ongoing", "ringing": "registered", "queued": "registered", "ended": "ended"}.get(status_value)
    else:
        kind, status = "other", None
        event_id = f"{call['id']}:{kind_name}:{message.get('timestamp', '')}"
    structured = (analysis or {}).get("structuredData") if isinstance(analysis, dict) else None
    success = (analysis or {}).get("successEvaluation") if isinstance(analysis, dict) else None
    analysis_out = None
    if isinstance(analysis, dict) and analysis:
        analysis_out = {k: v for k, v in {
            "summary": analysis.get("summary"),
            "successful": _truthy(success),
            "success_evaluation": success,
            "data": structured or {},
        }.items() if v is not None}
    duration = None
    if started and ended:
        duration = max(0, round((ended - started).total_seconds()))
    return CallEvent(
        kind=kind,
        provider="vapi",
        event_id=event_id,
        event_type=kind_name,
        provider_call_id=call["id"],
        telephony_call_id=ids.get("telephony_call_id") or None,
        organization_id=ids.get("organization_id"),
        agent_config_id=ids.get("agent_config_id"),
        call_record_id=ids.get("call_record_id"),
        direction=direction,
        from_number=(customer.get("number") if direction == "inbound" else phone.get("number")) or None,
        to_number=(phone.get("number") if direction == "inbound" else customer.get("number")) or None,
        status=status,
        started_at=started,
        ended_at=ended,
        duration_seconds=duration,
        transcript=artifact.get("transcript") if isinstance(artifact, dict) else None,
        transcript_object=artifact.get("messages") if isinstance(artifact, dict) else None,
        recording_url=(artifact.get("recordingUrl") or (artifact.get("recording") or {}).get("mono", {}).get("combinedUrl")) if isinstance(artifact, dict) else None,
        analysis=analysis_out,
        sentiment=(structured or {}).get("sentiment") if isinstance(structured, dict) else None,
        successful=_truthy(success),
        disconnection_reason=message.get("endedReason") or call.get("endedReason"),
        cost=vapi_cost(message) if kind_name == "end-of-call-report" else None,
        latency=vapi_latency(artifact),
        metadata=metadata,
    )


def _truthy(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "pass", "passed", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "fail", "failed", "no"):
        return False
    return None


# Vapi's `artifact.performanceMetrics.turnLatencies[]` (`TurnLatency`, milliseconds as its
# `LatencyMetrics` states for the same averages) → our parts. Vapi names no overhead of its own.
_LATENCY_PARTS = {"turnLatency": "e2e", "transcriberLatency": "stt", "endpointingLatency": "eou",
                  "modelLatency": "llm", "voiceLatency": "tts"}


def vapi_latency(artifact: Any) -> CallLatency | None:
    metrics = artifact.get("performanceMetrics") if isinstance(artifact, dict) else None
    turns = metrics.get("turnLatencies") if isinstance(metrics, dict) else None
    if not isinstance(turns, list):
        return None
    return CallLatency.from_turns([
        {part: float(t[name]) for name, part in _LATENCY_PARTS.items()
         if isinstance(t.get(name), (int, float)) and not isinstance(t.get(name), bool) and t[name] >= 0}
        for t in turns if isinstance(t, dict)
    ])
