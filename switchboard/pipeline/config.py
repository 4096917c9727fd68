"""An organisation's resolved STT/LLM/TTS pipeline and agent spec, as the LiveKit worker needs it
at the start of a call (the catalogue's "resolved config", read by the worker's loader).

- `load_pipeline(conn, organization_id, agent_config_id)`: enabled `organization_provider_configs`
  joined to `providers`, ordered by `order_by_priority`, each config = defaults ⊕ overrides ⊕
  decrypted secrets (the organisation's own key, else the operator's default from the settings),
  plus the agent spec from `agent_configs`. A service type with no enabled vendor gets the
  catalog's always-available offline vendor, so a call is never left without a voice.
- `PipelineCache`: five-minute cache, invalidated at once by `NOTIFY pipeline_config` (migration
  20261122000600). When the database cannot be reached it serves the last known config, else the
  environment fallback (`PROVIDER_ENV_FALLBACK`), else fails with `PipelineUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Literal
from uuid import UUID

import psycopg
from pydantic import BaseModel

from switchboard.db import database_unavailable
from switchboard.pipeline.catalog import BY_KEY, CATALOG, merge_config, order_by_priority
from switchboard.pipeline.entry import ServiceType
from switchboard.settings import Settings, get_settings
from switchboard.spec import AgentSpec, AgentSpecInvalid, VoiceSpec, agent_spec_from_row
from switchboard.errors import NotFound, Unavailable

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "pipeline_config"
DEFAULT_TTL_SECONDS = 300.0
DEFAULT_ATTEMPT_TIMEOUT = 5.0
_ENV_PROMPT = (
    "You are a helpful, concise voice assistant. The organisation's own agent settings are "
    "temporarily unavailable, so keep answers short and offer to take a message."
)


class PipelineConfigError(NotFound, LookupError):
    """The database answered, but the call cannot be configured (unknown agent, wrong organisation)."""


class PipelineUnavailable(Unavailable, RuntimeError):
    """The database is unreachable and the environment fallback is switched off."""


class VendorSettings(BaseModel):
    """One vendor of a pipeline, its configuration resolved. `config` holds decrypted secrets:
    it stays in the worker's memory and is never logged (the repr masks the secret fields)."""

    key: str
    type: ServiceType
    vendor: str
    name: str
    priority: int
    config: dict[str, Any]
    secret_fields: frozenset[str] = frozenset()
    credential_source: Literal["organization", "environment", "none"] = "none"

    @property
    def attempt_timeout(self) -> float:
        value = self.config.get("attempt_timeout")
        return float(value) if isinstance(value, (int, float)) and value > 0 else DEFAULT_ATTEMPT_TIMEOUT

    def __repr__(self) -> str:
        shown = {k: ("***" if k in self.secret_fields else v) for k, v in self.config.items()}
        return f"VendorSettings(key={self.key!r}, priority={self.priority}, config={shown})"

    __str__ = __repr__


class PipelineConfig(BaseModel):
    organization_id: UUID
    agent_config_id: UUID | None
    agent: AgentSpec
    stt: list[VendorSettings]
    llm: list[VendorSettings]
    tts: list[VendorSettings]
    source: Literal["database", "stale-cache", "environment"] = "database"

    def chain(self, service: ServiceType) -> list[VendorSettings]:
        return {"stt": self.stt, "llm": self.llm, "tts": self.tts}[service]

    def __repr__(self) -> str:
        keys = {s: [v.key for v in self.chain(s)] for s in ("stt", "llm", "tts")}
        return f"PipelineConfig(org={self.organization_id}, source={self.source}, chains={keys})"

    __str__ = __repr__


# ---------------------------------------------------------------------------------------------
# Loading from the database
# ---------------------------------------------------------------------------------------------
def environment_secret(vendor: str, settings: Settings) -> dict[str, str] | None:
    """The operator's default credentials for a vendor (OPENAI_API_KEY, CARTESIA_API_KEY)."""
    if vendor == "openai" and settings.openai_api_key:
        values = {"api_key": settings.openai_api_key.get_secret_value()}
        if settings.openai_base_url:
            values["base_url"] = settings.openai_base_url
        return values
    if vendor == "cartesia" and settings.cartesia_api_key:
        return {"api_key": settings.cartesia_api_key.get_secret_value()}
    return None


URL_KEYS = ("base_url", "url", "space_url", "api_base", "endpoint", "host")


def _moves_url(overrides: dict[str, Any], environment: dict[str, Any]) -> bool:
    """Whether the organisation's overrides send the vendor anywhere but the operator's URL."""
    for key in URL_KEYS:
        value = overrides.get(key)
        if value in (None, ""):
            continue
        if str(value).strip().rstrip("/") != str(environment.get(key) or "").strip().rstrip("/"):
            return True
    return False


def _apply_agent_voice(entry_vendor: str, config: dict[str, Any], voice: VoiceSpec) -> dict[str, Any]:
    """The agent's chosen voice (preset, custom or cloned) goes to the TTS vendor it belongs to."""
    if voice.vendor != entry_vendor or not voice.voice_id:
        return config
    entry_schema = next((e.config_schema for e in CATALOG if e.vendor == entry_vendor and e.type == "tts"), {})
    allowed = entry_schema.get("properties", {}).get("voice", {}).get("enum")
    if allowed and voice.voice_id not in allowed:
        log.warning("voice %r is not one of %s's voices; keeping %r", voice.voice_id, entry_vendor, config.get("voice"))
        return config
    config = {**config, "voice": voice.voice_id}
    if voice.speed is not None:
        config["speed"] = voice.speed
    return config


async def _vendor_secret(conn: psycopg.AsyncConnection, organization_id: UUID, key: str, vendor: str,
                         settings: Settings) -> tuple[dict[str, str] | None, str]:
    """The vendor's credentials and their source: the organisation's key, else the operator's, else none."""
    entry = BY_KEY.get(key)
    if not (entry and entry.secrets_schema.get("properties")):
        return None, "none"
    from switchboard.secrets import SecretError, get_secret  # AES-GCM, the foundation's key ring

    try:
        secret = await get_secret(conn, organization_id, vendor)
    except SecretError as exc:  # a key that does not decrypt is no key, as for platforms
        log.warning("organisation %s: the %s key could not be read (%s): treated as not set",
                    organization_id, vendor, type(exc).__name__)
        secret = None
    if secret:
        return secret, "organization"
    if secret := environment_secret(vendor, settings):
        return secret, "environment"
    return None, "none"


def _resolved(organization_id: UUID, row: dict[str, Any], secret: dict[str, str] | None, source: str
              ) -> VendorSettings | None:
    """Defaults ⊕ the organisation's overrides ⊕ credentials; None: the operator's key to the tenant's URL."""
    overrides = row.get("config") or {}
    if source == "environment" and _moves_url(overrides, secret or {}):
        # The operator's key goes only to the operator's URL: a vendor whose URL the
        # organisation changed needs the organisation's own key.
        log.warning("organisation %s: vendor %s skipped: it has a custom base_url but no key of the "
                    "organisation's own (the operator's key is used only with the operator's URL)",
                    organization_id, row["key"])
        return None
    return VendorSettings(
        key=row["key"], type=row["type"], vendor=row["vendor"], name=row["name"], priority=row.get("priority") or 0,
        config=merge_config(row["default_config"] or {}, overrides, secret), secret_fields=frozenset(secret or {}),
        credential_source=source,  # type: ignore[arg-type]
    )


async def resolve_vendor(conn: psycopg.AsyncConnection, organization_id: UUID, key: str, *,
                         settings: Settings | None = None) -> VendorSettings | None:
    """One catalogue entry as the organisation configured it, in its pipeline or not (service role);
    None when the entry is unknown or retired, or its credentials may not go to its URL."""
    row = await (await conn.execute(
        """
        select p.key, p.type, p.vendor, p.name, p.default_config, c.config, c.priority
        from public.providers p
        left join public.organization_provider_configs c on c.provider_id = p.id and c.organization_id = %s
        where p.key = %s and p.is_active
        """, (organization_id, key))).fetchone()
    if row is None:
        return None
    secret, source = await _vendor_secret(conn, organization_id, key, row["vendor"], settings or get_settings())
    return _resolved(organization_id, row, secret, source)


def always_available(service: ServiceType) -> list[VendorSettings]:
    """The catalog's offline vendors of a service (the always-available tier that needs no key)."""
    return [
        VendorSettings(key=e.key, type=e.type, vendor=e.vendor, name=e.name, priority=0, config=dict(e.default_config))
        for e in CATALOG
        if e.type == service and e.metadata.get("tier") == "always-available"
    ]


async def load_pipeline(
    conn: psycopg.AsyncConnection,
    organization_id: UUID,
    agent_config_id: UUID,
    *,
    settings: Settings | None = None,
) -> PipelineConfig:
    """Resolve one organisation's pipeline and agent (service-role connection)."""
    settings = settings or get_settings()
    cur = await conn.execute(
        "select * from public.agent_configs where id = %s and organization_id = %s", (agent_config_id, organization_id)
    )
    agent_row = await cur.fetchone()
    if agent_row is None:
        raise PipelineConfigError(f"agent {agent_config_id} is not an agent of organisation {organization_id}")
    try:  # the one reader (switchboard.spec); a spec that cannot run means the call is not configured
        agent = agent_spec_from_row(agent_row)
    except AgentSpecInvalid as exc:
        raise PipelineConfigError(str(exc)) from exc
    voice_was_set = bool(agent_row.get("voice"))

    cur = await conn.execute(
        """
        select p.key, p.type, p.vendor, p.name, p.default_config, p.is_active,
               c.config, c.is_enabled, c.priority
        from public.organization_provider_configs c
        join public.providers p on p.id = c.provider_id
        where c.organization_id = %s
        """,
        (organization_id,),
    )
    rows = await cur.fetchall()
    for row in rows:
        if not row["is_active"]:
            log.info("organisation %s: vendor %s is retired from the catalog; skipped", organization_id, row["key"])
        elif not row["is_enabled"]:
            log.info("organisation %s: vendor %s is disabled; skipped", organization_id, row["key"])
    enabled = order_by_priority(
        rows,
        priority=lambda r: r["priority"],
        name=lambda r: r["name"],
        enabled=lambda r: r["is_enabled"] and r["is_active"],
    )

    secrets_by_vendor: dict[str, tuple[dict[str, str] | None, str]] = {}
    chains: dict[str, list[VendorSettings]] = {"stt": [], "llm": [], "tts": []}
    for row in enabled:
        vendor = row["vendor"]
        if vendor not in secrets_by_vendor:
            secrets_by_vendor[vendor] = await _vendor_secret(conn, organization_id, row["key"], vendor, settings)
        resolved = _resolved(organization_id, row, *secrets_by_vendor[vendor])
        if resolved is None:
            continue
        if row["type"] == "tts" and voice_was_set:
            resolved.config = _apply_agent_voice(vendor, resolved.config, agent.voice)
        chains[row["type"]].append(resolved)
    for service, chain in chains.items():
        if not chain:
            chain.extend(always_available(service))  # type: ignore[arg-type]
            log.info("organisation %s has no %s vendor enabled; using the offline tier", organization_id, service)
    return PipelineConfig(organization_id=organization_id, agent_config_id=agent_config_id, agent=agent, source="database",
                          **chains)


def environment_pipeline(
    organization_id: UUID, agent_config_id: UUID | None, *, settings: Settings | None = None
) -> PipelineConfig:
    """The environment fallback (PROVIDER_ENV_FALLBACK): the vendors the operator's environment has keys for,
    then the offline tier, with a generic agent (the organisation's own spec is in the database)."""
    settings = settings or get_settings()
    chains: dict[str, list[VendorSettings]] = {"stt": [], "llm": [], "tts": []}
    for entry in CATALOG:
        offline = entry.metadata.get("tier") == "always-available"
        secret = None if offline else environment_secret(entry.vendor, settings)
        if not offline and not secret:
            continue
        chains[entry.type].append(
            VendorSettings(
                key=entry.key, type=entry.type, vendor=entry.vendor, name=entry.name, priority=0 if offline else 100,
                config=merge_config(entry.default_config, {}, secret),
                secret_fields=frozenset(secret or {}),
                credential_source="environment" if secret else "none",
            )
        )
    for service in chains:
        chains[service] = order_by_priority(chains[service], enabled=lambda _: True)
    return PipelineConfig(
        organization_id=organization_id, agent_config_id=agent_config_id,
        agent=AgentSpec(prompt=_ENV_PROMPT), source="environment", **chains,
    )


# ---------------------------------------------------------------------------------------------
# The cache
# ---------------------------------------------------------------------------------------------
class PipelineCache:
    """Per-process cache of resolved pipelines (see module doc). `start()` begins listening for
    invalidations; `aclose()` stops. Safe to use without `start()` (the TTL alone then bounds
    staleness)."""

    def __init__(
        self,
        db,  # switchboard.db.Database
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        load_timeout: float = 3.0,
        settings: Settings | None = None,
    ) -> None:
        self._db = db
        self._ttl = ttl_seconds
        self._load_timeout = load_timeout
        self._settings = settings
        self._entries: dict[tuple[UUID, UUID], tuple[float, PipelineConfig]] = {}
        self._listener: asyncio.Task | None = None
        self.listening = asyncio.Event()
        self.invalidations = 0

    async def get(self, organization_id: UUID, agent_config_id: UUID) -> PipelineConfig:
        key = (organization_id, agent_config_id)
        hit = self._entries.get(key)
        if hit and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        try:
            config = await asyncio.wait_for(self._load(organization_id, agent_config_id), self._load_timeout)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            reason = f"{type(exc).__name__}: {exc}".strip(": ")
            if hit:
                log.warning("database unreachable (%s); serving organisation %s's last known pipeline", reason, organization_id)
                return hit[1].model_copy(update={"source": "stale-cache"})
            settings = self._settings or get_settings()
            if not settings.provider_env_fallback:
                raise PipelineUnavailable(
                    f"cannot load organisation {organization_id}'s pipeline: the database is unreachable "
                    f"({reason}) and PROVIDER_ENV_FALLBACK is false"
                ) from None
            log.warning("database unreachable (%s); using the environment fallback pipeline", reason)
            return environment_pipeline(organization_id, agent_config_id, settings=settings)
        self._entries[key] = (time.monotonic(), config)
        return config

    async def _load(self, organization_id: UUID, agent_config_id: UUID) -> PipelineConfig:
        async with self._db.as_service() as conn:
            return await load_pipeline(conn, organization_id, agent_config_id, settings=self._settings)

    def invalidate(self, organization_id: UUID | None = None) -> None:
        """Drop one organisation's entries (None: all)."""
        self.invalidations += 1
        if organization_id is None:
            self._entries.clear()
            return
        for key in [k for k in self._entries if k[0] == organization_id]:
            del self._entries[key]

    def _on_notify(self, payload: str) -> None:
        if payload == "*":
            self.invalidate(None)
            return
        try:
            self.invalidate(UUID(payload))
        except ValueError:
            log.warning("ignoring malformed %s notification %r", NOTIFY_CHANNEL, payload[:80])

    async def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="pipeline-config-listener")

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._db.url, autocommit=True) as conn:
                    await conn.execute(f"listen {NOTIFY_CHANNEL}")
                    # Whatever changed while we were not listening is unknown: start afresh.
                    self.invalidate(None)
                    self.listening.set()
                    backoff = 0.5
                    async for notify in conn.notifies():
                        self._on_notify(notify.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection lost: the TTL bounds staleness meanwhile
                log.warning("pipeline config listener: %s; reconnecting in %.1fs", type(exc).__name__, backoff)
            self.listening.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
            self.listening.clear()
