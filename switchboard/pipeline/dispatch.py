"""The contract between the LiveKit platform adapter and the LiveKit worker: the JSON metadata a
dispatch rule (or an explicit agent dispatch) attaches to the job for agent "switchboard".

The adapter (switchboard/providers/livekit/) writes it with `DispatchMetadata(...).to_json()`;
the worker reads it with `DispatchMetadata.parse(job.metadata)`. Unknown keys are ignored so
either side can add fields before the other knows them.
"""

from __future__ import annotations

import json
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

AGENT_NAME = "switchboard"


class InvalidDispatchMetadata(ValueError):
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
