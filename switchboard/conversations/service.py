"""Conversations with an agent by text, on any platform: start → say → end.

Invariants:
- every read and write is the signed-in user's (`db.as_user`, RLS decides), in the organisation
  they act in, with the scope checked (`switchboard.access`) in the same transaction: another
  organisation's agent or conversation is "not found";
- no transaction is held while the platform answers: a turn is one short read (the
  conversation, its agent and platform, the next turn number), the platform's answer, and one
  write statement (the turn, the conversation's state and cost, its calls-list entry); two
  messages sent at once to one conversation cannot both be turn n (unique (conversation,
  seq)): the second is a conflict, in words;
- one record per conversation (`conversations` + `conversation_turns`) and its entry in the
  calls list, a `call_records` row with direction 'chat' whose transcript grows with the turns;
  it has no arm and no usage row, so no dashboard counts it (the migration enforces both);
- a platform that cannot be tried is refused before any request, naming what is missing;
  a platform's failure is told in our words (`ProviderError.message`), never its body.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from switchboard.access import resolve_access
from switchboard.conversations.models import Conversation, ToolCall, Turn
from switchboard.db import Database
from switchboard.errors import Conflict, FieldError, InvalidInput, NotFound, PlatformFailed
from switchboard.inbound import ProviderSource
from switchboard.providers import registry
from switchboard.providers.base import ProviderError, ProviderRejected
from switchboard.spec import AgentRef
from switchboard.providers.chat import ChatContext, ChatReply, ChatSession, TextChat
from switchboard.providers.resilience import platform_name
from switchboard.spec import agent_spec_from_row
from switchboard.tenancy import Claims
from switchboard.versions import version_spec_row

MAX_TEXT = 4000


def _words(code: str, exc: ProviderError) -> str:
    return f"{platform_name(code)}: {exc.message}"


# The agent, the platform and the agent's deployment there, by platform code.
_AGENT_SQL = """
    select a.*, a.id as agent_config_id, vp.id as provider_id, vp.code, vp.is_active as offered,
           pc.agent_id as platform_agent_id, pc.llm_id, pc.voice_id as platform_voice_id, pc.settings
    from public.agent_configs a
    left join public.voice_ai_providers vp on vp.code = %s
    left join public.provider_configs pc on pc.agent_config_id = a.id and pc.provider_id = vp.id
    where a.organization_id = %s and a.id = %s
"""
# A conversation with its agent, platform, deployment and the next turn's number.
_CONVERSATION_SQL = """
    select a.*, a.id as agent_config_id, vp.code, pc.agent_id as platform_agent_id, pc.llm_id,
           pc.voice_id as platform_voice_id, pc.settings,
           c.id as conversation_id, c.status, c.state, c.platform_conversation_id, c.call_record_id,
           case when c.agent_version_id is distinct from a.live_version_id then v.spec end as version_spec,
           (select coalesce(max(t.seq), 0) + 1 from public.conversation_turns t where t.conversation_id = c.id) as next_seq
    from public.conversations c
    join public.agent_configs a on a.id = c.agent_config_id and a.organization_id = c.organization_id
    join public.voice_ai_providers vp on vp.id = c.provider_id
    left join public.provider_configs pc on pc.agent_config_id = a.id and pc.provider_id = c.provider_id
    left join public.agent_versions v on v.id = c.agent_version_id
    where c.organization_id = %s and c.agent_config_id = %s and c.id = %s
"""
_WRITE_TURN_SQL = """
    with turn as (
      insert into public.conversation_turns (organization_id, conversation_id, seq, user_text, reply_text, tool_calls,
        latency_ms, platform_latency_ms, vendor_latency_ms, cost_amount)
      values (%(org)s, %(conversation)s, %(seq)s, %(text)s, %(reply)s, %(tools)s, %(latency)s, %(platform)s, %(vendor)s,
              %(cost)s)
      returning *
    ), conversation as (
      update public.conversations set state = %(state)s,
        cost_amount = case when %(cost)s::numeric is null then cost_amount else coalesce(cost_amount, 0) + %(cost)s::numeric end,
        status = case when %(ended)s then 'ended' else status end,
        ended_at = case when %(ended)s then now() else ended_at end
      where id = %(conversation)s
    ), call as (
      update public.call_records set transcript = concat_ws(E'\\n', nullif(transcript, ''), %(lines)s::text),
        transcript_object = coalesce(transcript_object, '[]'::jsonb) || %(entries)s::jsonb,
        status = case when %(ended)s then 'ended' else status end,
        ended_at = case when %(ended)s then now() else ended_at end
      where id = %(call)s
    )
    select * from turn
"""


async def _act(conn, claims: Claims, organization_id: UUID | None, scope: str) -> UUID:
    access = await resolve_access(conn, claims, organization_id)
    access.require(scope)  # type: ignore[arg-type]
    return access.organization_id


def _check_platform(row: dict[str, Any] | None, platform: str) -> dict[str, Any]:
    if row is None:
        raise NotFound("agent not found")
    if row["provider_id"] is None:
        raise InvalidInput(FieldError("platform", f"{platform!r} is not a platform (known: {', '.join(sorted(registry.codes()))})"))
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
    missing = provider.chat_missing(ref)
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


def _transcript(text: str | None, reply: str, tool_calls: list[dict[str, Any]], latency_ms: float) -> tuple[str, list[dict[str, Any]]]:
    """One turn's lines for the calls-list transcript (as the platforms' call transcripts read)."""
    lines, entries = [], []
    if text is not None:
        lines.append(f"User: {text}")
        entries.append({"role": "user", "content": text})
    if reply or tool_calls:
        lines.append(f"Agent: {reply}")
        entries.append({"role": "agent", "content": reply, "tool_calls": tool_calls, "latency_ms": round(latency_ms, 1)})
    return "\n".join(lines), entries


async def _write_turn(conn, *, org: UUID, conversation: UUID, call: UUID | None, seq: int, text: str | None,
                      reply: ChatReply, latency_ms: float, state: dict[str, Any]) -> Turn:
    tools = [c.model_dump() for c in reply.tool_calls]
    lines, entries = _transcript(text, reply.text, tools, latency_ms)
    row = await (await conn.execute(_WRITE_TURN_SQL, {
        "org": org, "conversation": conversation, "call": call, "seq": seq, "text": text, "reply": reply.text,
        "tools": Jsonb(tools), "latency": round(latency_ms, 1), "platform": reply.platform_latency_ms,
        "vendor": reply.vendor_latency_ms, "cost": reply.cost, "state": Jsonb(state), "ended": reply.ended,
        "lines": lines or None, "entries": Jsonb(entries),
    })).fetchone()
    return _turn(row).model_copy(update={"ended": reply.ended})


async def get(db: Database, claims: Claims, organization_id: UUID | None, agent_id: UUID, conversation_id: UUID) -> Conversation:
    """The conversation with its turns. `organization_id`: the one the caller acts in (None: the
    token's, or their only one)."""
    async with db.as_user(claims) as conn:
        org = await _act(conn, claims, organization_id, "read")
        row = await (await conn.execute(
            """select c.*, vp.code from public.conversations c join public.voice_ai_providers vp on vp.id = c.provider_id
               where c.organization_id = %s and c.agent_config_id = %s and c.id = %s""",
            (org, agent_id, conversation_id))).fetchone()
        if row is None:
            raise NotFound("conversation not found")
        turns = await (await conn.execute(
            "select * from public.conversation_turns where conversation_id = %s order by seq", (conversation_id,))).fetchall()
    return Conversation(
        id=row["id"], agent_id=row["agent_config_id"], platform=row["code"], status=row["status"],
        platform_conversation_id=row["platform_conversation_id"], call_id=row["call_record_id"],
        started_by=row["started_by"], agent_version_id=row["agent_version_id"], started_at=row["started_at"],
        ended_at=row["ended_at"], cost=row["cost_amount"], turns=[_turn(t) for t in turns],
    )


async def start(db: Database, claims: Claims, organization_id: UUID | None, agent_id: UUID, platform: str,
                platforms: ProviderSource, *, version_id: UUID | None = None) -> Conversation:
    """Open a conversation with the agent on `platform` (its greeting, if it speaks first, is turn 0);
    `version_id`: one of its versions instead of the live one (a test run of a draft)."""
    async with db.as_user(claims) as conn:
        org = await _act(conn, claims, organization_id, "write")
        row = _check_platform(await (await conn.execute(_AGENT_SQL, (platform, org, agent_id))).fetchone(), platform)
        if version_id is not None:
            row = {**row, **await version_spec_row(conn, org, agent_id, version_id), "code": row["code"]}
        conversation_id = (await (await conn.execute("select gen_random_uuid() as id")).fetchone())["id"]
    spec, ref = agent_spec_from_row(row), _ref(row)
    adapter = await _adapter(platforms, org, platform, ref)
    context = ChatContext(organization_id=str(org), agent_config_id=str(agent_id), conversation_id=str(conversation_id),
                          agent_version_id=str(version_id) if version_id else None)
    began = time.perf_counter()
    session: ChatSession = await _platform_call(platform, lambda: adapter.start_chat(ref, spec, context))
    latency = (time.perf_counter() - began) * 1000
    async with db.as_user(claims) as conn:
        call = await (await conn.execute(
            """
            insert into public.call_records (organization_id, agent_config_id, provider_id, provider_call_id, direction,
              status, started_at, metadata, agent_version_id)
            values (%s, %s, %s, %s, 'chat', 'ongoing', now(), %s, %s) returning id
            """,
            (org, agent_id, row["provider_id"], session.platform_conversation_id or f"chat:{conversation_id}",
             Jsonb({"conversation_id": str(conversation_id)}), version_id),
        )).fetchone()
        await conn.execute(
            """
            insert into public.conversations (id, organization_id, agent_config_id, provider_id, call_record_id,
              platform_conversation_id, state, started_by, agent_version_id)
            values (%s, %s, %s, %s, %s, %s, %s, auth.uid(), %s)
            """,
            (conversation_id, org, agent_id, row["provider_id"], call["id"], session.platform_conversation_id,
             Jsonb(session.state), version_id),
        )
        if session.greeting:
            await _write_turn(conn, org=org, conversation=conversation_id, call=call["id"], seq=0, text=None,
                              reply=ChatReply(text=session.greeting), latency_ms=latency, state=session.state)
    return await get(db, claims, org, agent_id, conversation_id)


async def say(db: Database, claims: Claims, organization_id: UUID | None, agent_id: UUID, conversation_id: UUID, text: str,
              platforms: ProviderSource) -> Turn:
    """The caller writes `text`; the agent's reply, with the tools it called and the turn's latency."""
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(FieldError("text", f"must be 1 to {MAX_TEXT} characters"))
    async with db.as_user(claims) as conn:
        org = await _act(conn, claims, organization_id, "write")
        row = await (await conn.execute(_CONVERSATION_SQL, (org, agent_id, conversation_id))).fetchone()
    if row is None:
        raise NotFound("conversation not found")
    if row["status"] != "active":
        raise Conflict("this conversation has ended; start a new one")
    # A conversation of another version than the live one (a test run) keeps that version's spec.
    spec, ref, code = agent_spec_from_row({**row, **(row["version_spec"] or {})}), _ref(row), row["code"]
    adapter = await _adapter(platforms, org, code, ref)
    session = ChatSession(platform_conversation_id=row["platform_conversation_id"], state=dict(row["state"] or {}))
    began = time.perf_counter()
    reply: ChatReply = await _platform_call(code, lambda: adapter.chat(ref, spec, session, text))
    latency = (time.perf_counter() - began) * 1000
    try:
        async with db.as_user(claims) as conn:
            return await _write_turn(conn, org=org, conversation=conversation_id, call=row["call_record_id"],
                                     seq=row["next_seq"], text=text, reply=reply, latency_ms=latency,
                                     state=reply.state if reply.state is not None else session.state)
    except psycopg.errors.UniqueViolation:
        raise Conflict("another message to this conversation was being answered; send yours again") from None


async def end(db: Database, claims: Claims, organization_id: UUID | None, agent_id: UUID, conversation_id: UUID,
              platforms: ProviderSource) -> Conversation:
    """End the conversation on the platform and in the record (ending an ended one changes nothing)."""
    async with db.as_user(claims) as conn:
        org = await _act(conn, claims, organization_id, "write")
        row = await (await conn.execute(_CONVERSATION_SQL, (org, agent_id, conversation_id))).fetchone()
    if row is None:
        raise NotFound("conversation not found")
    if row["status"] == "active":
        ref = _ref(row)
        session = ChatSession(platform_conversation_id=row["platform_conversation_id"], state=dict(row["state"] or {}))
        try:
            adapter = await _adapter(platforms, org, row["code"], ref)
            await adapter.end_chat(ref, session)
        except (ProviderError, InvalidInput):
            pass  # the platforms forget idle chats on their own; the record ends either way
        async with db.as_user(claims) as conn:
            await conn.execute("update public.conversations set status = 'ended', ended_at = now() "
                               "where id = %s and status = 'active'", (conversation_id,))
            await conn.execute("update public.call_records set status = 'ended', ended_at = coalesce(ended_at, now()) "
                               "where id = %s", (row["call_record_id"],))
    return await get(db, claims, org, agent_id, conversation_id)
