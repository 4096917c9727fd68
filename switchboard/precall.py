"""Pre-call webhooks: a platform asks, before it answers a call on a number it hosts, which
agent to run (Retell's `call_inbound`, Vapi's `assistant-request`: each platform folder's
`precall` module parses its request and compiles its answer). The answer is the number's agent
compiled from the canonical spec by the platform's own compile functions, with our ids attached as the
call's metadata so its later webhooks find their organisation.

What cannot be answered is raised, for the handler to answer in words: `PrecallMalformed` (not a
pre-call request: 400), `AgentSpecInvalid` (the number's stored spec cannot run) and
`ProviderRejected` (the platform's compiler refuses the agent, e.g. a voice Retell does not
have) — both 422.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from switchboard.errors import text_problem
from switchboard.inbound import NumberRoute
from switchboard.providers import registry
from switchboard.spec import AgentSpecInvalid
from switchboard.errors import Refused

MAX_FIELD_CHARS = 256


class PrecallMalformed(Refused, ValueError):
    """Not a pre-call request we understand (the reason says why)."""


@dataclass(frozen=True)
class PrecallRequest:
    provider: str  # a platform with a `precall` module
    from_number: str | None
    to_number: str
    provider_call_id: str | None = None  # Vapi gives the call's id; Retell has none yet


def checked_field(name: str, value: object, *, required: bool = False) -> str | None:
    """A number or id of the request: a string of sane length without control characters."""
    if value is None and not required:
        return None
    if required and (not isinstance(value, str) or not value):
        raise PrecallMalformed(f"{name} is required")
    problem = text_problem(name, value, MAX_FIELD_CHARS)
    if problem:
        raise PrecallMalformed(problem)
    return value


def parse_precall(provider: str, body: bytes) -> PrecallRequest:
    """The request, parsed by the platform's folder (its `precall` module)."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise PrecallMalformed("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise PrecallMalformed("the body must be a JSON object")
    return _module(provider).parse(payload)


def _module(provider: str) -> Any:
    try:
        return registry.role_module(provider, "precall")
    except registry.UnknownProvider:
        raise PrecallMalformed(f"{provider} sends no pre-call webhook") from None


def call_metadata(number: NumberRoute) -> dict[str, str]:
    """Our ids, attached to the call so its later webhooks find their organisation."""
    return {"organization_id": str(number.organization_id), "agent_config_id": str(number.agent_config_id)}


def answer_precall(req: PrecallRequest, number: NumberRoute | None, *, webhook_url: str | None = None) -> tuple[int, dict[str, Any]]:
    """(status, JSON answer) for the platform. Raises AgentSpecInvalid or ProviderRejected (see
    the module) when the number's agent cannot be given to it."""
    if number is not None and number.spec is None:
        raise AgentSpecInvalid(number.agent_config_id, (number.spec_error or "").removeprefix("agent spec invalid: "))
    return _module(req.provider).answer(number, webhook_url)
