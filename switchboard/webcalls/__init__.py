"""Browser calls to an agent: the credentials one browser needs to call the organisation's agent
on one platform with that platform's own browser SDK (`WebCall`; each platform's `webcall.py`
says how it gets them).

Invariants: the caller reaches only their organisation's agents (read as the caller, under RLS:
another organisation's agent is "not found"); no transaction is held while the platform answers;
what is returned is short-lived and scoped to the one agent (a per-call token, a room token for
one room, a guest token for the agent's one address) or made for browsers (Vapi's public key) —
never a secret API key; a platform's failure is told in our words (ProviderError.message), never
its body.
"""

from __future__ import annotations

from uuid import UUID

from switchboard import agents
from switchboard.access import resolve_access
from switchboard.db import Database
from switchboard.errors import FieldError, InvalidInput, PlatformFailed, PlatformNotReady
from switchboard.inbound import ProviderSource
from switchboard.providers import registry
from switchboard.providers.base import NotConfigured, ProviderError
from switchboard.spec import WebCall
from switchboard.spec import AgentRef
from switchboard.providers.resilience import platform_name
from switchboard.tenancy import Claims

__all__ = ["WebCall", "start_web_call"]

# Platforms whose agent is our own worker: nothing has to be deployed to them for a web call.
OWN_RUNTIME = {d.code for d in registry.with_role("worker")}


async def start_web_call(db: Database, claims: Claims, organization_id: UUID | None, agent_id: UUID, platform: str,
                         platforms: ProviderSource) -> WebCall:
    """Credentials for one browser call to agent `agent_id` on `platform`. `organization_id`: the
    one the caller acts in (None: the token's, or their only one)."""
    if platform not in registry.PLATFORMS:
        raise InvalidInput(FieldError("platform", f"must be one of {', '.join(registry.PLATFORMS)}"))
    async with db.as_user(claims) as conn:
        access = await resolve_access(conn, claims, organization_id)
        access.require("write")  # a call costs the organisation money
        org = access.organization_id
        agent = await agents.get_agent(conn, org, agent_id)
    name = platform_name(platform)
    config = next((c for c in agent.provider_configs if c.provider == platform), None)
    if platform not in OWN_RUNTIME and not (config and config.agent_id):
        raise PlatformNotReady(f"the agent is not on {name} yet: choose {name} as its platform (or fallback) and save, "
                               f"then wait for the sync")
    ref = AgentRef(agent_id=config.agent_id, llm_id=config.llm_id) if config else AgentRef()
    metadata = {"organization_id": str(org), "agent_config_id": str(agent_id), "source": "web_call"}
    try:
        adapter = await platforms.get(org, platform)
        return await adapter.create_web_call(ref, metadata=metadata)
    except NotConfigured as exc:
        raise PlatformNotReady(f"{name}: {exc.what} is missing — add it in {name}'s settings") from None
    except ProviderError as exc:
        raise PlatformFailed(f"{name}: {exc.message}") from None
