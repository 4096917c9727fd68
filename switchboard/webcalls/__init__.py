"""Browser calls to an agent: the credentials one browser needs to call the organisation's agent
on one platform with that platform's own browser SDK (`WebCall`; each platform's `webcall.py`
says how it gets them).

Invariants: the caller reaches only their organisation's agents (the agent is read as the caller,
under RLS); what is returned is short-lived and scoped to the one agent (a per-call token, a room
token for one room, a guest token for the agent's one address) or made for browsers (Vapi's public
key) — never a secret API key; a platform's failure is told in our words (ProviderError.message),
never its body.
"""

from __future__ import annotations

from uuid import UUID

from psycopg import AsyncConnection

from switchboard import agents
from switchboard.errors import FieldError, InvalidInput, PlatformFailed, PlatformNotReady
from switchboard.inbound import ProviderSource
from switchboard.providers import registry
from switchboard.providers.base import AgentRef, NotConfigured, ProviderError, WebCall

__all__ = ["PlatformFailed", "PlatformNotReady", "WebCall", "start_web_call"]

# Platforms whose agent is our own worker: nothing has to be deployed to them for a web call.
OWN_RUNTIME = {"livekit"}


def platform_name(code: str) -> str:
    return registry.provider_class(code).name


async def start_web_call(conn: AsyncConnection, platforms: ProviderSource, organization_id: UUID, agent_id: UUID,
                         platform: str) -> WebCall:
    """Credentials for one browser call to agent `agent_id` on `platform`."""
    if platform not in registry.PROVIDERS:
        raise InvalidInput(FieldError("platform", f"must be one of {', '.join(registry.PROVIDERS)}"))
    agent = await agents.get_agent(conn, organization_id, agent_id)  # NotFound for another organisation's
    name = platform_name(platform)
    config = next((c for c in agent.provider_configs if c.provider == platform), None)
    if platform not in OWN_RUNTIME and not (config and config.agent_id):
        raise PlatformNotReady(f"the agent is not on {name} yet: choose {name} as its platform (or fallback) and save, "
                               f"then wait for the sync")
    ref = AgentRef(agent_id=config.agent_id, llm_id=config.llm_id) if config else AgentRef()
    metadata = {"organization_id": str(organization_id), "agent_config_id": str(agent_id), "source": "web_call"}
    try:
        adapter = await platforms.get(organization_id, platform)
        return await adapter.create_web_call(ref, metadata=metadata)
    except NotConfigured as exc:
        raise PlatformNotReady(f"{name}: {exc.what} is missing — add it in {name}'s settings") from None
    except ProviderError as exc:
        raise PlatformFailed(f"{name}: {exc.message}") from None
