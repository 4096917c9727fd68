"""What a conversation with an agent is, as the core answers it (the API renders these)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from switchboard.models import PlatformCode

ConversationStatus = Literal["active", "ended", "error"]


class ToolCall(BaseModel):
    name: str
    arguments: dict[str, Any] | None = None
    result: str | None = Field(None, description="what the tool answered (or its error, when is_error)")
    is_error: bool = False


class Turn(BaseModel):
    seq: int = Field(description="0 is the agent's greeting; the caller's messages are 1, 2, …")
    text: str | None = Field(None, description="what the caller wrote (null for the greeting)")
    reply: str
    tool_calls: list[ToolCall] = []
    latency_ms: float = Field(description="the whole turn as our server timed it, the platform's time included")
    platform_latency_ms: float | None = Field(None, description="the turn's time as the platform reported it, if it did")
    vendor_latency_ms: float | None = Field(None, description="of which in the model and tools, where the platform says")
    overhead_ms: float | None = Field(None, description="our own time: latency_ms less the vendors' (or the platform's) time, when reported")
    cost: Decimal | None = Field(None, description="USD the platform reported for the turn; null = not reported (unpriced)")
    ended: bool = Field(False, description="the agent ended the conversation with this reply (in the answer to the message)")
    created_at: datetime | None = None


class Conversation(BaseModel):
    id: UUID
    agent_id: UUID
    platform: PlatformCode
    status: ConversationStatus
    platform_conversation_id: str | None = None
    call_id: UUID | None = Field(None, description="the conversation's entry in the calls list (direction chat)")
    started_by: UUID | None = None
    agent_version_id: UUID | None = Field(None, description="the agent version that served it")
    started_at: datetime
    ended_at: datetime | None = None
    cost: Decimal | None = Field(None, description="USD the platform reported; null = not reported (unpriced)")
    turns: list[Turn] = []
