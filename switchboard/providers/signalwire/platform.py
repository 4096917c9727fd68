"""SignalWire AI, as the registry knows it (no SDK imported here). SignalWire also carries our
own numbers: its call requests are parsed by `inbound.py`."""

from __future__ import annotations

from pydantic import Field, SecretStr

from switchboard.providers.descriptor import DemoProfile, PlatformSettings, describe
from switchboard.providers.schema import key, secret_object


class SignalWireSettings(PlatformSettings):
    project_id: str | None = Field(None, alias="SIGNALWIRE_PROJECT_ID")
    api_token: SecretStr | None = Field(None, alias="SIGNALWIRE_API_TOKEN")
    space_url: str | None = Field(None, alias="SIGNALWIRE_SPACE_URL")
    signing_key: SecretStr | None = Field(None, alias="SIGNALWIRE_SIGNING_KEY")


PLATFORM = describe(
    __name__,
    label="SignalWire AI Agent",
    short_label="SignalWire",
    adapter="SignalWireProvider",
    secrets_schema=secret_object(
        {
            "project_id": {"type": "string", "minLength": 8, "maxLength": 64, "title": "Project id"},
            "api_token": key("API token"),
            "space_url": {"type": "string", "minLength": 4, "maxLength": 255, "title": "Space URL (example.signalwire.com)"},
            "signing_key": key("Signing key"),
        },
        ["project_id", "api_token", "space_url"],
    ),
    settings=SignalWireSettings,
    url_fields=("space_url", "base_url"),
    color="#f59e0b",
    inbound=True,
    demo=DemoProfile(settings={"ai_model": "gpt-4.1-nano", "enable_accounting": True}, voice_id="elevenlabs.adam",
                     share=0.14, median_seconds=140, success_rate=0.74, error_rate=0.02),
    browser_sdk="@signalwire/js@3.30.0",
)
