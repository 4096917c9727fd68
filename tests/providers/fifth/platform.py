"""The fifth platform, as the registry knows it."""

from __future__ import annotations

from pydantic import Field, SecretStr

from switchboard.providers.descriptor import PlatformDescriptor, PlatformSettings
from switchboard.providers.schema import key, secret_object

CODE = "fifth"


class FifthSettings(PlatformSettings):
    api_key: SecretStr | None = Field(None, alias="FIFTH_API_KEY")
    webhook_secret: SecretStr | None = Field(None, alias="FIFTH_WEBHOOK_SECRET")
    base_url: str = Field("https://api.fifth.example", alias="FIFTH_BASE_URL")


PLATFORM = PlatformDescriptor(
    code=CODE,
    label="Fifth Voice",
    short_label="Fifth",
    adapter="tests.providers.fifth.adapter:FifthProvider",
    secrets_schema=secret_object({"api_key": key("API key"), "webhook_secret": key("Webhook secret")}, ["api_key"]),
    settings=FifthSettings,
    color="#123456",
)
