"""Every setting Switchboard reads, in one place (pydantic-settings).

With no settings at all the product runs on safe local defaults: an embedded Postgres under
`.data/`, and an encryption key ring and JWT secret generated once into `.data/local-secrets.json`
(mode 0600) — random, never a constant in code. With `SWITCHBOARD_ENV=production` a missing
secret is a start-up error instead.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """A setting is missing or invalid; the message names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    env: Literal["local", "production"] = Field("local", alias="SWITCHBOARD_ENV")
    data_dir: Path = Field(PROJECT_ROOT / ".data", alias="SWITCHBOARD_DATA_DIR")

    # Database: a hosted Supabase connection string works unchanged; unset = embedded cluster.
    database_url: str | None = Field(None, alias="DATABASE_URL")
    local_db_port: int = Field(54322, alias="SWITCHBOARD_DB_PORT")
    db_pool_min: int = Field(1, alias="SWITCHBOARD_DB_POOL_MIN")
    db_pool_max: int = Field(10, alias="SWITCHBOARD_DB_POOL_MAX")

    # Secrets. ENCRYPTION_KEYS = "kid1:<base64 32 bytes>,kid0:<...>": the first encrypts, all decrypt.
    encryption_keys: SecretStr | None = Field(None, alias="ENCRYPTION_KEYS")
    jwt_secret: SecretStr | None = Field(None, alias="JWT_SECRET")
    jwt_expiry_seconds: int = Field(3600, alias="JWT_EXPIRY_SECONDS")
    # Bearer token Supabase database webhooks present to edge functions (a service_role JWT).
    service_role_key: SecretStr | None = Field(None, alias="SUPABASE_SERVICE_ROLE_KEY")

    # Hosted Supabase auth: with both set, sign-in goes through supabase-py's auth client.
    supabase_url: str | None = Field(None, alias="SUPABASE_URL")
    supabase_anon_key: SecretStr | None = Field(None, alias="SUPABASE_ANON_KEY")

    # Ports and public URLs.
    functions_host: str = Field("127.0.0.1", alias="FUNCTIONS_HOST")
    functions_port: int = Field(54321, alias="FUNCTIONS_PORT")
    app_port: int = Field(3000, alias="APP_PORT")
    app_backend_port: int = Field(8000, alias="APP_BACKEND_PORT")
    public_base_url: str = Field("http://127.0.0.1:54321", alias="PUBLIC_BASE_URL")

    # Platform defaults (an organisation's own keys in organization_secrets take precedence).
    retell_api_key: SecretStr | None = Field(None, alias="RETELL_API_KEY")
    retell_base_url: str = Field("https://api.retellai.com", alias="RETELL_BASE_URL")
    vapi_api_key: SecretStr | None = Field(None, alias="VAPI_API_KEY")
    vapi_base_url: str = Field("https://api.vapi.ai", alias="VAPI_BASE_URL")
    vapi_public_key: str | None = Field(None, alias="VAPI_PUBLIC_KEY")  # for browser calls; not a secret
    signalwire_project_id: str | None = Field(None, alias="SIGNALWIRE_PROJECT_ID")
    signalwire_api_token: SecretStr | None = Field(None, alias="SIGNALWIRE_API_TOKEN")
    signalwire_space_url: str | None = Field(None, alias="SIGNALWIRE_SPACE_URL")
    signalwire_signing_key: SecretStr | None = Field(None, alias="SIGNALWIRE_SIGNING_KEY")
    livekit_url: str | None = Field(None, alias="LIVEKIT_URL")
    livekit_api_key: str | None = Field(None, alias="LIVEKIT_API_KEY")
    livekit_api_secret: SecretStr | None = Field(None, alias="LIVEKIT_API_SECRET")
    livekit_sip_host: str | None = Field(None, alias="LIVEKIT_SIP_HOST")
    # Where the worker serves text conversations (`python -m agent_worker chat`): the LiveKit
    # platform's chats run there. The operator's address, never a tenant's. The bearer token
    # both sides present; unset, it is derived from the JWT secret (one secret less to share).
    livekit_chat_url: str = Field("http://127.0.0.1:54329", alias="LIVEKIT_CHAT_URL")
    livekit_chat_token: SecretStr | None = Field(None, alias="LIVEKIT_CHAT_TOKEN")

    # Worker vendors (seed 002's environment fallback when the database is unreachable).
    provider_env_fallback: bool = Field(True, alias="PROVIDER_ENV_FALLBACK")
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    cartesia_api_key: SecretStr | None = Field(None, alias="CARTESIA_API_KEY")
    # `python -m agent_worker console` has no dispatch: the job metadata to use (DispatchMetadata JSON).
    console_metadata: str | None = Field(None, alias="SWITCHBOARD_CONSOLE_METADATA")

    # Outbound requests a tenant can influence (switchboard.egress). In production only https to
    # public addresses; these comma-separated host names are the operator's exceptions.
    egress_allow_http_hosts: str = Field("", alias="EGRESS_ALLOW_HTTP_HOSTS")
    egress_allow_private_hosts: str = Field("", alias="EGRESS_ALLOW_PRIVATE_HOSTS")

    # The admin app's public address (invitation links in API answers and e-mails); unset =
    # http://127.0.0.1:<APP_PORT>. The app itself uses the address the admin's browser shows.
    app_public_url: str | None = Field(None, alias="APP_PUBLIC_URL")

    # Outgoing mail (invitations). Unset SMTP_HOST = no mail: the link is shown to the admin.
    smtp_host: str | None = Field(None, alias="SMTP_HOST")
    smtp_port: int = Field(587, alias="SMTP_PORT")
    smtp_username: str | None = Field(None, alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(None, alias="SMTP_PASSWORD")
    smtp_from: str | None = Field(None, alias="SMTP_FROM")
    smtp_starttls: bool = Field(True, alias="SMTP_STARTTLS")
    smtp_timeout_seconds: float = Field(10.0, alias="SMTP_TIMEOUT_SECONDS")

    log_level: str = Field("INFO", alias="LOG_LEVEL")

    @model_validator(mode="after")
    def _require_secrets_in_production(self) -> "Settings":
        if self.env == "production":
            missing = [
                name
                for name, value in (
                    ("DATABASE_URL", self.database_url),
                    ("ENCRYPTION_KEYS", self.encryption_keys),
                    ("JWT_SECRET", self.jwt_secret),
                )
                if not value
            ]
            if missing:
                raise ConfigurationError(
                    "SWITCHBOARD_ENV=production but these settings are missing: "
                    + ", ".join(missing)
                    + " (see README, 'Settings')"
                )
        return self

    # --- resolved secrets -------------------------------------------------------------
    def _local_secrets(self) -> dict[str, str]:
        """Generated once per checkout for local runs; never used in production."""
        if self.env == "production":
            raise ConfigurationError("local secrets requested in production")
        path = self.data_dir / "local-secrets.json"
        if path.exists():
            return json.loads(path.read_text())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        values = {
            "encryption_keys": "local1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "jwt_secret": secrets.token_urlsafe(48),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(values, fh)
        return values

    def resolved_encryption_keys(self) -> str:
        if self.encryption_keys:
            return self.encryption_keys.get_secret_value()
        return self._local_secrets()["encryption_keys"]

    def resolved_app_url(self) -> str:
        return (self.app_public_url or f"http://127.0.0.1:{self.app_port}").rstrip("/")

    def resolved_chat_token(self) -> str:
        if self.livekit_chat_token:
            return self.livekit_chat_token.get_secret_value()
        import hashlib
        import hmac

        return hmac.new(self.resolved_jwt_secret().encode(), b"livekit-chat", hashlib.sha256).hexdigest()

    def resolved_jwt_secret(self) -> str:
        if self.jwt_secret:
            return self.jwt_secret.get_secret_value()
        return self._local_secrets()["jwt_secret"]


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
