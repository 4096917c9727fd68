"""The agent spec's tools as livekit function tools.

- end_call: livekit's own EndCallTool (the model says goodbye, then the session ends and the room
  is deleted, which hangs up a SIP caller).
- transfer: after the model has told the caller, the SIP participant is transferred (SIP REFER)
  to the number with `transfer_sip_participant`.
- http: calls the organisation's URL with httpx (JSON body for POST, query for GET) within the
  tool's timeout, under the egress policy (switchboard.egress). Every failure — invalid
  arguments, refused URL, unreachable service, HTTP error — is returned to the model as the
  tool's error text, in our words; the call never crashes on a tool.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import jsonschema
from livekit import rtc
from livekit.agents import RunContext, ToolError, function_tool, get_job_context, llm
from livekit.agents.beta.tools import EndCallTool as LiveKitEndCallTool

from switchboard import egress
from switchboard.providers.base import AgentSpec, EndCallTool, HttpTool, TransferTool

log = logging.getLogger(__name__)
MAX_TOOL_OUTPUT = 4000  # characters of a response handed back to the model


class CallOutcome:
    """What the tools decided about how the call ends (for the call record)."""

    def __init__(self) -> None:
        self.disconnection_reason: str | None = None
        self.transferred_to: str | None = None


def end_call_tool(spec: EndCallTool, outcome: CallOutcome) -> LiveKitEndCallTool:
    async def _on_called(_event) -> None:
        outcome.disconnection_reason = outcome.disconnection_reason or "agent_hangup"

    extra = spec.description if spec.description != EndCallTool().description else ""
    return LiveKitEndCallTool(extra_description=extra, delete_room=True, on_tool_called=_on_called)


def _sip_participant(room: rtc.Room) -> rtc.RemoteParticipant | None:
    return next(
        (p for p in room.remote_participants.values() if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP), None
    )


def transfer_tool(spec: TransferTool, outcome: CallOutcome) -> llm.Tool:
    async def transfer(raw_arguments: dict[str, object], context: RunContext) -> str:
        outcome.disconnection_reason = "call_transfer"
        outcome.transferred_to = spec.number

        def _after_speech(_handle) -> None:
            job = get_job_context(required=False)
            participant = _sip_participant(job.room) if job is not None else None
            if participant is None:
                log.warning("transfer to %s requested, but this call has no SIP participant", spec.number)
                return
            job.transfer_sip_participant(participant, f"tel:{spec.number}")

        # Transfer once the model has told the caller (the tool's reply shares this speech handle).
        context.speech_handle.add_done_callback(_after_speech)
        return f"Transferring the caller to {spec.number}. Tell them they are being transferred."

    return function_tool(
        transfer,
        raw_schema={"name": spec.name, "description": spec.description, "parameters": {"type": "object", "properties": {}}},
    )


def _policy(allow_private: bool) -> egress.Policy:
    return dataclasses.replace(egress.policy(), production=not allow_private)


async def call_http_tool(
    client: httpx.AsyncClient, spec: HttpTool, arguments: dict[str, Any], *, allow_private: bool
) -> str:
    """Run one HTTP tool call; returns the response text, raises ToolError with a readable reason.

    The URL passes the egress policy first (and `client` is the policy's, from `tool_client`:
    connections only to checked addresses, no redirects). Failures come back in our words,
    never the service's body nor which transport failure it was (refused and timed out read the
    same: a tenant cannot map ports through its tool's answers)."""
    try:
        jsonschema.validate(arguments, spec.parameters)
    except jsonschema.ValidationError as exc:
        raise ToolError(f"{spec.name}: invalid arguments: {exc.message}") from None
    except jsonschema.SchemaError:
        log.warning("tool %s has an invalid parameters schema; calling it unchecked", spec.name)
    policy = _policy(allow_private)
    try:
        egress.check_url(spec.url, what="the tool's URL", p=policy)
    except egress.EgressRefused as exc:
        raise ToolError(f"{spec.name}: {exc}") from None
    timeout = egress.timeout(spec.timeout_seconds, policy)
    try:
        if spec.method == "GET":
            query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in arguments.items()}
            response = await client.get(spec.url, params=query, timeout=timeout, follow_redirects=False)
        else:
            response = await client.post(spec.url, json=arguments, timeout=timeout, follow_redirects=False)
    except egress.EgressRefused as exc:
        raise ToolError(f"{spec.name}: {exc}") from None
    except httpx.HTTPError as exc:
        log.info("tool %s: %s: %s", spec.name, type(exc).__name__, exc)
        raise ToolError(f"{spec.name}: could not reach the service") from None
    if response.status_code >= 400:
        log.info("tool %s: HTTP %s: %s", spec.name, response.status_code, response.text[:300])
        raise ToolError(f"{spec.name}: the service answered HTTP {response.status_code}")
    if response.is_redirect:
        raise ToolError(f"{spec.name}: the service answered with a redirect (HTTP {response.status_code}), which is not followed")
    return response.text[:MAX_TOOL_OUTPUT] or f"HTTP {response.status_code}"


def tool_client(*, allow_private: bool) -> httpx.AsyncClient:
    """The client HTTP tools are called with: the egress policy's."""
    return egress.client(p=_policy(allow_private), what="the tool's URL", headers={"user-agent": "switchboard-agent/1"})


def http_tool(spec: HttpTool, client: httpx.AsyncClient, *, allow_private: bool) -> llm.Tool:
    async def call(raw_arguments: dict[str, object]) -> str:
        return await call_http_tool(client, spec, dict(raw_arguments), allow_private=allow_private)

    return function_tool(
        call, raw_schema={"name": spec.name, "description": spec.description, "parameters": spec.parameters}
    )


def build_tools(
    spec: AgentSpec, *, client: httpx.AsyncClient, outcome: CallOutcome, allow_private_urls: bool,
    overrides: dict[type, Callable[[Any], llm.Tool | llm.Toolset]] | None = None,
) -> list[llm.Tool | llm.Toolset]:
    """`overrides`: builders for some tool kinds in place of the call's (a text conversation has
    no room to hang up nor a SIP caller to transfer)."""
    builders: dict[type, Callable[[Any], llm.Tool | llm.Toolset]] = {
        EndCallTool: lambda t: end_call_tool(t, outcome),
        TransferTool: lambda t: transfer_tool(t, outcome),
        HttpTool: lambda t: http_tool(t, client, allow_private=allow_private_urls),
        **(overrides or {}),
    }
    tools: list[llm.Tool | llm.Toolset] = []
    names: set[str] = set()
    for tool in spec.tools:
        name = getattr(tool, "name", tool.type)
        if name in names:
            log.warning("agent %r: a second tool named %r skipped", spec.name, name)
            continue
        names.add(name)
        tools.append(builders[type(tool)](tool))
    return tools
