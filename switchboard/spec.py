"""The one reader of a stored agent spec: an `agent_configs` row → `AgentSpec` (the domain types
themselves live in `switchboard.providers.base`). The router, the pre-call webhooks, the
platform sync and the LiveKit worker all read specs here, under one rule for invalid parts:

* a part the agent can run without — one tool, the post-call analysis, the metadata — is
  dropped with a logged warning when it is invalid, and the rest of the spec is kept;
* a part that defines the agent — name, prompt, first message, voice, language, maximum
  duration — makes the whole spec invalid: `AgentSpecInvalid`, whose message says which part
  and why (each caller answers it in its own words: an apology and a hang-up, a 4xx, a job that
  is not started), never a 500.

The database can hold what the API would refuse (older rows, hand edits, a seed): this rule is
what makes such a row safe to route.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import TypeAdapter, ValidationError

from switchboard.providers.base import AgentSpec, AnalysisSpec, ToolSpec
from switchboard.errors import Refused

log = logging.getLogger(__name__)

AGENT_COLUMNS = ("name", "prompt", "begin_message", "voice", "language", "tools", "analysis", "max_duration_seconds", "metadata")
_TOOL: TypeAdapter[Any] = TypeAdapter(ToolSpec)


class AgentSpecInvalid(Refused, ValueError):
    """A stored agent spec cannot run: the message names the part and the reason."""

    def __init__(self, agent: object, reason: str):
        super().__init__(f"agent spec invalid: {reason}")
        self.agent = agent
        self.reason = reason


def _short(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())


def agent_spec_from_row(row: dict[str, Any]) -> AgentSpec:
    """The canonical spec from an agent_configs row (extra columns ignored; `id` or
    `agent_config_id` names the agent in warnings). Our ids go into its metadata, so what the
    adapters compile (webhook URLs, the platform agent's metadata) names the organisation whose
    keys sign its events. Raises `AgentSpecInvalid` (see the module's rule)."""
    agent = row.get("agent_config_id") or row.get("id")
    tools = []
    raw_tools = row.get("tools")
    if raw_tools is not None and not isinstance(raw_tools, list):
        log.warning("agent %s: tools ignored, they are not a list", agent)
        raw_tools = []
    for index, raw in enumerate(raw_tools or []):
        try:
            tools.append(_TOOL.validate_python(raw))
        except ValidationError as exc:
            log.warning("agent %s: tool #%d skipped, it is invalid: %s", agent, index, _short(exc))
    analysis = AnalysisSpec()
    if row.get("analysis") is not None:
        try:
            analysis = AnalysisSpec.model_validate(row["analysis"])
        except ValidationError as exc:
            log.warning("agent %s: post-call analysis ignored, it is invalid: %s", agent, _short(exc))
    metadata = row.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        log.warning("agent %s: metadata ignored, it is not an object", agent)
        metadata = None
    essential = {k: row[k] for k in AGENT_COLUMNS
                 if k not in ("tools", "analysis", "metadata") and row.get(k) is not None}
    if isinstance(essential.get("voice"), dict) and not essential["voice"]:
        del essential["voice"]  # the column's default '{}': the default voice
    try:
        spec = AgentSpec.model_validate({**essential, "tools": tools, "analysis": analysis, "metadata": metadata or {}})
    except ValidationError as exc:
        log.warning("agent %s: spec invalid: %s", agent, _short(exc))
        raise AgentSpecInvalid(agent, _short(exc)) from None
    ids = {k: str(row[k]) for k in ("organization_id", "agent_config_id") if row.get(k)}
    return spec.model_copy(update={"metadata": {**spec.metadata, **ids}}) if ids else spec
