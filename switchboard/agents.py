"""Agent specs (`agent_configs`) and the platform each runs on: read, edit, and switch the
active platform, fallback order and traffic split. The per-platform deployments
(`provider_configs`) are listed with their sync state, which the sync function owns.

Every function takes a connection opened as the caller (`db.as_user(claims)`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from switchboard.errors import FieldError, InvalidInput, NotFound
from switchboard.etag import check_precondition, make_etag
from switchboard.models import Agent, AgentDetail, AgentUpdate, Page, ProviderConfigState, ProviderSelection
from switchboard import versions
from switchboard.pagination import bad_cursor, decode_cursor, encode_cursor
from switchboard.spec import AGENT_COLUMNS

# The editor's spec is the newest version when it is a draft newer than the live one (saves do not
# touch the live columns; see switchboard.versions), else the live columns themselves.
_AGENT_SQL = """
    select a.*, vp.code as active_provider, lv.number as live_version, dv.number as latest_version,
           case when dv.number > coalesce(lv.number, 0) then dv.spec end as draft_spec
    from public.agent_configs a left join public.voice_ai_providers vp on vp.id = a.active_provider_id
    left join public.agent_versions lv on lv.id = a.live_version_id
    left join lateral (select v.number, v.spec from public.agent_versions v where v.agent_config_id = a.id
                       order by v.number desc limit 1) dv on true
"""


def agent_etag(agent_id: UUID, updated_at: datetime) -> str:
    return make_etag("agent", agent_id, updated_at.isoformat())


def _agent(row: dict[str, Any], cls: type[Agent] = Agent, **extra: Any) -> Agent:
    return cls.model_validate({**row, **(row.get("draft_spec") or {}), "etag": agent_etag(row["id"], row["updated_at"]), **extra})


# --- reads ---------------------------------------------------------------------------------
async def list_agents(conn: AsyncConnection, organization_id: UUID, *, limit: int = 50, cursor: str | None = None) -> Page[Agent]:
    """The organisation's agents, oldest first."""
    where, args = "a.organization_id = %s", [organization_id]
    if cursor:
        created, last_id = decode_cursor(cursor, 2)
        try:
            where += " and (a.created_at, a.id) > (%s::timestamptz, %s::uuid)"
            args += [datetime.fromisoformat(created), UUID(last_id)]
        except (TypeError, ValueError):
            raise bad_cursor() from None
    rows = await (await conn.execute(
        f"{_AGENT_SQL} where {where} order by a.created_at, a.id limit %s", (*args, limit + 1)
    )).fetchall()
    items = [_agent(r) for r in rows[:limit]]
    nxt = encode_cursor(rows[limit - 1]["created_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return Page[Agent](items=items, next_cursor=nxt)


async def _provider_configs(conn: AsyncConnection, agent_id: UUID) -> list[ProviderConfigState]:
    rows = await (await conn.execute(
        """
        select vp.code as provider, pc.agent_id, pc.llm_id, pc.voice_id, pc.is_active, pc.is_default,
               pc.sync_status, pc.sync_error, pc.synced_at, pc.updated_at
        from public.provider_configs pc join public.voice_ai_providers vp on vp.id = pc.provider_id
        where pc.agent_config_id = %s order by pc.is_default desc, vp.code
        """,
        (agent_id,),
    )).fetchall()
    return [ProviderConfigState.model_validate(r) for r in rows]


async def _row(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, *, lock: bool = False) -> dict[str, Any]:
    row = await (await conn.execute(
        f"{_AGENT_SQL} where a.organization_id = %s and a.id = %s" + (" for update of a" if lock else ""),
        (organization_id, agent_id),
    )).fetchone()
    if row is None:
        raise NotFound("agent not found")
    return row


async def get_agent(conn: AsyncConnection, organization_id: UUID, agent_id: UUID) -> AgentDetail:
    row = await _row(conn, organization_id, agent_id)
    return _agent(row, AgentDetail, provider_configs=await _provider_configs(conn, agent_id))


# --- writes ----------------------------------------------------------------------------------
async def _platforms(conn: AsyncConnection) -> dict[str, dict[str, Any]]:
    rows = await (await conn.execute("select id, code, is_active, supports_custom_voices from public.voice_ai_providers")).fetchall()
    return {r["code"]: r for r in rows}


def _custom_voice_error(code: str | None, voice: dict[str, Any], platforms: dict[str, dict[str, Any]], field: str) -> FieldError | None:
    if code and voice.get("custom") and not platforms[code]["supports_custom_voices"]:
        return FieldError(field, f"{code} takes preset voices only; choose a preset voice or a platform that supports custom voices")
    return None


async def update_agent(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, update: AgentUpdate, *,
                       if_match: str | None) -> AgentDetail:
    """Change the fields given; the write must name the version it was based on."""
    full = update.model_dump(mode="json")  # nested specs with their defaults filled in
    changes = {f: full[f] for f in update.model_fields_set}
    nullable = {"begin_message"}
    for field, value in changes.items():
        if value is None and field not in nullable:
            raise InvalidInput(FieldError(field, "may not be null"))
    row = await _row(conn, organization_id, agent_id, lock=True)
    check_precondition(agent_etag(row["id"], row["updated_at"]), exists=True, if_match=if_match, what="the agent")
    if "voice" in changes:
        err = _custom_voice_error(row["active_provider"], changes["voice"], await _platforms(conn), "voice.custom")
        if err:
            raise InvalidInput(err)
    if changes:
        # A save is a new draft version; the live spec changes only when a version is published.
        working = {k: row[k] for k in AGENT_COLUMNS} | (row["draft_spec"] or {})
        await versions.save_draft(conn, organization_id, agent_id, {**working, **changes})
        await conn.execute("update public.agent_configs set version = version + 1 where id = %s", (agent_id,))
    return await get_agent(conn, organization_id, agent_id)


def selection_errors(selection: ProviderSelection, platforms: dict[str, dict[str, Any]]) -> list[FieldError]:
    """Every reason the platform choice cannot be used, each naming its field."""
    errors: list[FieldError] = []
    known = ", ".join(sorted(platforms))

    def check(code: str, field: str) -> None:
        if code not in platforms:
            errors.append(FieldError(field, f"{code!r} is not a platform (known: {known})"))
        elif not platforms[code]["is_active"]:
            errors.append(FieldError(field, f"{code} is not offered by this installation"))

    check(selection.active_provider, "active_provider")
    seen: set[str] = set()
    for i, code in enumerate(selection.fallback_order or []):
        check(code, f"fallback_order[{i}]")
        if code == selection.active_provider:
            errors.append(FieldError(f"fallback_order[{i}]", f"{code} is the active platform; the fallback order lists the others"))
        if code in seen:
            errors.append(FieldError(f"fallback_order[{i}]", f"{code} is listed twice"))
        seen.add(code)
    split = selection.traffic_split or {}
    for code, weight in split.items():
        check(code, f"traffic_split.{code}")
        if not 0 <= weight <= 100:
            errors.append(FieldError(f"traffic_split.{code}", f"weight {weight} is not between 0 and 100"))
    if split and sum(split.values()) != 100:
        errors.append(FieldError("traffic_split", f"weights sum to {sum(split.values())}, not 100 (or send {{}} for no split)"))
    return errors


async def select_provider(conn: AsyncConnection, organization_id: UUID, agent_id: UUID, selection: ProviderSelection, *,
                          if_match: str | None) -> AgentDetail:
    """Switch the agent's active platform (and fallback order / traffic split). Every platform
    named gets a deployment row (pending sync) so the sync function compiles the same spec for
    it; the active one becomes the default."""
    row = await _row(conn, organization_id, agent_id, lock=True)
    check_precondition(agent_etag(row["id"], row["updated_at"]), exists=True, if_match=if_match, what="the agent")
    active = selection.active_provider
    if selection.fallback_order is None:
        selection = selection.model_copy(update={"fallback_order": [c for c in row["fallback_order"] if c != active]})
    if selection.traffic_split is None:
        selection = selection.model_copy(update={"traffic_split": dict(row["traffic_split"] or {})})
    platforms = await _platforms(conn)
    errors = selection_errors(selection, platforms)
    if not errors:
        # The working copy's voice (the draft's, when there is one): publishing checks the version's.
        voice = (row["draft_spec"] or {}).get("voice", row["voice"]) or {}
        err = _custom_voice_error(active, voice, platforms, "active_provider")
        errors += [err] if err else []
    if errors:
        raise InvalidInput(errors)
    await conn.execute(
        "update public.agent_configs set active_provider_id = %s, fallback_order = %s, traffic_split = %s, "
        "version = version + 1 where id = %s",
        (platforms[active]["id"], selection.fallback_order, Jsonb(selection.traffic_split), agent_id),
    )
    used = [active, *selection.fallback_order, *(c for c, w in selection.traffic_split.items() if w > 0)]
    await conn.execute(
        """
        insert into public.provider_configs (organization_id, agent_config_id, provider_id, is_default)
        select %s, %s, vp.id, false from public.voice_ai_providers vp where vp.code = any(%s)
        on conflict (agent_config_id, provider_id) do nothing
        """,
        (organization_id, agent_id, list(dict.fromkeys(used))),
    )
    await conn.execute(
        "update public.provider_configs set is_default = (provider_id = %s) "
        "where agent_config_id = %s and is_default is distinct from (provider_id = %s)",
        (platforms[active]["id"], agent_id, platforms[active]["id"]),
    )
    return await get_agent(conn, organization_id, agent_id)
