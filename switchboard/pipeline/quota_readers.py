"""Remaining quota where a vendor publishes it, read with the organisation's own key:

- ElevenLabs `GET /v1/user/subscription` (`xi-api-key`): `character_limit - character_count`
  characters, resetting at `next_character_count_reset_unix`.
- Deepgram `GET /v1/projects` then `GET /v1/projects/{project_id}/balances`
  (`Authorization: Token …`): the project's balances in USD (prepaid credit, no reset).

Read through the egress policy (a tenant may set the vendor's base URL); a failure is a
`ProviderError` in our words, never the vendor's body. `store` keeps the last reading in
`vendor_quotas` (service role), which the health page shows; an exhausted reading with a reset
is what the worker holds the vendor out until (agent_worker.quota_watch)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
from pydantic import BaseModel

from switchboard import egress
from switchboard.providers.base import ProviderError, ProviderRejected, ProviderTimeout, ProviderUnavailable

ELEVENLABS_URL = "https://api.elevenlabs.io"
DEEPGRAM_URL = "https://api.deepgram.com"
READ_TIMEOUT_SECONDS = 5.0


class RemainingQuota(BaseModel):
    vendor: str
    remaining: Decimal
    limit: Decimal | None = None
    unit: str  # characters | usd
    resets_at: datetime | None = None

    @property
    def exhausted(self) -> bool:
        return self.remaining <= 0


async def _get(client: httpx.AsyncClient, vendor: str, url: str, headers: dict[str, str]) -> Any:
    try:
        response = await client.get(url, headers=headers)
    except httpx.TimeoutException:
        raise ProviderTimeout(vendor, "no answer about the remaining quota in time") from None
    except httpx.HTTPError as exc:
        refused = egress.refusal_in(exc)
        raise ProviderUnavailable(vendor, refused.rule if refused else "could not reach the vendor") from None
    if response.status_code in (401, 403):
        raise ProviderRejected(vendor, f"refused the key ({response.status_code}) when asked for the remaining quota",
                               status_code=response.status_code)
    if response.status_code >= 400:
        error = ProviderUnavailable(vendor, f"could not tell the remaining quota ({response.status_code})",
                                    status_code=response.status_code)
        error.detail = response.text[:500]
        raise error
    try:
        return response.json()
    except ValueError:
        raise ProviderUnavailable(vendor, "answered the quota question with something that is not JSON") from None


async def read_elevenlabs(client: httpx.AsyncClient, config: dict[str, Any]) -> RemainingQuota:
    base = (config.get("base_url") or ELEVENLABS_URL).rstrip("/")
    body = await _get(client, "elevenlabs", f"{base}/v1/user/subscription", {"xi-api-key": str(config["api_key"])})
    try:
        used, limit = Decimal(body["character_count"]), Decimal(body["character_limit"])
        reset = body.get("next_character_count_reset_unix")
    except (KeyError, TypeError, ArithmeticError):
        raise ProviderUnavailable("elevenlabs", "answered without its character counts") from None
    return RemainingQuota(vendor="elevenlabs", remaining=limit - used, limit=limit, unit="characters",
                          resets_at=datetime.fromtimestamp(int(reset), UTC) if reset else None)


async def read_deepgram(client: httpx.AsyncClient, config: dict[str, Any]) -> RemainingQuota:
    base = (config.get("base_url") or DEEPGRAM_URL).rstrip("/")
    headers = {"Authorization": f"Token {config['api_key']}"}
    project = config.get("project_id")
    if not project:
        projects = (await _get(client, "deepgram", f"{base}/v1/projects", headers)).get("projects") or []
        if not projects:
            raise ProviderRejected("deepgram", "the key belongs to no project")
        project = projects[0]["project_id"]
    body = await _get(client, "deepgram", f"{base}/v1/projects/{project}/balances", headers)
    try:
        amounts = [Decimal(str(b["amount"])) for b in body.get("balances") or [] if str(b.get("units", "usd")).lower() == "usd"]
    except (KeyError, TypeError, ArithmeticError):
        raise ProviderUnavailable("deepgram", "answered without its balances") from None
    return RemainingQuota(vendor="deepgram", remaining=sum(amounts, Decimal(0)), unit="usd")


READERS: dict[str, Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[RemainingQuota]]] = {
    "elevenlabs": read_elevenlabs,
    "deepgram": read_deepgram,
}


async def read_remaining(vendor: str, config: dict[str, Any], *, client: httpx.AsyncClient | None = None) -> RemainingQuota | None:
    """The vendor's remaining quota on this key (None: the vendor publishes none, or no key)."""
    reader = READERS.get(vendor)
    if reader is None or not config.get("api_key"):
        return None
    if config.get("base_url"):
        try:
            egress.check_url(str(config["base_url"]), what="base_url")
        except egress.EgressRefused as exc:
            raise ProviderRejected(vendor, str(exc)) from None
    own = client is None
    client = client or egress.client(timeout_seconds=READ_TIMEOUT_SECONDS, what="base_url")
    try:
        return await reader(client, config)
    finally:
        if own:
            await client.aclose()


async def store(conn, organization_id: UUID, quota: RemainingQuota) -> None:
    """Keep the last reading (service-role connection)."""
    await conn.execute(
        """insert into public.vendor_quotas (organization_id, vendor, remaining, quota_limit, unit, resets_at, checked_at)
           values (%s, %s, %s, %s, %s, %s, now())
           on conflict (organization_id, vendor) do update set remaining = excluded.remaining,
             quota_limit = excluded.quota_limit, unit = excluded.unit, resets_at = excluded.resets_at,
             checked_at = excluded.checked_at""",
        (organization_id, quota.vendor, quota.remaining, quota.limit, quota.unit, quota.resets_at),
    )


__all__ = ["READERS", "RemainingQuota", "ProviderError", "read_remaining", "store"]
