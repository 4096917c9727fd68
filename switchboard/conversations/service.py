"""Conversations with an agent by text, on any platform: start → say → end.

Invariants:
- every read and write is the signed-in user's (`db.as_user`): RLS decides; another
  organisation's agent or conversation is "not found";
- no transaction is held while the platform answers: the conversation is read in one short
  transaction, the platform called, and the turn written in another; two messages sent at once
  to one conversation cannot both be turn n (unique (conversation, seq)): the second is a
  conflict, in words;
- one record per conversation (`conversations` + `conversation_turns`) and its entry in the
  calls list, a `call_records` row with direction 'chat' whose transcript follows the turns;
  it has no arm and no usage row, so no dashboard counts it (the migration enforces both);
- a platform that cannot be tried is refused before any request, naming what is missing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from switchboard.conversations.models import Conversation, ToolCall, Turn
from switchboard.db import Database
from switchboard.errors import Conflict, FieldError, InvalidInput, NotFound
from switchboard.inbound import ProviderSource
from switchboard.providers.base import AgentRef, ProviderError, ProviderRejected
from switchboard.providers.chat import ChatContext, ChatReply, ChatSession, TextChat
from switchboard.providers.resilience import platform_name
from switchboard.spec import agent_spec_from_row
from switchboard.tenancy import Claims
from switchboard.versions import version_spec_row

MAX_TEXT = 4000


class PlatformFailed(Conflict):
    """The platform refused or failed the conversation; the message is ours (never its body)."""

    code = "platform_failed"


def _words(code: str, exc: ProviderError) -> str:
    return f"{platform_name(code)}: {exc.message}"


async def _agent_and_platform(conn, organization_id: UUID, agent_id: UUID, platform: str) -> dict[str, Any]:
    row = await (await conn.execute(
        """
        select a.*, a.id as agent_config_id, vp.id as provider_id, vp.code, vp.is_active as offered,
               pc.agent_id as platform_agent_id, pc.llm_id, pc.voice_id as platform_voice_id, pc.settings
        from public.agent_configs a
        left join public.voice_ai_providers vp on vp.code = %s
        left join public.provider_configs pc on pc.agent_config_id = a.id and pc.provider_id = vp.id
        where a.organization_id = %s and a.id = %s
        """,
        (platform, organization_id, agent_id),
    )).fetchone()
    if row is None:
        raise NotFound("agent not found")
    if row["provider_id"] is None:
        raise InvalidInput(FieldError("platform", f"{platform!r} is not a platform (known: livekit, retell, signalwire, vapi)"))
    if not row["offered"]:
        raise InvalidInput(FieldError("platform", f"{platform} is not offered by this installation"))
    return row


def _ref(row: dict[str, Any]) -> AgentRef:
    return AgentRef(agent_id=row["platform_agent_id"], llm_id=row["llm_id"], voice_id=row["platform_voice_id"],
                    settings=dict(row["settings"] or {}))


async def _adapter(platforms: ProviderSource, organization_id: UUID, code: str, ref: AgentRef) -> TextChat:
    try:
        provider = await platforms.get(organization_id, code)
    except ProviderRejected as exc:
        raise InvalidInput(FieldError("platform", _words(code, exc))) from None
    if not isinstance(provider, TextChat):
        raise InvalidInput(FieldError("platform", f"{platform_name(code)} conversations are not available on this server"))
    missing = getattr(provider, "chat_missing", lambda _ref: None)(ref)
    if missing:
        raise InvalidInput(FieldError("platform", missing))
    return provider


async def _platform_call(code: str, call: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await call()
    except ProviderError as exc:
        raise PlatformFailed(_words(code, exc)) from None


def _turn(row: dict[str, Any]) -> Turn:
    latency = float(row["latency_ms"])
    vendor = None if row["vendor_latency_ms"] is None else float(row["vendor_latency_ms"])
    platform = None if row["platform_latency_ms"] is None else float(row["platform_latency_ms"])
    spent = vendor if vendor is not None else platform
    return Turn(
        seq=row["seq"], text=row["user_text"], reply=row["reply_text"],
        tool_calls=[ToolCall.model_validate(c) for c in row["tool_calls"] or []],
        latency_ms=latency, platform_latency_ms=platform, vendor_latency_ms=vendor,
        overhead_ms=None if spent is None else round(max(0.0, latency - spent), 2),
        cost=row["cost_amount"], created_at=row["created_at"],
    )


def _conversation(row: dict[str, Any], turns: list[Turn]) -> Conversation:
    return Conversation(
        id=row["id"], agent_id=row["agent_config_id"], platform=row["code"], status=row["status"],
        platform_conversation_id=row["platform_conversation_id"], call_id=row["call_record_id"],
        started_by=row["started_by"], agent_version_id=row.get("agent_version_id"), started_at=row["started_at"], ended_at=row["ended_at"], cost=row["cost_amount"],
        turns=turns,
    )


_CONVERSATION_SQL = """
    select c.*, vp.code from public.conversations c join public.voice_ai_providers vp on vp.id = c.provider_id
    where c.organization_id = %s and c.agent_config_id = %s and c.id = %s
"""


async def _read(conn, organization_id: UUID, agent_id: UUID, conversation_id: UUID) -> dict[str, Any]:
    row = await (await conn.execute(_CONVERSATION_SQL, (organization_id, agent_id, conversation_id))).fetchone()
    if row is None:
        raise NotFound("conversation not found")
    return row


async def _turns(conn, conversation_id: UUID) -> list[Turn]:
    rows = await (await conn.execute(
        "select * from public.conversation_turns where conversation_id = %s order by seq",
        (conversation_id,),
    )).fetchall()
    return [_turn(r) for r in rows]


def _transcript(turns: list[Turn]) -> tuple[str, list[dict[str, Any]]]:
    lines, entries = [], []
    for t in turns:
        if t.text is not None:
            lines.append(f"User: {t.text}")
            entries.append({"role": "user", "content": t.text})
        if t.reply:
            lines.append(f"Agent: {t.reply}")
            entries.append({"role": "agent", "content": t.reply, "tool_calls": [c.model_dump() for c in t.tool_calls],
                            "latency_ms": t.latency_ms})
    return "\n".join(lines), entries


async def _insert_turn(conn, organization_id: UUID, conversation_id: UUID, seq: int, text: str | None,
                       reply: ChatReply | None, greeting: str | None, latency_ms: float) -> None:
    await conn.execute(
        """
        insert into public.conversation_turns (organization_id, conversation_id, seq, user_text, reply_text, tool_calls,
          latency_ms, platform_latency_ms, vendor_latency_ms, cost_amount)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (organization_id, conversation_id, seq, text, reply.text if reply else (greeting or ""),
         Jsonb([c.model_dump() for c in reply.tool_calls] if reply else []), round(latency_ms, 1),
         reply.platform_latency_ms if reply else None, reply.vendor_latency_ms if reply else None,
         reply.cost if reply else None),
    )


async def get(db: Database, claims: Claims, organization_id: UUID, agent_id: UUID, conversation_id: UUID) -> Conversation:
    async with db.as_user(claims) as conn:
        row = await _read(conn, organization_id, agent_id, conversation_id)
        return _conversation(row, await _turns(conn, conversation_id))


async def start(db: Database, claims: Claims, organization_id: UUID, agent_id: UUID, platform: str,
                platforms: ProviderSource, *, version_id: UUID | None = None) -> Conversation:
    """Open a conversation with the agent on `platform` (its greeting, if it speaks first, is turn 0);
    `version_id`: one of its versions instead of the live one (a test run of a draft)."""
    async with db.as_user(claims) as conn:
        row = await _agent_and_platform(conn, organization_id, agent_id, platform)
        if version_id is not None:
            row = {**row, **await version_spec_row(conn, organization_id, agent_id, version_id), "code": row["code"]}
        conversation_id = (await (await conn.execute("select gen_random_uuid() as id")).fetchone())["id"]
    spec, ref = agent_spec_from_row(row), _ref(row)
    adapter = await _adapter(platforms, organization_id, platform, ref)
    context = ChatContext(organization_id=str(organization_id), agent_config_id=str(agent_id),
                          conversation_id=str(conversation_id), agent_version_id=str(version_id) if version_id else None)
    began = time.perf_counter()
    session: ChatSession = await _platform_call(platform, lambda: adapter.start_chat(ref, spec, context))
    latency = (time.perf_counter() - began) * 1000
    turns = [Turn(seq=0, text=None, reply=session.greeting, latency_ms=round(latency, 1))] if session.greeting else []
    transcript, entries = _transcript(turns)
    async with db.as_user(claims) as conn:
        call = await (await conn.execute(
            """
            insert into public.call_records (organization_id, agent_config_id, provider_id, provider_call_id, direction,
              status, started_at, transcript, transcript_object, metadata, agent_version_id)
            values (%s, %s, %s, %s, 'chat', 'ongoing', now(), %s, %s, %s, %s) returning id
            """,
            (organization_id, agent_id, row["provider_id"], session.platform_conversation_id or f"chat:{conversation_id}",
             transcript or None, Jsonb(entries), Jsonb({"conversation_id": str(conversation_id)}), version_id),
        )).fetchone()
        await conn.execute(
            """
            insert into public.conversations (id, organization_id, agent_config_id, provider_id, call_record_id,
              platform_conversation_id, state, started_by, agent_version_id)
            values (%s, %s, %s, %s, %s, %s, %s, auth.uid(), %s)
            """,
            (conversation_id, organization_id, agent_id, row["provider_id"], call["id"], session.platform_conversation_id,
             Jsonb(session.state), version_id),
        )
        if session.greeting:
            await _insert_turn(conn, organization_id, conversation_id, 0, None, None, session.greeting, latency)
        out = await _read(conn, organization_id, agent_id, conversation_id)
        return _conversation(out, await _turns(conn, conversation_id))


async def say(db: Database, claims: Claims, organization_id: UUID, agent_id: UUID, conversation_id: UUID, text: str,
              platforms: ProviderSource) -> Turn:
    """The caller writes `text`; the agent's reply, with the tools it called and the turn's latency."""
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(FieldError("text", f"must be 1 to {MAX_TEXT} characters"))
    async with db.as_user(claims) as conn:
        conv = await _read(conn, organization_id, agent_id, conversation_id)
        if conv["status"] != "active":
            raise Conflict("this conversation has ended; start a new one")
        row = await _agent_and_platform(conn, organization_id, agent_id, conv["code"])
        seq = (await (await conn.execute(
            "select coalesce(max(seq), 0) + 1 as n from public.conversation_turns where conversation_id = %s",
            (conversation_id,))).fetchone())["n"]
    spec, ref = agent_spec_from_row(row), _ref(row)
    adapter = await _adapter(platforms, organization_id, conv["code"], ref)
    session = ChatSession(platform_conversation_id=conv["platform_conversation_id"], state=dict(conv["state"] or {}))
    began = time.perf_counter()
    reply: ChatReply = await _platform_call(conv["code"], lambda: adapter.chat(ref, spec, session, text))
    latency = (time.perf_counter() - began) * 1000
    try:
        async with db.as_user(claims) as conn:
            await _insert_turn(conn, organization_id, conversation_id, seq, text, reply, None, latency)
            turns = await _turns(conn, conversation_id)
            transcript, entries = _transcript(turns)
            cost = sum((t.cost for t in turns if t.cost is not None), Decimal(0)) if any(t.cost is not None for t in turns) else None
            await conn.execute(
                """
                update public.conversations set state = %s, cost_amount = %s,
                  status = case when %s then 'ended' else status end, ended_at = case when %s then now() else ended_at end
                where id = %s
                """,
                (Jsonb(reply.state if reply.state is not None else session.state), cost, reply.ended, reply.ended, conversation_id),
            )
            await conn.execute(
                """
                update public.call_records set transcript = %s, transcript_object = %s,
                  status = case when %s then 'ended' else status end, ended_at = case when %s then now() else ended_at end
                where id = %s
                """,
                (transcript, Jsonb(entries), reply.ended, reply.ended, conv["call_record_id"]),
            )
    except psycopg.errors.UniqueViolation:
        raise Conflict("another message to this conversation was being answered; send yours again") from None
    return next(t for t in turns if t.seq == seq)


async def end(db: Database, claims: Claims, organization_id: UUID, agent_id: UUID, conversation_id: UUID,
              platforms: ProviderSource) -> Conversation:
    """End the conversation on the platform and in the record (ending an ended one changes nothing)."""
    async with db.as_user(claims) as conn:
        conv = await _read(conn, organization_id, agent_id, conversation_id)
        row = await _agent_and_platform(conn, organization_id, agent_id, conv["code"])
    if conv["status"] == "active":
        ref = _ref(row)
        session = ChatSession(platform_conversation_id=conv["platform_conversation_id"], state=dict(conv["state"] or {}))
        try:
            adapter = await _adapter(platforms, organization_id, conv["code"], ref)
            await adapter.end_chat(ref, session)
        except (ProviderError, InvalidInput):
            pass  # the platform forgets idle chats on its own; the record ends either way
        async with db.as_user(claims) as conn:
            await conn.execute("update public.conversations set status = 'ended', ended_at = now() "
                               "where id = %s and status = 'active'", (conversation_id,))
            await conn.execute("update public.call_records set status = 'ended', ended_at = coalesce(ended_at, now()) "
                               "where id = %s", (conv["call_record_id"],))
    return await get(db, claims, organization_id, agent_id, conversation_id)
