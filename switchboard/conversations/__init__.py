"""Conversations with an agent by text, on every platform (issue #14): `start`, `say`, `end`.

    # org: the organisation the caller acts in (None: the token's, or their only one); the core
    # checks membership and scope (write) as the user.
    conversation = await conversations.start(db, claims, org, agent_id, "livekit", platforms)
    turn = await conversations.say(db, claims, org, agent_id, conversation.id, "Are you open on Monday?", platforms)
    await conversations.end(db, claims, org, agent_id, conversation.id, platforms)

Each platform's chat operations are its adapter's (`switchboard.providers.chat.TextChat`)."""

from switchboard.conversations.models import Conversation, ConversationStatus, ToolCall, Turn
from switchboard.conversations.service import PlatformFailed, end, get, say, start

__all__ = ["Conversation", "ConversationStatus", "PlatformFailed", "ToolCall", "Turn", "end", "get", "say", "start"]
