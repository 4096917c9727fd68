"""Vapi through vapi-server-sdk against a Prism mock of Vapi's flat document; every body the
adapter sends is checked against the FULL Vapi document (the flat one has no body schemas)."""

from __future__ import annotations

import pytest
from aiohttp import web

from switchboard.providers.base import ProviderCredentials, ProviderRejected
from switchboard.providers.resilience import RetryPolicy
from switchboard.providers.vapi.adapter import VapiProvider
from switchboard.spec import AgentRef, InboundCall
from tests.support.openapi import ContractViolation

ASSISTANT = "5b0a9c1e-2d3f-4a5b-8c7d-9e0f1a2b3c4d"
PHONE_NUMBER = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
CALL = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
SIP_CREDENTIAL = "550e8400-e29b-41d4-a716-446655440000"


@pytest.fixture
def vapi(vapi_prism, http_client) -> VapiProvider:
    creds = ProviderCredentials(
        values={"api_key": "vapi_private_key", "webhook_secret": "s3cret-token", "sip_credential_id": SIP_CREDENTIAL},
        base_url=vapi_prism.url,
    )
    return VapiProvider(creds, http_client=http_client, webhook_base_url="https://switchboard.example.com",
                        retry=RetryPolicy(attempts=2, base_delay=0.01))


async def test_create_agent_compiles_an_assistant_the_full_document_accepts(vapi, recorder, docs, spec):
    ref = await vapi.create_agent(spec)
    assert ref.agent_id
    docs["vapi"].assert_valid_requests(recorder.requests)
    body = recorder.find("POST", "/assistant").json()
    assert body["model"]["messages"] == [{"role": "system", "content": spec.prompt}]
    assert body["firstMessage"] == spec.begin_message
    assert body["voice"] == {"provider": "openai", "voiceId": "alloy"}
    assert body["transcriber"] == {"provider": "deepgram", "model": "nova-2", "language": "en"}
    tools = body["model"]["tools"]
    assert {"type": "endCall"} in tools
    assert {"type": "transferCall", "destinations": [{"type": "number", "number": "+14155550123",
                                                      "description": "Transfer to the practice manager."}]} in tools
    api = next(t for t in tools if t["type"] == "apiRequest")
    assert api["url"] == "https://api.demo-dental.example/appointments" and api["body"]["required"] == ["day", "name"]
    assert body["server"] == {"url": "https://switchboard.example.com/functions/v1/provider-webhook-router/vapi/9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41",
                              "headers": {"X-Vapi-Secret": "s3cret-token"}}
    assert body["maxDurationSeconds"] == 900
    assert body["analysisPlan"]["successEvaluationPlan"]["enabled"] is True
    assert set(body["analysisPlan"]["structuredDataPlan"]["schema"]["properties"]) == {"patient_name", "sentiment"}
    assert body["monitorPlan"] == {"controlEnabled": True}
    assert recorder.requests[0].headers["authorization"] == "Bearer vapi_private_key"


async def test_update_delete_attach_number_and_call(vapi, recorder, docs, spec):
    ref = AgentRef(agent_id=ASSISTANT)
    await vapi.update_agent(ref, spec)
    assert recorder.find("PATCH", f"/assistant/{ASSISTANT}").json()["voice"]["voiceId"] == "alloy"
    ref = await vapi.attach_number(ref, "+14155550199")
    number = recorder.find("POST", "/phone-number").json()
    assert number == {"provider": "byo-phone-number", "number": "+14155550199", "credentialId": SIP_CREDENTIAL,
                      "assistantId": ASSISTANT, "numberE164CheckEnabled": True}
    assert ref.settings["phone_number_ids"]["+14155550199"]
    assert await vapi.attach_number(ref, "+14155550199") == ref  # once only
    call = await vapi.create_call(ref, from_number="+14155550199", to_number="+14155550111", metadata={"call_record_id": "x"})
    assert call.provider_call_id
    body = recorder.find("POST", "/call").json()
    assert body["assistantId"] == ASSISTANT and body["customer"] == {"number": "+14155550111"}
    assert body["phoneNumberId"] == ref.settings["phone_number_ids"]["+14155550199"]
    assert body["assistantOverrides"] == {"metadata": {"call_record_id": "x"}}
    await vapi.delete_agent(ref)
    recorder.find("DELETE", f"/assistant/{ASSISTANT}")
    assert (await vapi.health_check()).ok
    docs["vapi"].assert_valid_requests(recorder.requests)


async def test_calling_from_an_unregistered_number_is_refused_clearly(vapi, recorder):
    with pytest.raises(ProviderRejected, match=r"\+14155550100 is not registered on Vapi"):
        await vapi.create_call(AgentRef(agent_id=ASSISTANT), from_number="+14155550100", to_number="+14155550111")
    assert recorder.requests == []


async def test_inbound_hand_off_bridges_to_the_sip_credential(vapi, docs, spec):
    call = InboundCall(telephony_call_id="c-1", from_number="+14155550100", to_number="+14155550199",
                       organization_id="9b2f6c1e-4a57-4d0e-9f3a-2c8d7e6b5a41", agent_config_id="3f6a1d2c-8b9e-4f70-a1b2-c3d4e5f60718",
                       call_record_id="0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a")
    hand_off = await vapi.hand_off_inbound(AgentRef(agent_id=ASSISTANT), spec, call)
    assert hand_off.swml["sections"]["main"][0]["connect"]["to"] == f"sip:+14155550199@{SIP_CREDENTIAL}.sip.vapi.ai"
    docs["signalwire"].validate_component("SWML.Calling.SWMLObject", hand_off.swml)
    laml = await vapi.hand_off_inbound(AgentRef(agent_id=ASSISTANT), spec, call.model_copy(update={"answer_format": "laml"}))
    assert f"<Sip>sip:+14155550199@{SIP_CREDENTIAL}.sip.vapi.ai</Sip>" in laml.laml


async def test_end_call_reads_the_control_url_and_posts_end_call(vapi, recorder, aiohttp_server):
    # Prism's Call example has no usable controlUrl: the adapter refuses to guess one.
    with pytest.raises(ProviderRejected, match="no control URL"):
        await vapi.end_call(CALL)
    recorder.find("GET", f"/call/{CALL}")
    # The control URL itself (outside the REST document): the command Vapi defines.
    received = []

    async def control(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({})

    server = await aiohttp_server([("POST", "/control", control)])
    await vapi.control(f"{server}/control", {"type": "end-call"})
    assert received == [{"type": "end-call"}]


async def test_a_misspelt_field_fails_the_contract_check(vapi, recorder, docs, spec):
    # The SDK refuses unknown keywords, but extra body fields pass through to the wire — and Prism
    # accepts the body; the full document does not know the field.
    await vapi.client.assistants.create(
        model={"provider": "openai", "model": "gpt-4o-mini"},
        request_options={"additional_body_parameters": {"firstMesssage": "Hi"}},
    )
    with pytest.raises(ContractViolation, match="firstMesssage"):
        docs["vapi"].assert_valid_requests(recorder.requests)
