"""One agent spec on all four platforms, and a switch of platform that re-enters nothing: the
prompt, the voice and the tools each platform received are read back from what was actually
sent (recorded request bodies, decoded Twirp messages) and must be the spec's."""

from __future__ import annotations

import json

import httpx
import pytest

from switchboard.providers.base import ProviderCredentials
from switchboard.providers.registry import PLATFORMS, get_provider
from switchboard.providers.resilience import RetryPolicy
from switchboard.spec import AgentSpec
from tests.support.livekit_twirp import LiveKitTwirpServer
from tests.support.openapi import RequestRecorder

FAST = RetryPolicy(attempts=2, base_delay=0.01)


def canonical_from_retell(llm: dict, agent: dict) -> dict:
    return {
        "prompt": llm["general_prompt"],
        "voice": agent["voice_id"],
        "tools": sorted((t["name"], {"end_call": "end_call", "transfer_call": "transfer", "custom": "http"}[t["type"]]) for t in llm["general_tools"]),
        "transfer_to": [t["transfer_destination"]["number"] for t in llm["general_tools"] if t["type"] == "transfer_call"],
        "http_urls": [t["url"] for t in llm["general_tools"] if t["type"] == "custom"],
    }


def canonical_from_vapi(assistant: dict) -> dict:
    tools = assistant["model"]["tools"]
    names = {"endCall": "end_call", "transferCall": "transfer_call"}
    return {
        "prompt": assistant["model"]["messages"][0]["content"],
        "voice": f'{assistant["voice"]["provider"]}/{assistant["voice"]["voiceId"]}',
        "tools": sorted((t.get("name") or names[t["type"]], {"endCall": "end_call", "transferCall": "transfer", "apiRequest": "http"}[t["type"]]) for t in tools),
        "transfer_to": [d["number"] for t in tools if t["type"] == "transferCall" for d in t["destinations"]],
        "http_urls": [t["url"] for t in tools if t["type"] == "apiRequest"],
    }


def canonical_from_signalwire(ai: dict) -> dict:
    functions = ai["SWAIG"]["functions"]

    def kind(f: dict) -> str:
        if f["data_map"].get("webhooks"):
            return "http"
        action = f["data_map"]["output"]["action"][0]
        return "end_call" if action.get("hangup") else "transfer"

    return {
        "prompt": ai["prompt"]["text"],
        "voice": ai["languages"][0]["voice"],
        "tools": sorted((f["function"], kind(f)) for f in functions),
        "transfer_to": [f["data_map"]["output"]["action"][0]["SWML"]["sections"]["main"][0]["connect"]["to"] for f in functions if kind(f) == "transfer"],
        "http_urls": [f["data_map"]["webhooks"][0]["url"] for f in functions if kind(f) == "http"],
    }


@pytest.fixture
async def platforms(retell_prism, vapi_prism, signalwire_prism, signalwire_compat_prism, recorder):
    twirp = LiveKitTwirpServer("APIswitch", "switch-secret-of-at-least-32-characters")
    twirp_url = await twirp.start()
    client = httpx.AsyncClient(event_hooks={"request": [recorder.hook]})
    web = {"http_client": client, "webhook_base_url": "https://switchboard.example.com", "retry": FAST}
    providers = {
        "retell": get_provider("retell", ProviderCredentials(values={"api_key": "key_r"}, base_url=retell_prism.url), **web),
        "vapi": get_provider("vapi", ProviderCredentials(values={"api_key": "key_v", "webhook_secret": "s"}, base_url=vapi_prism.url), **web),
        "signalwire": get_provider("signalwire", ProviderCredentials(
            values={"project_id": "b3877c40-da60-4998-90ad-b792e98472af", "api_token": "PT", "space_url": "demo.signalwire.com", "signing_key": "PSK"},
            base_url=signalwire_prism.url, base_urls={"compat": signalwire_compat_prism.url}), **web),
        "livekit": get_provider("livekit", ProviderCredentials(
            values={"url": "wss://demo.livekit.cloud", "api_key": "APIswitch", "api_secret": "switch-secret-of-at-least-32-characters",
                    "sip_username": "u", "sip_password": "p"}, base_url=twirp_url), retry=FAST),
    }
    yield providers, twirp
    for p in providers.values():
        await p.aclose()
    await client.aclose()
    await twirp.stop()


async def test_one_spec_compiled_for_all_four_platforms(platforms, recorder: RequestRecorder, docs, spec: AgentSpec):
    providers, twirp = platforms
    assert set(providers) == set(PLATFORMS) == {"retell", "vapi", "signalwire", "livekit"}
    refs = {code: await p.create_agent(spec) for code, p in providers.items()}
    assert all(ref.agent_id for ref in refs.values())

    retell_requests = [r for r in recorder.requests if r.path in ("/create-retell-llm", "/create-agent")]
    docs["retell"].assert_valid_requests(retell_requests)
    docs["vapi"].assert_valid_requests([r for r in recorder.requests if r.path == "/assistant"])
    docs["signalwire"].assert_valid_requests([r for r in recorder.requests if r.path == "/api/fabric/resources/ai_agents"])

    seen = {
        "retell": canonical_from_retell(recorder.find("POST", "/create-retell-llm").json(), recorder.find("POST", "/create-agent").json()),
        "vapi": canonical_from_vapi(recorder.find("POST", "/assistant").json()),
        "signalwire": canonical_from_signalwire(recorder.find("POST", "/api/fabric/resources/ai_agents").json()),
    }
    expected_tools = sorted([("end_call", "end_call"), ("transfer_call", "transfer"), ("book_appointment", "http")])
    for code, view in seen.items():
        assert view["prompt"] == spec.prompt, code
        assert view["tools"] == expected_tools, code
        assert view["transfer_to"] == ["+14155550123"], code
        assert view["http_urls"] == ["https://api.demo-dental.example/appointments"], code
    assert (seen["retell"]["voice"], seen["vapi"]["voice"], seen["signalwire"]["voice"]) == ("openai-Alloy", "openai/alloy", "openai.alloy")

    # LiveKit: our worker is the agent; the dispatch names the agent config it loads the spec from.
    rule = twirp.find("SIP", "CreateSIPDispatchRule").dispatch_rule
    assert json.loads(rule.room_config.agents[0].metadata)["agent_config_id"] == spec.metadata["agent_config_id"]
    assert (refs["livekit"].settings["tts"], refs["livekit"].settings["voice"]) == ("openai-tts", "alloy")
    assert providers["livekit"].native_form(spec)["worker"]["spec"]["prompt"] == spec.prompt


async def test_switching_platform_keeps_prompt_voice_and_tools(platforms, spec: AgentSpec):
    """The spec as stored (its JSON) is all a switch needs: Retell → Vapi → SignalWire, nothing re-entered."""
    providers, _ = platforms
    stored = spec.model_dump_json()
    views = []
    for code in ("retell", "vapi", "signalwire"):
        loaded = AgentSpec.model_validate_json(stored)
        native = providers[code].native_form(loaded)
        views.append({
            "retell": lambda n: canonical_from_retell(n["retell_llm"], n["agent"]),
            "vapi": lambda n: canonical_from_vapi(n["assistant"]),
            "signalwire": lambda n: canonical_from_signalwire(n["swml"]["sections"]["main"][-1]["ai"]),
        }[code](native))
    for key in ("prompt", "tools", "transfer_to", "http_urls"):
        assert views[0][key] == views[1][key] == views[2][key], key
    assert [v["voice"] for v in views] == ["openai-Alloy", "openai/alloy", "openai.alloy"]  # one voice, three spellings
    # and the begin message, language and duration carry over too
    retell, vapi, sw = (providers[c].native_form(spec) for c in ("retell", "vapi", "signalwire"))
    assert retell["retell_llm"]["begin_message"] == vapi["assistant"]["firstMessage"] == sw["swml"]["sections"]["main"][-1]["ai"]["params"]["static_greeting"]
    assert retell["agent"]["max_call_duration_ms"] // 1000 == vapi["assistant"]["maxDurationSeconds"] == sw["swml"]["sections"]["main"][0]["answer"]["max_duration"] == 900
