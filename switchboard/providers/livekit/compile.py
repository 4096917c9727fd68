"""AgentSpec → LiveKit: our own worker (agent name "switchboard") runs the agent, so what LiveKit
holds is routing — an inbound SIP trunk for our numbers that maps our SIP headers to participant
attributes, and a dispatch rule that puts each call in its own room and dispatches the worker
with metadata naming the organisation and the agent config (the worker loads the spec itself).

Per-call ids cannot live in a standing dispatch rule: for an inbound call they ride as SIP
headers (X-Switchboard-*) into the SIP participant's attributes (`switchboard.<field>`); for an
outbound call they are in the explicit dispatch's metadata. Either way the worker sees the same
`DispatchMetadata` (switchboard.providers.livekit.dispatch): organization_id, agent_config_id,
call_record_id, telephony_call_id.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from livekit.protocol.agent_dispatch import CreateAgentDispatchRequest, RoomAgentDispatch
from livekit.protocol.room import RoomConfiguration
from livekit.protocol.sip import (
    CreateSIPDispatchRuleRequest,
    CreateSIPInboundTrunkRequest,
    CreateSIPParticipantRequest,
    SIPDispatchRule,
    SIPDispatchRuleIndividual,
    SIPDispatchRuleInfo,
    SIPInboundTrunkInfo,
)

from switchboard.providers.base import ProviderRejected
from switchboard.providers.common import CALL_METADATA_KEYS, SIP_HEADERS
from switchboard.providers.livekit.dispatch import AGENT_NAME, DispatchMetadata
from switchboard.spec import AgentSpec

ROOM_PREFIX = "call-"
ATTRIBUTE_PREFIX = "switchboard."
HEADERS_TO_ATTRIBUTES = {SIP_HEADERS[k]: ATTRIBUTE_PREFIX + k for k in CALL_METADATA_KEYS}


def dispatch_metadata(
    *, organization_id: str, agent_config_id: str, call_record_id: str | None = None, telephony_call_id: str | None = None
) -> str:
    """The dispatch metadata JSON the worker parses (`switchboard.providers.livekit.dispatch.DispatchMetadata`)."""
    return DispatchMetadata(
        organization_id=organization_id, agent_config_id=agent_config_id,
        call_record_id=call_record_id or None, telephony_call_id=telephony_call_id or None,
    ).to_json()


def agent_ids(spec: AgentSpec) -> tuple[str, str]:
    org, agent = spec.metadata.get("organization_id"), spec.metadata.get("agent_config_id")
    if not org or not agent:
        raise ProviderRejected("livekit", "the spec's metadata must name organization_id and agent_config_id (the worker loads the agent by them)")
    return str(org), str(agent)


def inbound_trunk(spec: AgentSpec, *, numbers: list[str], auth_username: str | None, auth_password: str | None,
                  allowed_addresses: list[str]) -> CreateSIPInboundTrunkRequest:
    if not (numbers or (auth_username and auth_password) or allowed_addresses):
        raise ProviderRejected("livekit", "an inbound SIP trunk needs numbers, SIP credentials or allowed addresses")
    org, agent = agent_ids(spec)
    return CreateSIPInboundTrunkRequest(trunk=SIPInboundTrunkInfo(
        name=f"switchboard {spec.name}"[:100],
        metadata=json.dumps({"organization_id": org, "agent_config_id": agent}),
        numbers=numbers,
        allowed_addresses=allowed_addresses,
        auth_username=auth_username or "",
        auth_password=auth_password or "",
        headers_to_attributes=HEADERS_TO_ATTRIBUTES,
        max_call_duration=_duration(spec.max_duration_seconds),
    ))


def dispatch_rule_info(spec: AgentSpec, *, trunk_id: str) -> SIPDispatchRuleInfo:
    org, agent = agent_ids(spec)
    return SIPDispatchRuleInfo(
        name=f"switchboard {spec.name}"[:100],
        rule=SIPDispatchRule(dispatch_rule_individual=SIPDispatchRuleIndividual(room_prefix=ROOM_PREFIX)),
        trunk_ids=[trunk_id],
        metadata=json.dumps({"organization_id": org, "agent_config_id": agent}),
        room_config=RoomConfiguration(agents=[RoomAgentDispatch(
            agent_name=AGENT_NAME, metadata=dispatch_metadata(organization_id=org, agent_config_id=agent),
        )]),
    )


def dispatch_rule(spec: AgentSpec, *, trunk_id: str) -> CreateSIPDispatchRuleRequest:
    info = dispatch_rule_info(spec, trunk_id=trunk_id)
    return CreateSIPDispatchRuleRequest(dispatch_rule=info)


def outbound_dispatch(room: str, metadata: dict[str, Any]) -> CreateAgentDispatchRequest:
    return CreateAgentDispatchRequest(
        agent_name=AGENT_NAME,
        room=room,
        metadata=dispatch_metadata(
            organization_id=metadata["organization_id"], agent_config_id=metadata["agent_config_id"],
            call_record_id=metadata.get("call_record_id"), telephony_call_id=metadata.get("telephony_call_id"),
        ),
    )


def outbound_participant(room: str, *, trunk_id: str, from_number: str, to_number: str, metadata: dict[str, Any],
                         max_duration_seconds: int) -> CreateSIPParticipantRequest:
    return CreateSIPParticipantRequest(
        sip_trunk_id=trunk_id,
        sip_call_to=to_number,
        sip_number=from_number,
        room_name=room,
        participant_identity=f"sip_{to_number}",
        participant_name=to_number,
        participant_attributes={ATTRIBUTE_PREFIX + k: str(v) for k, v in metadata.items() if k in CALL_METADATA_KEYS and v},
        max_call_duration=_duration(max_duration_seconds),
    )


def sip_host(url: str | None, configured: str | None) -> str | None:
    """The project's SIP host: as configured, or LiveKit Cloud's ("wss://<project>.livekit.cloud"
    → "<project>.sip.livekit.cloud")."""
    if configured:
        return configured
    host = urlsplit(url or "").hostname or ""
    if host.endswith(".livekit.cloud"):
        return host[: -len(".livekit.cloud")] + ".sip.livekit.cloud"
    return None


def _duration(seconds: int):
    from google.protobuf.duration_pb2 import Duration

    return Duration(seconds=int(seconds))
