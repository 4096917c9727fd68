"""The contract between the LiveKit platform adapter and the LiveKit worker: the JSON metadata a
dispatch rule (or an explicit agent dispatch) attaches to the job for agent "switchboard".

The adapter (switchboard/providers/livekit/) writes it with `DispatchMetadata(...).to_json()`;
the worker reads it with `DispatchMetadata.parse(job.metadata)`. Unknown keys are ignored so
either side can add fields before the other knows them. A standing dispatch rule cannot hold
per-call ids: for inbound SIP calls they arrive as the SIP participant's attributes, which the
worker folds in with `with_call_attributes`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

from switchboard.errors import Refused

AGENT_NAME = "switchboard"
log = logging.getLogger(__name__)


class InvalidDispatchMetadata(Refused, ValueError):
    """The job's metadata is missing, not JSON, or lacks a required field; the message says which."""


class DispatchMetadata(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    organization_id: UUID
    agent_config_id: UUID
    # Set when the router created the call record before handing the call over (SIP calls).
    call_record_id: UUID | None = None
    # The carrier's call id (SignalWire call_id / CallSid) when the call came in over SIP.
    telephony_call_id: str | None = None

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)

    @classmethod
    def parse(cls, raw: str | bytes | None) -> "DispatchMetadata":
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else (raw or "")
        if not text.strip():
            raise InvalidDispatchMetadata(
                "the job has no metadata: dispatch agent 'switchboard' with JSON metadata naming "
                "organization_id and agent_config_id"
            )
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidDispatchMetadata(f"the job metadata is not JSON: {exc.msg} at position {exc.pos}") from None
        if not isinstance(data, dict):
            raise InvalidDispatchMetadata("the job metadata must be a JSON object")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'metadata'}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidDispatchMetadata(f"the job metadata is invalid: {problems}") from None

    def with_call_attributes(self, attributes: Mapping[str, str], prefix: str) -> "DispatchMetadata":
        """Fold in the per-call ids a participant carries (`<prefix>call_record_id`,
        `<prefix>telephony_call_id`). The organisation and agent stay the dispatch's own: ids from a
        participant naming another organisation are ignored."""
        claimed = attributes.get(prefix + "organization_id")
        if claimed and claimed != str(self.organization_id):
            log.warning("participant attributes name organisation %s, not the dispatch's; ignored", claimed)
            return self
        update: dict[str, object] = {}
        if not self.call_record_id and (raw := attributes.get(prefix + "call_record_id")):
            try:
                update["call_record_id"] = UUID(raw)
            except ValueError:
                log.warning("participant attribute %scall_record_id is not a UUID; ignored", prefix)
        if not self.telephony_call_id and (raw := attributes.get(prefix + "telephony_call_id")):
            update["telephony_call_id"] = raw
        return self.model_copy(update=update) if update else self
