"""Retell through retell-sdk against a Prism mock of Retell's full OpenAPI document; every body
the adapter sends is checked against that document's request schema."""

from __future__ import annotations

import httpx
import pytest
import retell as retell_sdk

from switchboard.providers.base import ProviderCredentials, ProviderRejected, ProviderUnavailable
from switchboard.providers.resilience import RetryPolicy
from switchboard.providers.retell.adapter import RetellProvider
from switchboard.providers.retell.voices import PRESET_VOICES
from switchboard.spec import AgentRef, InboundCall
from tests.support.openapi import ContractViolation, RequestRecorder

ORG = "9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41"
AGENT_CONFIG = "3f6a1d2c-8b9e-4f70-a1b2-c3d4e5f60718"
CALL_RECORD = "0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a"


@pytest.fixture
def retell(retell_prism, http_client) -> RetellProvider:
    creds = ProviderCredentials(values={"api_key": "key_test_retell"}, base_url=retell_prism.url)
    return RetellProvider(creds, http_client=http_client, webhook_base_url="https://switchboard.example.com",
                          retry=RetryPolicy(attempts=2, attempt_timeout=10, base_delay=0.01))


def inbound(answer_format: str = "swml") -> InboundCall:
    return InboundCall(
        telephony_call_id="b3877c40-da60-4998-90ad-b792e98472ca", from_number="+14155550100", to_number="+14155550199",
        answer_format=answer_format, organization_id=ORG, agent_config_id=AGENT_CONFIG, call_record_id=CALL_RECORD,
    )


async def test_create_agent_makes_a_retell_llm_and_an_agent_with_valid_bodies(retell, recorder: RequestRecorder, docs, spec):
    ref = await retell.create_agent(spec)
    assert ref.agent_id and ref.llm_id and ref.voice_id == "openai-Alloy"
    docs["retell"].assert_valid_requests(recorder.requests)
    llm = recorder.find("POST", "/create-retell-llm").json()
    assert llm["general_prompt"] == spec.prompt
    assert llm["begin_message"] == spec.begin_message
    tools = {t["name"]: t for t in llm["general_tools"]}
    assert tools["end_call"]["type"] == "end_call"
    assert tools["transfer_call"]["transfer_destination"] == {"type": "predefined", "number": "+14155550123"}
    assert tools["book_appointment"]["type"] == "custom"
    assert tools["book_appointment"]["url"] == "https://api.demo-dental.example/appointments"
    assert tools["book_appointment"]["parameters"]["required"] == ["day", "name"]
    agent = recorder.find("POST", "/create-agent").json()
    assert agent["response_engine"] == {"type": "retell-llm", "llm_id": ref.llm_id}
    assert agent["voice_id"] == "openai-Alloy" and agent["language"] == "en-US"
    assert agent["webhook_url"] == "https://switchboard.example.com/functions/v1/provider-webhook-router/retell/" + ORG
    assert agent["max_call_duration_ms"] == 900_000
    analysis = {a["name"]: a for a in agent["post_call_analysis_data"]}
    assert analysis["patient_name"] == {"type": "string", "name": "patient_name", "description": "The caller's full name"}
    assert "booked an appointment" in analysis["call_successful"]["description"]
    assert all(r.headers["authorization"] == "Bearer key_test_retell" for r in recorder.requests)


async def test_update_and_delete_agent(retell, recorder, docs, spec):
    ref = AgentRef(agent_id="oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD", llm_id="oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD")
    spec.prompt = "A new prompt."
    updated = await retell.update_agent(ref, spec)
    assert updated.agent_id == ref.agent_id
    assert recorder.find("PATCH", f"/update-retell-llm/{ref.llm_id}").json()["general_prompt"] == "A new prompt."
    assert recorder.find("PATCH", f"/update-agent/{ref.agent_id}").json()["voice_id"] == "openai-Alloy"
    await retell.delete_agent(ref)
    recorder.find("DELETE", f"/delete-agent/{ref.agent_id}")
    recorder.find("DELETE", f"/delete-retell-llm/{ref.llm_id}")
    docs["retell"].assert_valid_requests(recorder.requests)


async def test_outbound_call_and_inbound_hand_off(retell, recorder, docs, spec):
    ref = AgentRef(agent_id="oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD")
    call = await retell.create_call(ref, from_number="+14155550100", to_number="+14155550111", metadata={"call_record_id": CALL_RECORD})
    assert call.provider_call_id
    body = recorder.find("POST", "/v2/create-phone-call").json()
    assert body == {"from_number": "+14155550100", "to_number": "+14155550111", "override_agent_id": ref.agent_id,
                    "metadata": {"call_record_id": CALL_RECORD}}

    hand_off = await retell.hand_off_inbound(ref, spec, inbound())
    registered = recorder.find("POST", "/v2/register-phone-call").json()
    assert registered["agent_id"] == ref.agent_id and registered["direction"] == "inbound"
    assert registered["metadata"]["call_record_id"] == CALL_RECORD
    assert registered["metadata"]["telephony_call_id"] == "b3877c40-da60-4998-90ad-b792e98472ca"
    connect = hand_off.swml["sections"]["main"][0]["connect"]
    assert connect["to"] == f"sip:{hand_off.provider_call_id}@sip.retellai.com;transport=tcp"
    assert {"name": "X-Switchboard-Call-Record-Id", "value": CALL_RECORD} in connect["headers"]
    docs["signalwire"].validate_component("SWML.Calling.SWMLObject", hand_off.swml)

    laml = await retell.hand_off_inbound(ref, spec, inbound("laml"))
    assert laml.laml.endswith(f"<Response><Dial><Sip>sip:{laml.provider_call_id}@sip.retellai.com;transport=tcp</Sip></Dial></Response>")
    docs["retell"].assert_valid_requests(recorder.requests)


async def test_end_call_uses_stop_call_which_the_document_lacks(retell, recorder):
    # Retell's document has no /v2/stop-call (see contracts README): the SDK's call still goes out
    # as Retell defines it, and the mock's 404 surfaces as a rejection, not a silent success.
    with pytest.raises(ProviderRejected) as err:
        await retell.end_call("Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6")
    assert err.value.status_code == 404
    assert recorder.find("POST", "/v2/stop-call/Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6").body in (b"", b"{}")


async def test_list_voices_live_and_offline(retell, recorder):
    voices = await retell.list_voices()
    assert voices and all(v.id and v.name for v in voices)
    recorder.find("GET", "/list-voices")
    offline = await RetellProvider(ProviderCredentials()).list_voices()
    assert offline == PRESET_VOICES and any(v.id == "openai-Alloy" for v in offline)


async def test_health_check(retell, recorder):
    status = await retell.health_check()
    assert status.ok, status.detail
    recorder.find("GET", "/get-concurrency")


async def test_a_missing_key_is_a_clear_rejection_before_any_request(recorder, spec):
    provider = RetellProvider(ProviderCredentials(base_url="http://127.0.0.1:9"))
    with pytest.raises(ProviderRejected, match="Retell API key is not configured"):
        await provider.create_agent(spec)


async def test_a_schema_breaking_request_fails_the_contract_check(retell, recorder, docs):
    # Prism 5.14 lets this through (it answers 201); the check against the full document does not.
    agent = await retell.client.agent.create(
        response_engine={"type": "retell-llm"},  # llm_id missing
        voice_id="openai-Alloy",
        language="xx-XX",  # not a Retell language
    )
    assert agent.agent_id
    with pytest.raises(ContractViolation) as err:
        docs["retell"].assert_valid_requests(recorder.requests)
    assert "llm_id" in str(err.value) or "xx-XX" in str(err.value)


async def test_5xx_is_retried_then_raised_as_unavailable(retell_prism, recorder):
    client = httpx.AsyncClient(event_hooks={"request": [recorder.hook]}, headers={"Prefer": "code=500"})
    provider = RetellProvider(ProviderCredentials(values={"api_key": "k"}, base_url=retell_prism.url), http_client=client,
                              retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02))
    with pytest.raises(ProviderUnavailable) as err:
        await provider.list_voices()
    assert err.value.status_code == 500
    assert len(recorder.requests) == 3
    await client.aclose()


async def test_sdk_errors_are_ours():
    # The SDK's own exception types never escape the adapter.
    provider = RetellProvider(ProviderCredentials(values={"api_key": "k"}, base_url="http://127.0.0.1:9"),
                              retry=RetryPolicy(attempts=1))
    with pytest.raises(ProviderUnavailable) as err:
        await provider.list_voices()
    assert not isinstance(err.value, retell_sdk.RetellError)
    assert err.value.request_sent is False
