"""Pushing agent specs to the platforms (what the sync-agent function runs on a database
webhook, and what the retry loop runs for configs still due).

One `provider_configs` row per (agent, platform) holds the platform's ids and the sync state.
A sync locks the row (so two webhooks for one change cannot create two platform agents),
compares the hash of what would be pushed with `synced_spec_hash` (equal → no platform call),
then creates or updates the platform's agent and stores its ids — or records the failure with
an exponential back-off in `next_sync_at`. Deleting a config deletes the platform's agent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from psycopg.types.json import Jsonb

from switchboard.db import Database
from switchboard.inbound import ProviderSource
from switchboard.providers.base import ProviderError
from switchboard.providers.resilience import deadline, unreachable
from switchboard.spec import AgentRef, AgentSpec, agent_spec_from_row
from switchboard.errors import Refused

log = logging.getLogger(__name__)

SYNC_TIMEOUT_SECONDS = 20.0
MAX_SYNC_ATTEMPTS = 10
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 3600.0
TABLES = ("agent_configs", "provider_configs")

Action = Literal["created", "updated", "deleted", "unchanged", "skipped", "failed"]


class BadDbWebhook(Refused, ValueError):
    """Not a database-webhook payload this function handles."""


@dataclass
class SyncOutcome:
    provider: str
    action: Action
    provider_config_id: UUID | None = None
    agent_id: str | None = None
    error: str | None = None


def spec_hash(spec: AgentSpec, settings: dict[str, Any], voice_id: str | None) -> str:
    """What would be pushed, hashed: the canonical spec plus the platform config's own fields."""
    doc = {"spec": spec.model_dump(mode="json"), "settings": settings or {}, "voice_id": voice_id}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def tenant_words(code: str, exc: BaseException) -> str:
    """What the tenant reads in sync_error: our words (ProviderError.message is made of them:
    a status and a short reason), never the platform's body nor the transport's error text.
    A timeout of our own deadline reads like any other transport failure."""
    if isinstance(exc, ProviderError):
        return exc.message
    return unreachable(code, "sync")


def backoff_seconds(attempts: int) -> float:
    return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


def validate_payload(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise BadDbWebhook("the body must be a JSON object")
    kind, table = payload.get("type"), payload.get("table")
    if kind not in ("INSERT", "UPDATE", "DELETE"):
        raise BadDbWebhook("type must be INSERT, UPDATE or DELETE")
    if table not in TABLES:
        raise BadDbWebhook(f"table must be one of {', '.join(TABLES)}")
    if payload.get("schema", "public") != "public":
        raise BadDbWebhook("schema must be public")
    record = payload.get("old_record" if kind == "DELETE" else "record")
    if not isinstance(record, dict) or not record.get("id"):
        raise BadDbWebhook(f"{'old_record' if kind == 'DELETE' else 'record'} with an id is required")
    try:
        UUID(str(record["id"]))
    except ValueError:
        raise BadDbWebhook("the record's id is not a UUID") from None
    return payload


async def handle_db_webhook(db: Database, platforms: ProviderSource, payload: Any) -> list[SyncOutcome]:
    """Act on one Supabase database-webhook payload for agent_configs or provider_configs."""
    payload = validate_payload(payload)
    kind, table = payload["type"], payload["table"]
    if table == "agent_configs":
        if kind == "DELETE":
            return []  # its provider_configs go with it (cascade), each a DELETE webhook of its own
        agent_id = UUID(str(payload["record"]["id"]))
        return await sync_agent(db, platforms, agent_id)
    if kind == "DELETE":
        return [await delete_platform_agent(db, platforms, payload["old_record"])]
    return [await sync_provider_config(db, platforms, UUID(str(payload["record"]["id"])))]


async def ensure_provider_configs(db: Database, agent_config_id: UUID) -> None:
    """Every platform the agent may be routed to (active, fallbacks, split arms) gets a config row."""
    async with db.as_service() as conn:
        await conn.execute(
            """
            insert into public.provider_configs (organization_id, agent_config_id, provider_id)
            select ac.organization_id, ac.id, p.id
            from public.agent_configs ac
            join public.voice_ai_providers p
              on p.id = ac.active_provider_id
              or p.code = any (ac.fallback_order)
              or ac.traffic_split ? p.code
            where ac.id = %s
            on conflict (agent_config_id, provider_id) do nothing
            """,
            (agent_config_id,),
        )


async def sync_agent(db: Database, platforms: ProviderSource, agent_config_id: UUID) -> list[SyncOutcome]:
    await ensure_provider_configs(db, agent_config_id)
    async with db.as_service() as conn:
        ids = [r["id"] for r in await (await conn.execute(
            "select id from public.provider_configs where agent_config_id = %s order by created_at", (agent_config_id,)
        )).fetchall()]
    return [await sync_provider_config(db, platforms, pc_id) for pc_id in ids]


async def sync_provider_config(db: Database, platforms: ProviderSource, provider_config_id: UUID, *,
                               force: bool = False) -> SyncOutcome:
    async with db.as_service() as conn:
        row = await (await conn.execute(
            """
            select pc.*, p.code, ac.name, ac.prompt, ac.fallback_order, ac.traffic_split,
                   (ac.active_provider_id = pc.provider_id) as is_active_platform, ac.begin_message, ac.voice, ac.language, ac.tools,
                   ac.analysis, ac.max_duration_seconds, ac.metadata
            from public.provider_configs pc
            join public.voice_ai_providers p on p.id = pc.provider_id
            join public.agent_configs ac on ac.id = pc.agent_config_id and ac.organization_id = pc.organization_id
            where pc.id = %s
            for update of pc
            """,
            (provider_config_id,),
        )).fetchone()
        if row is None:
            return SyncOutcome("unknown", "skipped", provider_config_id, error="no such provider config")
        code = row["code"]
        if not row["is_active"]:
            return SyncOutcome(code, "skipped", provider_config_id, row["agent_id"])
        if not in_use(code, active=code if row["is_active_platform"] else None,
                      fallback_order=list(row["fallback_order"] or []), traffic_split=dict(row["traffic_split"] or {})):
            # The agent cannot send a call there: nothing to push, and nothing failed.
            return SyncOutcome(code, "skipped", provider_config_id, row["agent_id"])
        spec = agent_spec_from_row(row)
        settings = dict(row["settings"] or {})
        digest = spec_hash(spec, settings, row["voice_id"])
        if not force and row["sync_status"] == "synced" and row["synced_spec_hash"] == digest and row["agent_id"]:
            return SyncOutcome(code, "unchanged", provider_config_id, row["agent_id"])
        ref = AgentRef(agent_id=row["agent_id"], llm_id=row["llm_id"], voice_id=row["voice_id"], settings=settings)
        try:
            provider = await platforms.get(row["organization_id"], code)
            with deadline(SYNC_TIMEOUT_SECONDS):
                new_ref = await (provider.update_agent(ref, spec) if ref.agent_id else provider.create_agent(spec))
        except (ProviderError, TimeoutError) as exc:
            message = tenant_words(code, exc)
            attempts = row["sync_attempts"] + 1
            await conn.execute(
                """
                update public.provider_configs set sync_status = 'failed', sync_error = %s, sync_attempts = %s,
                  next_sync_at = case when %s < %s then now() + make_interval(secs => %s) end
                where id = %s
                """,
                (message[:1000], attempts, attempts, MAX_SYNC_ATTEMPTS, backoff_seconds(attempts), provider_config_id),
            )
            log.warning("agent sync failed", extra={"provider": code, "provider_config_id": str(provider_config_id),
                                                    "attempts": attempts, "error": message[:300],
                                                    "detail": (getattr(exc, "detail", None) or "")[:300]})
            return SyncOutcome(code, "failed", provider_config_id, ref.agent_id, message)
        merged = {**settings, **(new_ref.settings or {})}
        await conn.execute(
            """
            update public.provider_configs set agent_id = %s, llm_id = %s, voice_id = coalesce(%s, voice_id),
              settings = %s, sync_status = 'synced', sync_error = null, sync_attempts = 0, synced_at = now(),
              synced_spec_hash = %s, next_sync_at = null
            where id = %s
            """,
            (new_ref.agent_id, new_ref.llm_id, new_ref.voice_id, Jsonb(merged),
             # the hash of what the row now holds, so the update's own webhook finds nothing to do
             spec_hash(spec, merged, new_ref.voice_id or row["voice_id"]), provider_config_id),
        )
    action: Action = "updated" if ref.agent_id else "created"
    log.info("agent synced", extra={"provider": code, "action": action, "agent_id": new_ref.agent_id})
    return SyncOutcome(code, action, provider_config_id, new_ref.agent_id)


async def delete_platform_agent(db: Database, platforms: ProviderSource, old_record: dict[str, Any]) -> SyncOutcome:
    """A provider_configs row was deleted: delete the platform's agent it pointed at."""
    provider_id = old_record.get("provider_id")
    async with db.as_service() as conn:
        row = await (await conn.execute("select code from public.voice_ai_providers where id = %s", (provider_id,))).fetchone()
    code = row["code"] if row else "unknown"
    pc_id = UUID(str(old_record["id"]))
    if row is None or not old_record.get("agent_id"):
        return SyncOutcome(code, "skipped", pc_id)
    try:
        org = UUID(str(old_record["organization_id"]))
    except (KeyError, ValueError):
        return SyncOutcome(code, "skipped", pc_id, error="no organisation in old_record")
    ref = AgentRef(agent_id=old_record["agent_id"], llm_id=old_record.get("llm_id"), settings=old_record.get("settings") or {})
    try:
        provider = await platforms.get(org, code)
        with deadline(SYNC_TIMEOUT_SECONDS):
            await provider.delete_agent(ref)
    except (ProviderError, TimeoutError) as exc:
        message = tenant_words(code, exc)
        log.error("could not delete the platform agent", extra={"provider": code, "agent_id": ref.agent_id, "error": message[:300],
                                                                "detail": (getattr(exc, "detail", None) or "")[:300]})
        return SyncOutcome(code, "failed", pc_id, ref.agent_id, message)
    return SyncOutcome(code, "deleted", pc_id, ref.agent_id)


async def due_provider_configs(db: Database, *, limit: int = 20, pending_grace_seconds: float = 30.0) -> list[UUID]:
    """Configs whose sync should be (re)tried now: failed and due, or pending for longer than
    the webhook should have taken (a NOTIFY lost while the relay was down)."""
    async with db.as_service() as conn:
        rows = await (await conn.execute(
            """
            select id from public.provider_configs
            where is_active and sync_attempts < %s
              and ((sync_status = 'failed' and next_sync_at <= now())
                   or (sync_status = 'pending' and coalesce(next_sync_at, updated_at + make_interval(secs => %s)) <= now()))
            order by coalesce(next_sync_at, updated_at)
            limit %s
            """,
            (MAX_SYNC_ATTEMPTS, pending_grace_seconds, limit),
        )).fetchall()
    return [r["id"] for r in rows]


# --- the sync state a person reads --------------------------------------------------------------
def in_use(code: str, *, active: str | None, fallback_order: list[str], traffic_split: dict[str, Any]) -> bool:
    """Whether the agent can send a call to this platform: active, a fallback, or a split arm."""
    return code == active or code in (fallback_order or []) or bool((traffic_split or {}).get(code))


@dataclass(frozen=True)
class ShownState:
    state: str  # synced | pending | failed | deleted | not in use | needs set-up
    tone: str  # green | amber | red | gray
    reason: str
    action: str = ""  # "settings": the fix is in the platform's settings


def shown_state(code: str, name: str, *, used: bool, status: str, error: str | None,
                key_missing: bool | None) -> ShownState:
    """The truth about one platform deployment in words: a platform the agent does not use is
    "not in use" (never "failed"), a missing key or set-up step says what to add and where, and
    only a real failure of a platform the agent uses is red. `key_missing` is None when unknown
    (the reader may not see the organisation's keys)."""
    error = error or ""
    if status == "deleted":
        return ShownState("deleted", "gray", "")
    if not used:
        return ShownState("not in use", "gray",
                          f"Not synced: this agent does not use {name} (not active, not a fallback, no traffic share).")
    if "SIP trunk" in error:
        return ShownState("needs set-up", "amber",
                          f"Set-up step: {name} needs a phone number routed to it (or SIP credentials) before it can "
                          f"take calls — add them in Settings.", "settings")
    if status == "failed" and "not configured" not in error:  # the platform itself refused: a real failure
        return ShownState("failed", "red", error or f"{name} refused the agent; it is retried automatically.")
    if key_missing:
        return ShownState("needs set-up", "amber", f"needs your {name} API key — add it in Settings", "settings")
    if "not configured" in error:
        if key_missing is False:
            return ShownState("pending", "amber", "Key added: this platform syncs again shortly.")
        return ShownState("needs set-up", "amber", f"needs your {name} API key — add it in Settings", "settings")
    if status == "failed":
        return ShownState("failed", "red", error or f"{name} refused the agent; it is retried automatically.")
    if status == "synced":
        return ShownState("synced", "green", "")
    return ShownState("pending", "amber", "Waiting to sync: this takes a few seconds.")
