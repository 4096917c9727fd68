"""LiveKit through livekit-api against a local Twirp endpoint that decodes the real
livekit-protocol messages, checks the bearer JWT and its grants, and keeps every request."""

from __future__ import annotations

import json

from uuid import UUID

import pytest

from switchboard.providers.base import ProviderCredentials, ProviderRejected, ProviderUnavailable
from switchboard.providers.livekit.adapter import LiveKitProvider
from switchboard.providers.livekit.compile import AGENT_NAME, HEADERS_TO_ATTRIBUTES
from switchboard.providers.livekit.dispatch import DispatchMetadata
from switchboard.providers.resilience import RetryPolicy
from switchboard.spec import AgentRef, InboundCall
from tests.support.livekit_twirp import LiveKitTwirpServer

API_KEY, API_SECRET = "APIkey123", "secret-of-at-least-32-characters-long"
ORG = "9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41"
AGENT_CONFIG = "3f6a1d2c-8b9e-4f70-a1b2-c3d4e5f60718"
CALL_RECORD = "0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"


@pytest.fixture
async def twirp():
    server = LiveKitTwirpServer(API_KEY, API_SECRET)
    server.url = await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def livekit(twirp):
    creds = ProviderCredentials(values={
        "url": "wss://demo-project.livekit.cloud", "api_key": API_KEY, "api_secret": API_SECRET,
        "sip_username": "switchboard", "sip_password": "trunk-password", "outbound_trunk_id": "ST_outbound",
    }, base_url=twirp.url)
    provider = LiveKitProvider(creds, retry=RetryPolicy(attempts=2, base_delay=0.01))
    yield provider
    await provider.aclose()


async def test_create_agent_makes_a_trunk_and_a_dispatch_rule(livekit, twirp, spec):
    spec.metadata["phone_numbers"] = ["+14155550199"]
    ref = await livekit.create_agent(spec)
    trunk = twirp.find("SIP", "CreateSIPInboundTrunk").trunk
    assert list(trunk.numbers) == ["+14155550199"]
    assert trunk.auth_username == "switchboard" and trunk.auth_password == "trunk-password"
    assert dict(trunk.headers_to_attributes) == HEADERS_TO_ATTRIBUTES
    assert trunk.headers_to_attributes["X-Switchboard-Call-Record-Id"] == "switchboard.call_record_id"
    assert trunk.max_call_duration.seconds == 900
    rule = twirp.find("SIP", "CreateSIPDispatchRule").dispatch_rule
    assert list(rule.trunk_ids) == [ref.settings["inbound_trunk_id"]]
    assert rule.rule.dispatch_rule_individual.room_prefix == "call-"
    [agent] = rule.room_config.agents
    assert agent.agent_name == AGENT_NAME == "switchboard"
    assert json.loads(agent.metadata) == {"organization_id": ORG, "agent_config_id": AGENT_CONFIG}
    assert DispatchMetadata.parse(agent.metadata).agent_config_id == UUID(AGENT_CONFIG)  # what the worker reads
    assert ref.agent_id == rule.sip_dispatch_rule_id or ref.agent_id.startswith("SDR_")
    assert ref.settings["tts"] == "openai-tts" and ref.settings["voice"] == "alloy"
    assert all(call.claims.sip.admin for call in twirp.calls)


async def test_update_attach_delete(livekit, twirp, spec):
    ref = AgentRef(agent_id="SDR_1", settings={"inbound_trunk_id": "ST_1", "numbers": []})
    spec.prompt = "changed"
    ref = await livekit.update_agent(ref, spec)
    update = twirp.find("SIP", "UpdateSIPDispatchRule")
    assert update.sip_dispatch_rule_id == "SDR_1" and list(update.replace.trunk_ids) == ["ST_1"]
    ref = await livekit.attach_number(ref, "+14155550199")
    trunk_update = [c.request for c in twirp.calls if c.method == "UpdateSIPInboundTrunk"][-1]
    assert trunk_update.sip_trunk_id == "ST_1" and list(trunk_update.update.numbers.add) == ["+14155550199"]
    assert ref.settings["numbers"] == ["+14155550199"]
    await livekit.delete_agent(ref)
    assert twirp.find("SIP", "DeleteSIPDispatchRule").sip_dispatch_rule_id == "SDR_1"
    assert twirp.find("SIP", "DeleteSIPTrunk").sip_trunk_id == "ST_1"


async def test_outbound_call_dispatches_the_worker_then_dials(livekit, twirp):
    call = await livekit.create_call(AgentRef(agent_id="SDR_1"), from_number="+14155550199", to_number="+14155550111",
                                     metadata={"organization_id": ORG, "agent_config_id": AGENT_CONFIG, "call_record_id": CALL_RECORD})
    dispatch = twirp.find("AgentDispatchService", "CreateDispatch")
    assert dispatch.agent_name == "switchboard" and dispatch.room == call.provider_call_id
    assert DispatchMetadata.parse(dispatch.metadata).call_record_id == UUID(CALL_RECORD)
    participant = twirp.find("SIP", "CreateSIPParticipant")
    assert participant.sip_trunk_id == "ST_outbound" and participant.sip_call_to == "+14155550111"
    assert participant.sip_number == "+14155550199" and participant.room_name == call.provider_call_id
    assert participant.participant_attributes["switchboard.call_record_id"] == CALL_RECORD
    assert [c.method for c in twirp.calls] == ["CreateDispatch", "CreateSIPParticipant"]
    await livekit.end_call(call.provider_call_id)
    assert twirp.find("RoomService", "DeleteRoom").room == call.provider_call_id


async def test_inbound_hand_off_bridges_to_the_project_sip_host(livekit, docs, spec):
    call = InboundCall(telephony_call_id="c-1", from_number="+14155550100", to_number="+14155550199",
                       organization_id=ORG, agent_config_id=AGENT_CONFIG, call_record_id=CALL_RECORD)
    hand_off = await livekit.hand_off_inbound(AgentRef(), spec, call)
    connect = hand_off.swml["sections"]["main"][0]["connect"]
    assert connect["to"] == "sip:+14155550199@demo-project.sip.livekit.cloud;transport=tcp"
    # the per-call ids ride as SIP headers that the trunk maps to participant attributes
    headers = {h["name"]: h["value"] for h in connect["headers"]}
    assert {HEADERS_TO_ATTRIBUTES[k]: v for k, v in headers.items()}["switchboard.call_record_id"] == CALL_RECORD
    docs["signalwire"].validate_component("SWML.Calling.SWMLObject", hand_off.swml)


async def test_health_and_errors(livekit, twirp, spec):
    assert (await livekit.health_check()).ok
    twirp.failures[("SIP", "CreateSIPDispatchRule")] = (400, "invalid_argument")
    with pytest.raises(ProviderRejected) as err:
        await livekit.create_agent(spec.model_copy(update={"metadata": {**spec.metadata, "phone_numbers": ["+1415555019"]}}))
    assert err.value.status_code == 400
    # the trunk made before the failure is removed again
    assert twirp.find("SIP", "DeleteSIPTrunk").sip_trunk_id.startswith("ST_")
    twirp.failures[("RoomService", "ListRooms")] = (503, "unavailable")
    status = await livekit.health_check()
    assert not status.ok and "503" in status.detail


async def test_a_wrong_secret_is_rejected_by_the_server(twirp):
    provider = LiveKitProvider(ProviderCredentials(values={"api_key": API_KEY, "api_secret": "not-the-secret-" * 3}, base_url=twirp.url),
                               retry=RetryPolicy(attempts=1))
    with pytest.raises(ProviderRejected) as err:
        await provider.end_call("call-x")
    assert err.value.status_code == 401
    await provider.aclose()


async def test_voices_that_the_worker_cannot_speak_are_refused(livekit, twirp, spec):
    spec.voice.vendor, spec.voice.voice_id = "playht", "s3://voice-cloning-zero-shot/abc/manifest.json"
    with pytest.raises(ProviderRejected, match="no playht voices"):
        await livekit.create_agent(spec)
    assert twirp.calls == []


async def test_unreachable_server_is_unavailable():
    provider = LiveKitProvider(ProviderCredentials(values={"api_key": API_KEY, "api_secret": API_SECRET}, base_url="http://127.0.0.1:9"),
                               retry=RetryPolicy(attempts=2, base_delay=0.01))
    with pytest.raises(ProviderUnavailable) as err:
        await provider.end_call("call-x")
    assert err.value.request_sent is False
    await provider.aclose()


async def test_elevenlabs_preset_and_cloned_voices_are_offered_and_reach_the_worker(livekit, twirp, spec):
    from switchboard.providers import registry

    offered = {(v.vendor, registry.preset_voice_spec(v).voice_id) for v in registry.preset_voices("livekit")}
    assert ("elevenlabs", "21m00Tcm4TlvDq8ikWAM") in offered and ("deepgram", "aura-2-thalia-en") in offered
    spec.voice.vendor, spec.voice.voice_id, spec.voice.custom = "elevenlabs", "Xb7hH8MSUJpSbSDYk0k2", True
    ref = await livekit.create_agent(spec)
    assert (ref.settings["tts"], ref.settings["voice"]) == ("elevenlabs-tts", "Xb7hH8MSUJpSbSDYk0k2")
