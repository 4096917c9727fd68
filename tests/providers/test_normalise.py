"""Webhook payloads shaped as each provider's document defines them — every payload below is first
validated against the document's own schema — normalised into CallEvents: every field the call
record needs, and costs to the cent (prices from the seeded price book, never from the test)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import urlencode
from uuid import UUID

import pytest
from google.protobuf.json_format import MessageToJson
from livekit.protocol import egress, models, webhook

from switchboard.billing import load_price_book
from switchboard.providers.base import ProviderCredentials, WebhookMalformed
from switchboard.providers.livekit.adapter import LiveKitProvider
from switchboard.providers.livekit.costs import livekit_cost
from switchboard.providers.retell.adapter import RetellProvider
from switchboard.providers.signalwire.adapter import SignalWireProvider
from switchboard.providers.vapi.adapter import VapiProvider
from switchboard.spec import WebhookRequest

ORG = "9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41"
AGENT_CONFIG = "3f6a1d2c-8b9e-4f70-a1b2-c3d4e5f60718"
CALL_RECORD = "0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"
TELEPHONY = "b3877c40-da60-4998-90ad-b792e98472ca"
IDS = {"organization_id": ORG, "agent_config_id": AGENT_CONFIG, "call_record_id": CALL_RECORD, "telephony_call_id": TELEPHONY}


def req(body: bytes | str, url: str = "https://sb.example.com/functions/v1/provider-webhook-router/x", **headers) -> WebhookRequest:
    return WebhookRequest(headers={k.replace("_", "-").lower(): v for k, v in headers.items()},
                          body=body.encode() if isinstance(body, str) else body, url=url)


@pytest.fixture
async def prices(db):
    async with db.as_service() as conn:
        return await load_price_book(conn, date(2026, 11, 22))


# --------------------------------------------------------------------------------------------
# Retell: {event, call} with the call object of the OpenAPI document (V2PhoneCallResponse)
# --------------------------------------------------------------------------------------------
RETELL_CALL = {
    "call_type": "phone_call",
    "from_number": "+12137771234",
    "to_number": "+12137771235",
    "direction": "inbound",
    "call_id": "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6",
    "agent_id": "oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD",
    "agent_version": 1,
    "call_status": "ended",
    "metadata": IDS,
    "start_timestamp": 1703302407333,
    "end_timestamp": 1703302428855,
    "duration_ms": 21522,
    "transcript": "Agent: hi how are you doing?\nUser: Doing pretty well. How are you?",
    "transcript_object": [
        {"role": "agent", "content": "hi how are you doing?", "words": [{"word": "hi", "start": 0.7, "end": 1.3}]},
        {"role": "user", "content": "Doing pretty well. How are you?", "words": [{"word": "Doing", "start": 3.3, "end": 3.6}]},
    ],
    "recording_url": "https://retellai.s3.us-west-2.amazonaws.com/Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6/recording.wav",
    "disconnection_reason": "user_hangup",
    "call_analysis": {
        "call_summary": "The caller booked an appointment for next Monday 10am.",
        "in_voicemail": False,
        "user_sentiment": "Positive",
        "call_successful": True,
        "custom_analysis_data": {"patient_name": "Jane Doe"},
    },
    "call_cost": {
        "product_costs": [
            {"product": "elevenlabs_tts", "unit_price": 0.0116667, "cost": 0.2511},
            {"product": "gpt_4o_mini", "unit_price": 0.0001667, "cost": 0.0036},
            {"product": "retell_platform", "unit_price": 0.0916667, "cost": 1.9729},
            {"product": "retell_twilio", "unit_price": 0.025, "cost": 0.5381},
        ],
        "total_duration_seconds": 21.522,
        "total_duration_unit_price": 0.145,
        "combined_cost": 2.7657,
    },
}


def test_retell_call_analyzed(docs):
    docs["retell"].validate_component("V2PhoneCallResponse", RETELL_CALL)
    retell = RetellProvider(ProviderCredentials())
    [event] = retell.parse_webhook(req(json.dumps({"event": "call_analyzed", "call": RETELL_CALL})))
    assert event.kind == "analyzed" and event.provider == "retell"
    assert event.event_id == "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6:call_analyzed"
    assert event.provider_call_id == "Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6"
    assert (event.organization_id, event.agent_config_id, event.call_record_id) == (UUID(ORG), UUID(AGENT_CONFIG), UUID(CALL_RECORD))
    assert event.telephony_call_id == TELEPHONY
    assert (event.direction, event.from_number, event.to_number, event.status) == ("inbound", "+12137771234", "+12137771235", "ended")
    assert event.started_at == datetime(2023, 12, 23, 3, 33, 27, 333000, tzinfo=UTC)
    assert event.ended_at == datetime(2023, 12, 23, 3, 33, 48, 855000, tzinfo=UTC)
    assert event.duration_seconds == 22
    assert event.transcript.startswith("Agent: hi") and len(event.transcript_object) == 2
    assert event.recording_url.endswith("recording.wav")
    assert event.analysis["summary"].startswith("The caller booked") and event.analysis["data"] == {"patient_name": "Jane Doe"}
    assert (event.sentiment, event.successful, event.disconnection_reason) == ("Positive", True, "user_hangup")
    # cents → USD, by component; the total is exactly combined_cost
    cost = event.cost
    assert cost.source == "reported"
    assert cost.tts.quantize(Decimal("0.0001")) == Decimal("0.0025")
    assert cost.llm.quantize(Decimal("0.000001")) == Decimal("0.000036")
    assert cost.platform.quantize(Decimal("0.0001")) == Decimal("0.0197")
    assert cost.telephony.quantize(Decimal("0.0001")) == Decimal("0.0054")
    assert cost.stt == 0
    assert round(cost.total, 2) == Decimal("0.03") and cost.total == Decimal("0.027657")


def test_retell_redelivery_has_the_same_event_id_and_started_has_no_cost():
    retell = RetellProvider(ProviderCredentials())
    body = json.dumps({"event": "call_ended", "call": RETELL_CALL})
    assert retell.parse_webhook(req(body))[0].event_id == retell.parse_webhook(req(body))[0].event_id
    started = {k: RETELL_CALL[k] for k in ("call_type", "from_number", "to_number", "direction", "call_id", "agent_id",
                                            "agent_version", "metadata", "start_timestamp")} | {"call_status": "ongoing"}
    [event] = retell.parse_webhook(req(json.dumps({"event": "call_started", "call": started})))
    assert (event.kind, event.status, event.cost, event.ended_at) == ("started", "ongoing", None, None)
    with pytest.raises(WebhookMalformed, match=r"\{event, call\}"):
        retell.parse_webhook(req('{"call": {}}'))


# --------------------------------------------------------------------------------------------
# Vapi: ServerMessage {message: end-of-call-report}
# --------------------------------------------------------------------------------------------
VAPI_REPORT = {
    "message": {
        "type": "end-of-call-report",
        "timestamp": 1767000000000,
        "endedReason": "customer-ended-call",
        "startedAt": "2026-11-20T15:00:00.000Z",
        "endedAt": "2026-11-20T15:03:30.000Z",
        "cost": 0.3071,
        "artifact": {
            "transcript": "AI: Hello, Demo Dental.\nUser: I'd like to book a cleaning.",
            "recordingUrl": "https://storage.vapi.ai/c2f4-recording.wav",
            "messages": [
                {"role": "bot", "message": "Hello, Demo Dental.", "time": 1767000001000, "endTime": 1767000002000, "secondsFromStart": 0.5},
                {"role": "user", "message": "I'd like to book a cleaning.", "time": 1767000003000, "endTime": 1767000005000, "secondsFromStart": 3.1},
            ],
        },
        "analysis": {
            "summary": "The caller booked a cleaning for Monday.",
            "structuredData": {"patient_name": "Jane Doe", "sentiment": "Positive"},
            "successEvaluation": "true",
        },
        "assistant": {"metadata": {"organization_id": ORG, "agent_config_id": AGENT_CONFIG}},
        "customer": {"number": "+14155550100"},
        "phoneNumber": {"provider": "byo-phone-number", "number": "+14155550199", "credentialId": "550e8400-e29b-41d4-a716-446655440000"},
        "call": {
            "id": "c2f4a0de-1b2c-4d5e-8f90-a1b2c3d4e5f6",
            "orgId": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
            "createdAt": "2026-11-20T14:59:58.000Z",
            "updatedAt": "2026-11-20T15:03:31.000Z",
            "type": "inboundPhoneCall",
            "status": "ended",
            "assistantOverrides": {"metadata": {"call_record_id": CALL_RECORD, "telephony_call_id": TELEPHONY}},
            "costBreakdown": {
                "transport": 0.0125, "stt": 0.0352, "llm": 0.0421, "tts": 0.0378, "vapi": 0.175, "total": 0.3071,
                "analysisCostBreakdown": {"summary": 0.0021, "structuredData": 0.0018, "successEvaluation": 0.0006},
                "llmPromptTokens": 5123, "llmCompletionTokens": 211, "ttsCharacters": 640,
            },
        },
    }
}


def test_vapi_end_of_call_report(docs):
    # Vapi's message schemas leave `role` unconstrained, so its oneOf over User/Bot/System
    # messages cannot pick one: the report is validated without them, each message against
    # the schema its role names.
    messages = VAPI_REPORT["message"]["artifact"]["messages"]
    without = json.loads(json.dumps(VAPI_REPORT))
    without["message"]["artifact"].pop("messages")
    docs["vapi"].validate_component("ServerMessage", without)
    for m in messages:
        docs["vapi"].validate_component({"bot": "BotMessage", "user": "UserMessage"}[m["role"]], m)
    vapi = VapiProvider(ProviderCredentials())
    [event] = vapi.parse_webhook(req(json.dumps(VAPI_REPORT)))
    assert (event.kind, event.status, event.provider) == ("ended", "ended", "vapi")
    assert event.event_id == "c2f4a0de-1b2c-4d5e-8f90-a1b2c3d4e5f6:end-of-call-report"
    assert (event.organization_id, event.agent_config_id, event.call_record_id) == (UUID(ORG), UUID(AGENT_CONFIG), UUID(CALL_RECORD))
    assert event.telephony_call_id == TELEPHONY
    assert (event.direction, event.from_number, event.to_number) == ("inbound", "+14155550100", "+14155550199")
    assert event.duration_seconds == 210 and event.started_at == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert event.transcript.startswith("AI: Hello") and len(event.transcript_object) == 2
    assert event.recording_url == "https://storage.vapi.ai/c2f4-recording.wav"
    assert event.analysis["summary"].startswith("The caller booked") and event.analysis["data"]["patient_name"] == "Jane Doe"
    assert (event.sentiment, event.successful, event.disconnection_reason) == ("Positive", True, "customer-ended-call")
    cost = event.cost
    assert (cost.telephony, cost.stt, cost.tts) == (Decimal("0.0125"), Decimal("0.0352"), Decimal("0.0378"))
    assert cost.llm == Decimal("0.0466")  # 0.0421 + 0.0045 of post-call analysis
    assert cost.platform == Decimal("0.175")
    assert cost.total == Decimal("0.3071") and round(cost.total, 2) == Decimal("0.31")


def test_vapi_status_updates():
    vapi = VapiProvider(ProviderCredentials())
    call = VAPI_REPORT["message"]["call"]
    [started] = vapi.parse_webhook(req(json.dumps({"message": {"type": "status-update", "status": "in-progress", "call": call}})))
    assert (started.kind, started.status, started.cost) == ("started", "ongoing", None)
    assert started.event_id.endswith(":status-update:in-progress")
    with pytest.raises(WebhookMalformed, match="without call.id"):
        vapi.parse_webhook(req(json.dumps({"message": {"type": "status-update", "status": "ended"}})))


# --------------------------------------------------------------------------------------------
# SignalWire: the AI post-prompt report (accounting × price book) and a voice status callback
# --------------------------------------------------------------------------------------------
POST_PROMPT = {
    "project_id": "4d0d6f16-5881-4fcc-92a4-02c51a91954d",
    "space_id": "451ed9ff-e568-4222-8af9-4f9ab7428d09",
    "content_type": "text/json",
    "content_disposition": "agent.summary",
    "conversation_type": "voice",
    "call_id": TELEPHONY,
    "app_name": "ai",
    "ai_session_id": "a0d4e6e5-5d07-413d-9668-55542992eec0",
    "action": "post_conversation",
    "call_log": [
        {"role": "system", "content": "You are the front desk of Demo Dental."},
        {"role": "assistant", "content": "Hello, Demo Dental, how can I help?"},
        {"role": "user", "content": "I need a cleaning next week."},
    ],
    "call_start_date": 1795186800000000,
    "call_answer_date": 1795186801000000,
    "call_end_date": 1795186891000000,
    "ai_start_date": 1795186801500000,
    "ai_end_date": 1795186890900000,
    "call_ended_by": "user",
    "caller_id_number": "+14155550100",
    "SWMLVars": {"record_call_url": "https://files.signalwire.com/recordings/a0d4e6e5.mp3"},
    "global_data": {"organization_id": ORG, "agent_config_id": AGENT_CONFIG, "call_record_id": CALL_RECORD, "telephony_call_id": TELEPHONY},
    "post_prompt_data": {
        "raw": '{"summary":"Booked a cleaning.","sentiment":"Positive","successful":true,"data":{"patient_name":"Jane Doe"}}',
        "parsed": [{"summary": "Booked a cleaning.", "sentiment": "Positive", "successful": True, "data": {"patient_name": "Jane Doe"}}],
    },
    "total_minutes": 2,
    "total_input_tokens": 4210,
    "total_output_tokens": 350,
    "total_wire_input_tokens": 4210,
    "total_wire_output_tokens": 350,
    "total_tts_chars": 812,
    "total_asr_minutes": 1.4,
}


async def test_signalwire_post_prompt_report_costs_minutes_times_price(docs, prices):
    docs["signalwire"].validate_component("Webhooks.AI.AiPostPromptCallbackPayload", POST_PROMPT)
    sw = SignalWireProvider(ProviderCredentials(), prices=prices)
    [event] = sw.parse_webhook(req(json.dumps(POST_PROMPT), content_type="application/json"))
    assert (event.kind, event.status, event.event_type) == ("analyzed", "ended", "post_prompt")
    assert event.event_id == f"{TELEPHONY}:post_conversation:a0d4e6e5-5d07-413d-9668-55542992eec0"
    assert (event.provider_call_id, event.telephony_call_id) == (TELEPHONY, TELEPHONY)
    assert (event.organization_id, event.call_record_id) == (UUID(ORG), UUID(CALL_RECORD))
    assert event.started_at == datetime(2026, 11, 20, 15, 0, 1, tzinfo=UTC) and event.duration_seconds == 90
    assert event.transcript == "Agent: Hello, Demo Dental, how can I help?\nUser: I need a cleaning next week."
    assert event.recording_url == "https://files.signalwire.com/recordings/a0d4e6e5.mp3"
    assert (event.sentiment, event.successful, event.analysis["data"]) == ("Positive", True, {"patient_name": "Jane Doe"})
    assert event.disconnection_reason == "user"
    # 2 billable minutes × ($0.16 AI + $0.003 SIP) from the price book
    cost = event.cost
    assert (cost.platform, cost.telephony, cost.source) == (Decimal("0.320000"), Decimal("0.006000"), "computed")
    assert cost.total == Decimal("0.326")
    assert event.usage["platform_minutes"] == "2" and event.usage["accounting"]["total_tts_chars"] == 812
    # without a price book, or without a price in force that day, the usage is kept for later
    [unpriced] = SignalWireProvider(ProviderCredentials()).parse_webhook(req(json.dumps(POST_PROMPT)))
    assert unpriced.cost is None and unpriced.usage["platform_minutes"] == "2"
    year_before = {**POST_PROMPT, "call_answer_date": 1763650801000000, "call_end_date": 1763650891000000}
    [early] = sw.parse_webhook(req(json.dumps(year_before)))
    assert early.cost is None and early.usage["platform_minutes"] == "2"


def test_signalwire_voice_status_callback(docs):
    form = {
        "AccountSid": "b3877c40-da60-4998-90ad-b792e98472af", "ApiVersion": "2010-04-01", "AudioInAveragePtime": "20",
        "AudioInDtmfPacketCount": "0", "AudioInFlushPacketCount": "2", "AudioInJitterMaxVariance": "8",
        "AudioInJitterMinVariance": "1", "AudioInLargestJbSize": "4", "AudioInMos": "4.3", "AudioInMediaPacketCount": "1842",
        "AudioInSkipPacketCount": "1", "AudioOutDtmfPacketCount": "0", "AudioOutMediaPacketCount": "1840",
        "CallbackSource": "call-progress-events", "CallSid": TELEPHONY, "CallStatus": "completed", "CallDuration": "94",
        "Direction": "inbound", "From": "+15551234567", "To": "+15559876543", "SequenceNumber": "4",
        "Timestamp": "Thu, 04 Apr 2024 18:32:15 +0000",
        "RecordingUrl": "https://example.signalwire.com/api/laml/2010-04-01/Accounts/b3877c40/Recordings/re01",
    }
    typed = docs["signalwire_compat"].coerce_form(docs["signalwire_compat"].component("VoiceStatusCallbackPayload"), list(form.items()))
    docs["signalwire_compat"].validate_component("VoiceStatusCallbackPayload", typed)
    sw = SignalWireProvider(ProviderCredentials())
    url = f"https://sb.example.com/functions/v1/provider-webhook-router/signalwire?call_record_id={CALL_RECORD}"
    [event] = sw.parse_webhook(req(urlencode(form), url, content_type="application/x-www-form-urlencoded"))
    assert (event.kind, event.status, event.event_id) == ("ended", "ended", f"{TELEPHONY}:status:completed")
    assert (event.provider_call_id, event.telephony_call_id, event.call_record_id) == (TELEPHONY, TELEPHONY, UUID(CALL_RECORD))
    assert (event.direction, event.from_number, event.to_number, event.duration_seconds) == ("inbound", "+15551234567", "+15559876543", 94)
    assert event.ended_at == datetime(2024, 4, 4, 18, 32, 15, tzinfo=UTC)
    assert event.recording_url.endswith("/Recordings/re01") and event.disconnection_reason == "completed"
    busy = sw.parse_webhook(req(urlencode({**form, "CallStatus": "busy"}), url, content_type="application/x-www-form-urlencoded"))[0]
    assert (busy.status, busy.event_id) == ("not_connected", f"{TELEPHONY}:status:busy")


# --------------------------------------------------------------------------------------------
# LiveKit: WebhookEvent (protobuf JSON) and our worker's call report (usage × catalog prices)
# --------------------------------------------------------------------------------------------
def livekit_event(**fields) -> bytes:
    return MessageToJson(webhook.WebhookEvent(**fields)).encode()


def test_livekit_webhook_events():
    lk = LiveKitProvider(ProviderCredentials())
    sip = models.ParticipantInfo(
        sid="PA_1", identity="sip_+14155550100", kind=models.ParticipantInfo.SIP,
        attributes={"sip.callID": "SCL_1", "sip.phoneNumber": "+14155550100", "sip.trunkPhoneNumber": "+14155550199",
                    "switchboard.call_record_id": CALL_RECORD, "switchboard.organization_id": ORG,
                    "switchboard.telephony_call_id": TELEPHONY},
    )
    room = models.Room(sid="RM_1", name="call-abc", creation_time=1795186800)
    [joined] = lk.parse_webhook(req(livekit_event(event="participant_joined", id="EV_1", created_at=1795186801, room=room, participant=sip)))
    assert (joined.kind, joined.status, joined.event_id, joined.provider_call_id) == ("started", "ongoing", "EV_1", "call-abc")
    assert (joined.call_record_id, joined.organization_id, joined.telephony_call_id) == (UUID(CALL_RECORD), UUID(ORG), TELEPHONY)
    assert (joined.from_number, joined.to_number) == ("+14155550100", "+14155550199")
    [finished] = lk.parse_webhook(req(livekit_event(event="room_finished", id="EV_9", created_at=1795186980, room=room,
                                                    room_end_reason=models.RoomEndReason.ROOM_END_API_DELETE)))
    assert (finished.kind, finished.status, finished.duration_seconds, finished.cost) == ("ended", "ended", 180, None)
    assert finished.disconnection_reason == "api_delete"
    [recorded] = lk.parse_webhook(req(livekit_event(event="egress_ended", id="EV_7", egress_info=egress.EgressInfo(
        egress_id="EG_1", room_name="call-abc", file_results=[egress.FileInfo(location="s3://recordings/call-abc.ogg")]))))
    assert (recorded.kind, recorded.recording_url, recorded.provider_call_id) == ("other", "s3://recordings/call-abc.ogg", "call-abc")


async def test_livekit_cost_is_the_workers_usage_times_catalog_prices(prices):
    # The worker's end-of-call event carries this usage (agent_worker.report.call_usage): 3 min
    # of agent session over SIP, each vendor's quantities under its catalog key.
    usage = {
        "platform": "livekit", "platform_minutes": "3", "telephony_minutes": "3",
        "components": [
            {"component": "stt", "subject": "openai-stt", "minutes": "1.5"},
            {"component": "llm", "subject": "openai-llm", "input_tokens": 12000, "output_tokens": 800},
            {"component": "tts", "subject": "cartesia-tts", "characters": 3000},
        ],
    }
    cost = livekit_cost(usage, prices)
    assert cost.platform == Decimal("0.030000")    # 3 min × $0.01 agent session
    assert cost.telephony == Decimal("0.009000")   # 3 min × $0.003 SIP
    assert cost.stt == Decimal("0.004500")         # 1.5 min × $0.003
    assert cost.llm == Decimal("0.002280")         # 12k × $0.15/M + 800 × $0.60/M
    assert cost.tts == Decimal("0.114000")         # 3k chars × $0.038/1k
    assert cost.total == Decimal("0.15978") and round(cost.total, 2) == Decimal("0.16")
    assert prices.cost_for_call("livekit", duration_seconds=180, usage=usage) == cost  # what ingestion computes
    # a vendor with no price that day: no cost yet, never a zero
    unknown = {**usage, "components": [{"component": "tts", "subject": "elevenlabs-tts", "characters": 10}]}
    assert livekit_cost(unknown, prices) is None
