"""The agent spec's tools as livekit function tools.

- end_call: livekit's own EndCallTool (the model says goodbye, then the session ends and the room
  is deleted, which hangs up a SIP caller).
- transfer: after the model has told the caller, the SIP participant is transferred (SIP REFER)
  to the number with `transfer_sip_participant`.
- http: calls the organisation's URL with httpx (JSON body for POST, query for GET) within the
  tool's timeout. Every failure — invalid arguments, timeout, connection error, HTTP error — is
  returned to the model as the tool's error text; the call never crashes on a tool.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
from livekit import rtc
from livekit.agents import RunContext, ToolError, function_tool, get_job_context, llm
from livekit.agents.beta.tools import EndCallTool as LiveKitEndCallTool

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


def _private_address(host: str) -> bool:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return False  # httpx reports the lookup failure itself
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return True
    return False


async def call_http_tool(
    client: httpx.AsyncClient, spec: HttpTool, arguments: dict[str, Any], *, allow_private: bool
) -> str:
    """Run one HTTP tool call; returns the response text, raises ToolError with a readable reason."""
    try:
        jsonschema.validate(arguments, spec.parameters)
    except jsonschema.ValidationError as exc:
        raise ToolError(f"{spec.name}: invalid arguments: {exc.message}") from None
    except jsonschema.SchemaError:
        log.warning("tool %s has an invalid parameters schema; calling it unchecked", spec.name)
    parts = urlsplit(spec.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToolError(f"{spec.name}: the tool's URL is not an http(s) URL")
    if not allow_private and await asyncio.to_thread(_private_address, parts.hostname):
        raise ToolError(f"{spec.name}: the tool's URL points to a private network address, which is not allowed")
    try:
        if spec.method == "GET":
            query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in arguments.items()}
            response = await client.get(spec.url, params=query, timeout=spec.timeout_seconds)
        else:
            response = await client.post(spec.url, json=arguments, timeout=spec.timeout_seconds)
    except httpx.TimeoutException:
        raise ToolError(f"{spec.name}: the service did not answer within {spec.timeout_seconds:g} seconds") from None
    except httpx.HTTPError as exc:
        raise ToolError(f"{spec.name}: the service could not be reached ({type(exc).__name__})") from None
    body = response.text[:MAX_TOOL_OUTPUT]
    if response.status_code >= 400:
        raise ToolError(f"{spec.name}: the service answered HTTP {response.status_code}: {body[:300]}")
    return body or f"HTTP {response.status_code}"


def http_tool(spec: HttpTool, client: httpx.AsyncClient, *, allow_private: bool) -> llm.Tool:
    async def call(raw_arguments: dict[str, object]) -> str:
        return await call_http_tool(client, spec, dict(raw_arguments), allow_private=allow_private)

    return function_tool(
        call, raw_schema={"name": spec.name, "description": spec.description, "parameters": spec.parameters}
    )


def build_tools(
    spec: AgentSpec, *, client: httpx.AsyncClient, outcome: CallOutcome, allow_private_urls: bool
) -> list[llm.Tool | llm.Toolset]:
    builders: dict[type, Callable[[Any], llm.Tool | llm.Toolset]] = {
        EndCallTool: lambda t: end_call_tool(t, outcome),
        TransferTool: lambda t: transfer_tool(t, outcome),
        HttpTool: lambda t: http_tool(t, client, allow_private=allow_private_urls),
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
