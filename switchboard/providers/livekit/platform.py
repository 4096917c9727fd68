"""LiveKit, as the registry knows it (no SDK imported here): our own worker (`agent_worker`)
is the agent, running the organisation's STT/LLM/TTS vendor chains."""

from __future__ import annotations

from pydantic import Field, SecretStr

from switchboard.providers.descriptor import DemoProfile, PlatformSettings, describe
from switchboard.providers.schema import key, secret_object, text

# The worker's chain in the demo organisation (catalog keys).
DEMO_CHAIN = {"stt": "openai-stt", "llm": "openai-llm", "tts": "cartesia-tts"}


class LiveKitSettings(PlatformSettings):
    url: str | None = Field(None, alias="LIVEKIT_URL")
    api_key: str | None = Field(None, alias="LIVEKIT_API_KEY")
    api_secret: SecretStr | None = Field(None, alias="LIVEKIT_API_SECRET")
    sip_host: str | None = Field(None, alias="LIVEKIT_SIP_HOST")


PLATFORM = describe(
    __name__,
    label="LiveKit",
    short_label="LiveKit",
    adapter="LiveKitProvider",
    secrets_schema=secret_object(
        {
            "url": {"type": "string", "format": "uri", "pattern": "^(wss?|https?)://", "title": "Server URL"},
            "api_key": {"type": "string", "minLength": 3, "maxLength": 255, "title": "API key"},
            "api_secret": key("API secret"),
            "sip_host": text("SIP host (project.sip.livekit.cloud)"),
            "sip_username": text("Inbound trunk user name"),
            "sip_password": key("Inbound trunk password"),
            "sip_allowed_addresses": text("Addresses allowed to call the inbound trunk (comma-separated)", 2000),
            "outbound_trunk_id": text("Outbound SIP trunk id"),
        },
        ["url", "api_key", "api_secret"],
    ),
    settings=LiveKitSettings,
    url_fields=("url", "base_url"),
    url_schemes=("https", "wss"),
    address_fields=("sip_host",),
    color="#ef4444",
    vendor_chains=True,
    worker="agent_worker",
    worker_setting="url",
    demo=DemoProfile(settings={"agent_name": "switchboard-agent", "chain": DEMO_CHAIN},
                     voice_id="f786b574-daa5-4673-aa0c-cbe3e8534c02", share=0.16, median_seconds=170,
                     success_rate=0.77, error_rate=0.025, call_id_prefix="SCL_", chain=DEMO_CHAIN,
                     latency_ms={"e2e": 980, "stt": 160, "eou": 420, "llm": 330, "tts": 210, "overhead": 18}),
    browser_sdk="livekit-client@2.23.0",
)
CODE = PLATFORM.code  # as the worker's modules name the platform
