"""Retell AI, as the registry knows it (no SDK imported here)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from switchboard.providers.descriptor import DemoProfile, PlatformSettings, describe
from switchboard.providers.schema import key, secret_object


class RetellSettings(PlatformSettings):
    api_key: SecretStr | None = Field(None, alias="RETELL_API_KEY")
    base_url: str = Field("https://api.retellai.com", alias="RETELL_BASE_URL")


PLATFORM = describe(
    __name__,
    label="Retell AI",
    short_label="Retell",
    adapter="RetellProvider",
    secrets_schema=secret_object(
        {"api_key": key("API key"), "webhook_api_key": key("Webhook key (when not the API key)")},
        ["api_key"],
    ),
    settings=RetellSettings,
    color="#6366f1",
    precall=True,
    demo=DemoProfile(settings={"response_engine": "retell-llm", "voice_model": "eleven_turbo_v2"},
                     voice_id="11labs-Adrian", share=0.36, median_seconds=150, success_rate=0.83,
                     error_rate=0.012, call_id_prefix="call_",
                     latency_ms={"e2e": 820, "stt": 140, "llm": 420, "tts": 190}),
    browser_sdk="retell-client-js-sdk@2.0.8",
)
