"""SignalWire AI: the Fabric AI agent and the Calling API against a Prism mock of the flat REST
document, hang-up and health against a Prism mock of the Compatibility document; every body is
checked against the FULL documents, and every SWML document we produce against the REST
document's `SWML.Calling.SWMLObject` schema."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from switchboard.providers.base import ProviderCredentials, ProviderRejected
from switchboard.providers.resilience import RetryPolicy
from switchboard.providers.signalwire.adapter import SignalWireProvider
from switchboard.spec import AgentRef, InboundCall, WebhookRequest

PROJECT = "b3877c40-da60-4998-90ad-b792e98472af"
AGENT = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
CALL_SID = "b3877c40-da60-4998-90ad-b792e98472ca"
ORG = "9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41"
AGENT_CONFIG = "3f6a1d2c-8b9e-4f70-a1b2-c3d4e5f60718"
CALL_RECORD = "0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"


@pytest.fixture
def signalwire(signalwire_prism, signalwire_compat_prism, http_client) -> SignalWireProvider:
    creds = ProviderCredentials(
        values={"project_id": PROJECT, "api_token": "PT_token", "space_url": "demo.signalwire.com", "signing_key": "PSK_signing"},
        base_url=signalwire_prism.url,
        base_urls={"compat": signalwire_compat_prism.url},
    )
    return SignalWireProvider(creds, http_client=http_client, webhook_base_url="https://switchboard.example.com",
                              retry=RetryPolicy(attempts=2, base_delay=0.01))


def inbound(fmt: str = "swml") -> InboundCall:
    return InboundCall(telephony_call_id=CALL_SID, from_number="+14155550100", to_number="+14155550199", answer_format=fmt,
                       organization_id=ORG, agent_config_id=AGENT_CONFIG, call_record_id=CALL_RECORD)


async def test_create_agent_stores_a_fabric_ai_agent(signalwire, recorder, docs, spec):
    ref = await signalwire.create_agent(spec)
    assert ref.agent_id and ref.voice_id == "openai.alloy"
    docs["signalwire"].assert_valid_requests(recorder.requests)
    request = recorder.find("POST", "/api/fabric/resources/ai_agents")
    body = request.json()
    assert body["name"] == "Front desk" and body["prompt"] == {"text": spec.prompt}
    assert body["params"]["enable_accounting"] is True and body["params"]["static_greeting"] == spec.begin_message
    assert body["languages"] == [{"name": "English", "code": "en-US", "voice": "openai.alloy"}]
    functions = {f["function"]: f for f in body["SWAIG"]["functions"]}
    assert functions["end_call"]["data_map"]["output"]["action"] == [{"hangup": True}]
    assert functions["transfer_call"]["data_map"]["output"]["action"][0]["SWML"]["sections"]["main"] == [{"connect": {"to": "+14155550123"}}]
    assert functions["book_appointment"]["data_map"]["webhooks"][0]["url"] == "https://api.demo-dental.example/appointments"
    assert functions["book_appointment"]["parameters"]["required"] == ["day", "name"]
    assert "booked an appointment" in body["post_prompt"]["text"] and "patient_name" in body["post_prompt"]["text"]
    post_prompt = urlsplit(body["post_prompt_url"])
    assert post_prompt.username == "switchboard" and post_prompt.password
    assert parse_qs(post_prompt.query)["organization_id"] == [ORG]
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"{PROJECT}:PT_token".encode()).decode()
    # The stored settings keep no credentials.
    assert "post_prompt_url" not in ref.settings["ai"]


async def test_update_delete_dial_end_and_health(signalwire, recorder, docs, spec):
    ref = await signalwire.update_agent(AgentRef(agent_id=AGENT), spec)
    assert recorder.find("PATCH", f"/api/fabric/resources/ai_agents/{AGENT}").json()["prompt"] == {"text": spec.prompt}
    call = await signalwire.create_call(ref, from_number="+14155550199", to_number="+14155550111",
                                        metadata={"call_record_id": CALL_RECORD, "organization_id": ORG})
    assert call.provider_call_id
    dial = recorder.find("POST", "/api/calling/calls").json()
    assert dial["command"] == "dial" and dial["params"]["from"] == "+14155550199" and dial["params"]["to"] == "+14155550111"
    ai = dial["params"]["swml"]["sections"]["main"][-1]["ai"]
    assert ai["global_data"]["call_record_id"] == CALL_RECORD and "call_record_id=" + CALL_RECORD in ai["post_prompt_url"]
    await signalwire.delete_agent(ref)
    recorder.find("DELETE", f"/api/fabric/resources/ai_agents/{AGENT}")
    docs["signalwire"].assert_valid_requests(recorder.requests)

    recorder.clear()
    await signalwire.end_call(CALL_SID)
    hangup = recorder.find("POST", f"/Accounts/{PROJECT}/Calls/{CALL_SID}")
    assert hangup.form() == {"Status": "completed"}
    assert (await signalwire.health_check()).ok
    recorder.find("GET", f"/Accounts/{PROJECT}")
    docs["signalwire_compat"].assert_valid_requests(recorder.requests)


async def test_inbound_hand_off_is_answer_record_ai_and_no_request(signalwire, recorder, docs, spec):
    hand_off = await signalwire.hand_off_inbound(AgentRef(), spec, inbound())
    assert recorder.requests == []
    main = hand_off.swml["sections"]["main"]
    assert [next(iter(step)) for step in main] == ["answer", "record_call", "ai"]
    assert main[0]["answer"]["max_duration"] == 900
    ai = main[2]["ai"]
    assert ai["params"]["enable_accounting"] is True
    assert ai["global_data"]["call_record_id"] == CALL_RECORD
    assert hand_off.provider_call_id == CALL_SID
    docs["signalwire"].validate_component("SWML.Calling.SWMLObject", hand_off.swml)
    # The post_prompt_url's credentials are exactly what verify_webhook accepts.
    url = urlsplit(ai["post_prompt_url"])
    auth = "Basic " + base64.b64encode(f"{url.username}:{url.password}".encode()).decode()
    signalwire.verify_webhook(WebhookRequest(headers={"authorization": auth}, body=b"{}", url=ai["post_prompt_url"]))


async def test_laml_numbers_get_a_clear_refusal(signalwire, spec):
    with pytest.raises(ProviderRejected, match="only in SWML"):
        await signalwire.hand_off_inbound(AgentRef(), spec, inbound("laml"))


async def test_dialling_an_agent_never_synced_is_refused(signalwire, recorder):
    with pytest.raises(ProviderRejected, match="not been synced"):
        await signalwire.create_call(AgentRef(agent_id=AGENT), from_number="+14155550199", to_number="+14155550111")
    assert recorder.requests == []


async def test_voices_offline(signalwire):
    voices = await signalwire.list_voices()
    assert any(v.id == "openai.alloy" for v in voices)


async def test_each_call_gets_its_own_ids_and_a_changed_spec_its_new_words(signalwire, spec):
    def call(sid: str, record: str) -> InboundCall:
        return inbound().model_copy(update={"telephony_call_id": sid, "call_record_id": record})

    first = call("CA-first", "0a6c1d0e-8a55-4a53-9f0e-5b1e0c7d2a11")
    second = call("CA-second", "1b6c1d0e-8a55-4a53-9f0e-5b1e0c7d2a11")
    a = (await signalwire.hand_off_inbound(AgentRef(), spec, first)).swml["sections"]["main"][2]["ai"]
    b = (await signalwire.hand_off_inbound(AgentRef(), spec, second)).swml["sections"]["main"][2]["ai"]
    assert a["global_data"]["telephony_call_id"] == "CA-first" and b["global_data"]["telephony_call_id"] == "CA-second"
    assert "CA-first" in a["post_prompt_url"] and "CA-second" in b["post_prompt_url"]
    assert a["prompt"] == b["prompt"]
    changed = spec.model_copy(update={"prompt": "You are the night shift."})
    c = (await signalwire.hand_off_inbound(AgentRef(), changed, first)).swml["sections"]["main"][2]["ai"]
    assert c["prompt"]["text"] == "You are the night shift."
    assert (await signalwire.hand_off_inbound(AgentRef(), spec, first)).swml["sections"]["main"][2]["ai"] == a
