"""Vapi, as the registry knows it (no SDK imported here)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from switchboard.providers.descriptor import DemoProfile, PlatformSettings, describe
from switchboard.providers.schema import key, public_text, secret_object, text


class VapiSettings(PlatformSettings):
    api_key: SecretStr | None = Field(None, alias="VAPI_API_KEY")
    base_url: str = Field("https://api.vapi.ai", alias="VAPI_BASE_URL")
    public_key: str | None = Field(None, alias="VAPI_PUBLIC_KEY")  # for browser calls; not a secret


PLATFORM = describe(
    __name__,
    label="Vapi",
    short_label="Vapi",
    adapter="VapiProvider",
    secrets_schema=secret_object(
        {
            "api_key": key("Private API key"),
            "public_key": public_text("Public key (browser calls; not a secret)"),
            "webhook_secret": key("Server URL secret"),
            "webhook_secret_header": text("Header carrying the server URL secret (default X-Vapi-Secret)", 100),
            "webhook_credential_id": text("Webhook credential id (HMAC credential)"),
            "webhook_hmac_secret": key("Webhook HMAC secret"),
            "webhook_hmac_secret_is_base64": {"type": "string", "enum": ["true", "false"], "title": "HMAC secret is base64"},
            "webhook_hmac_algorithm": {"type": "string", "enum": ["sha1", "sha256", "sha512"], "title": "HMAC algorithm"},
            "webhook_hmac_encoding": {"type": "string", "enum": ["hex", "base64"], "title": "HMAC signature encoding"},
            "webhook_hmac_prefix": text("Signature prefix (e.g. sha256=)", 50),
            "webhook_signature_header": text("Signature header (default x-signature)", 100),
            "webhook_timestamp_header": text("Timestamp header (default x-timestamp)", 100),
            "sip_credential_id": text("BYO SIP trunk credential id (inbound calls)"),
        },
        ["api_key"],
    ),
    settings=VapiSettings,
    color="#10b981",
    precall=True,
    demo=DemoProfile(settings={"model": {"provider": "openai", "model": "gpt-4.1-mini"}, "transcriber": {"provider": "deepgram"}},
                     voice_id="Elliot", share=0.34, median_seconds=160, success_rate=0.80, error_rate=0.018,
                     latency_ms={"e2e": 1150, "stt": 110, "eou": 380, "llm": 450, "tts": 230}),
    browser_sdk="@vapi-ai/web@2.7.1",
)
