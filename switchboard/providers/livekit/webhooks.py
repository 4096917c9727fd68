"""LiveKit webhooks (`WebhookEvent`, protobuf JSON), verified with livekit-api's WebhookReceiver:
`Authorization` carries an HS256 JWT signed with the API secret, issuer the API key, whose
`sha256` claim is base64(sha256(raw body)). LiveKit's events carry no cost and no transcript:
those come from our worker's end-of-call report, which it records through `switchboard.ingest`
itself (see agent_worker.call), priced by `livekit.costs`."""

from __future__ import annotations

import base64
import hashlib
import json

from google.protobuf.json_format import MessageToDict, Parse, ParseError
from livekit.api import AccessToken, TokenVerifier, WebhookReceiver
from livekit.protocol.models import ParticipantInfo, RoomEndReason
from livekit.protocol.webhook import WebhookEvent

from switchboard.providers.base import WebhookMalformed, WebhookRejected
from switchboard.providers.common import event_duration, from_epoch, ids_from_metadata, signed_text
from switchboard.providers.livekit.compile import ATTRIBUTE_PREFIX
from switchboard.spec import CallEvent, WebhookRequest

_KINDS = {"room_started": "started", "room_finished": "ended", "participant_joined": "started"}


def verify(request: WebhookRequest, api_key: str | None, api_secret: str | None) -> None:
    if not api_key or not api_secret:
        raise WebhookRejected("livekit: no API key and secret configured to verify webhooks")
    token = request.header("authorization") or ""
    if token.lower().startswith("bearer "):
        token = token[7:]
    if not token:
        raise WebhookRejected("livekit: missing Authorization token")
    body = signed_text(request, "livekit")
    try:
        WebhookReceiver(TokenVerifier(api_key, api_secret)).receive(body, token)
    except ParseError:
        return  # authentic (token and body hash checked first) but not a WebhookEvent: parse() decides
    except Exception as exc:  # noqa: BLE001 - the receiver raises plain Exceptions and jwt errors
        raise WebhookRejected(f"livekit: {type(exc).__name__}: {exc}") from exc


def sign(body: bytes, api_key: str, api_secret: str) -> str:
    """The Authorization token LiveKit sends with `body` (the worker signs its report with it)."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return AccessToken(api_key, api_secret).with_sha256(digest).to_jwt()


def parse(request: WebhookRequest) -> list[CallEvent]:
    try:
        event = Parse(request.body.decode(), WebhookEvent(), ignore_unknown_fields=True)
    except ParseError as exc:
        raise WebhookMalformed(f"livekit: not a WebhookEvent ({exc})") from exc
    if not event.event or not event.room.name and not event.egress_info.room_name:
        raise WebhookMalformed("livekit: WebhookEvent without event or room")
    return [webhook_event(event)]


def webhook_event(event: WebhookEvent) -> CallEvent:
    room = event.room.name or event.egress_info.room_name
    attributes = dict(event.participant.attributes) if event.HasField("participant") else {}
    ours = {k[len(ATTRIBUTE_PREFIX):]: v for k, v in attributes.items() if k.startswith(ATTRIBUTE_PREFIX)}
    try:
        room_meta = json.loads(event.room.metadata) if event.room.metadata else {}
    except json.JSONDecodeError:
        room_meta = {}
    ids = {**ids_from_metadata(room_meta if isinstance(room_meta, dict) else {}), **ids_from_metadata(ours)}
    at = from_epoch(event.created_at) if event.created_at else None
    sip_participant = event.HasField("participant") and event.participant.kind == ParticipantInfo.SIP
    kind = _KINDS.get(event.event, "other")
    if event.event == "participant_joined" and not sip_participant:
        kind = "other"
    recording = None
    if event.event == "egress_ended":
        files = list(event.egress_info.file_results) or ([event.egress_info.file] if event.egress_info.HasField("file") else [])
        recording = next((f.location for f in files if f.location), None)
    started = from_epoch(event.room.creation_time) if event.event == "room_finished" and event.room.creation_time else None
    call = CallEvent(
        kind=kind,
        provider="livekit",
        event_id=event.id or f"{room}:{event.event}:{event.created_at}",
        event_type=event.event,
        provider_call_id=room,
        telephony_call_id=ids.get("telephony_call_id") or attributes.get("sip.callID") or None,
        organization_id=ids.get("organization_id"),
        agent_config_id=ids.get("agent_config_id"),
        call_record_id=ids.get("call_record_id"),
        from_number=attributes.get("sip.phoneNumber") or None,
        to_number=attributes.get("sip.trunkPhoneNumber") or None,
        status={"started": "ongoing", "ended": "ended"}.get(kind),
        started_at=at if kind == "started" else started,
        ended_at=at if kind == "ended" else None,
        recording_url=recording,
        disconnection_reason=_end_reason(event) if kind == "ended" else None,
        metadata={"livekit": MessageToDict(event.room, preserving_proto_field_name=True)} if event.room.name else {},
    )
    return call.model_copy(update={"duration_seconds": event_duration(call) if kind == "ended" else None})


def _end_reason(event: WebhookEvent) -> str | None:
    """"ROOM_END_API_DELETE" → "api_delete" (None when LiveKit gives no reason)."""
    if not event.room_end_reason:
        return None
    try:
        return RoomEndReason.Name(event.room_end_reason).removeprefix("ROOM_END_").lower()
    except ValueError:
        return None
