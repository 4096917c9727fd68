"""The platform adapter for an organisation: its own keys (organization_secrets, vendor = the
platform code), else the server's defaults from the settings — built once and reused while the
organisation's secret is unchanged.

The cache key includes the secret's `updated_at`, read from the database (at most once a second
per organisation and platform), so a rotated key is used by every process within a second. The
same read says whether the organisation exists at all (`lookup`): the webhook inbox refuses an
unknown one without another query, and a negative answer is cached as briefly as a positive one.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING
from uuid import UUID

from switchboard.cache import TTLCache
from switchboard.db import Database
from switchboard.providers import registry
from switchboard.providers.base import ProviderCredentials, ProviderRejected, VoiceAIProvider
from switchboard.settings import Settings

if TYPE_CHECKING:
    from switchboard.billing import PriceBook

log = logging.getLogger(__name__)


class PlatformSource:
    def __init__(self, db: Database, settings: Settings, *, prices: PriceBook | None = None,
                 max_cached: int = 2048, version_ttl: float = 1.0):
        self.db = db
        self.settings = settings
        self.prices = prices
        self.max_cached = max_cached
        self._cache: OrderedDict[tuple, VoiceAIProvider] = OrderedDict()
        self._versions: TTLCache[tuple, tuple[bool, str | None]] = TTLCache(version_ttl)

    async def secret_version(self, organization_id: UUID | None, code: str) -> str | None:
        """The secret's updated_at (None: the organisation has none), read at most once a
        second per (organisation, platform): a rotated key is used everywhere within a second."""
        return (await self.lookup(organization_id, code))[1]

    async def lookup(self, organization_id: UUID | None, code: str) -> tuple[bool, str | None]:
        """(whether the organisation exists, its secret's version for `code`), from one cached
        read. No organisation: (True, None) — the server's defaults."""
        if organization_id is None:
            return True, None
        return await self._versions.get((organization_id, code), lambda: self._read_version(organization_id, code))

    async def _read_version(self, organization_id: UUID, code: str) -> tuple[bool, str | None]:
        async with self.db.as_service() as conn:
            row = await (await conn.execute(
                """select exists (select 1 from public.organizations where id = %(org)s) as known,
                          (select updated_at from public.organization_secrets
                           where organization_id = %(org)s and vendor = %(code)s) as updated_at""",
                {"org": organization_id, "code": code},
            )).fetchone()
        return row["known"], None if row["updated_at"] is None else str(row["updated_at"])

    async def get(self, organization_id: UUID | None, code: str, secrets_version: str | None = None,
                  *, known_version: bool = False) -> VoiceAIProvider:
        """The adapter for `code` with the organisation's keys. `secrets_version` is the secret's
        updated_at when the caller already read it (the router's lookup does); otherwise it is read."""
        if code not in registry.PLATFORMS:
            raise ProviderRejected(code, "not a voice-AI platform")
        if secrets_version is None and not known_version:
            secrets_version = await self.secret_version(organization_id, code)
        key = (organization_id, code, secrets_version)
        provider = self._cache.get(key)
        if provider is not None:
            self._cache.move_to_end(key)
            return provider
        values = await self._secret_values(organization_id, code) if secrets_version else None
        provider = self._build(code, values)
        self._cache[key] = provider
        while len(self._cache) > self.max_cached:
            _, old = self._cache.popitem(last=False)
            await old.aclose()
        return provider

    async def _secret_values(self, organization_id: UUID | None, code: str) -> dict[str, str] | None:
        if organization_id is None:
            return None
        from switchboard.secrets import SecretError, get_secret

        try:
            async with self.db.as_service() as conn:
                return await get_secret(conn, organization_id, code)
        except SecretError as exc:
            # A secret that does not decrypt (a retired key, a damaged row) is no key at all: the
            # organisation's calls go on with the server's defaults (or are refused in words),
            # and the operator is told. Never a 500, never the ciphertext.
            log.error("organisation %s: its %s secret cannot be read (%s); using the server's default keys",
                      organization_id, code, type(exc).__name__)
            return None

    def _build(self, code: str, values: dict[str, str] | None) -> VoiceAIProvider:
        # Fields the organisation did not set come from the settings defaults (the registry's rule).
        try:
            return registry.get_provider(code, ProviderCredentials(values=values or {}), prices=self.prices)
        except registry.UnknownProvider:
            raise ProviderRejected(code, "this server has no adapter for the platform") from None

    async def aclose(self) -> None:
        for provider in self._cache.values():
            await provider.aclose()
        self._cache.clear()
