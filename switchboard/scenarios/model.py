"""What a scenario is: the caller's scripted turns (or a simulated caller) and the checks, per
turn or per conversation. The same shape is stored in the database (`scenarios.definition`) and
written to / read from YAML for version control:

    name: Parking
    turns:
      - say: Where can I park?
        expect:
          - contains: parking
          - not_contains: sorry
          - latency_under_ms: 3000
      - say: Can I talk to a person please?
        expect:
          - tool: {name: transfer_to_front_desk}
    checks:
      - transferred: true

A check has exactly one kind. Deterministic kinds never need an LLM; `rubric` (and a simulated
`caller`) run only where the organisation has an LLM configured, and are otherwise reported as
not run, never as passed.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from switchboard.errors import FieldError, InvalidInput, field_message

KINDS = ("contains", "not_contains", "matches", "tool", "ended", "transferred", "latency_under_ms", "rubric")


class ToolExpectation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    arguments: dict[str, Any] | None = Field(None, description="each given argument must equal the call's (others may be there)")


class Check(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contains: str | None = Field(None, min_length=1, max_length=500, description="the reply contains this (any case)")
    not_contains: str | None = Field(None, min_length=1, max_length=500, description="the reply does not contain this (any case)")
    matches: str | None = Field(None, min_length=1, max_length=500, description="a regular expression the reply matches")
    tool: ToolExpectation | None = Field(None, description="the agent called this tool (with these arguments)")
    ended: bool | None = Field(None, description="the agent ended the conversation (or did not, with false)")
    transferred: bool | None = Field(None, description="the agent transferred the caller (or did not, with false)")
    latency_under_ms: float | None = Field(None, gt=0, le=600_000, description="the turn (each turn, per conversation) took less")
    rubric: str | None = Field(None, min_length=1, max_length=2000, description="judged by the organisation's LLM")

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a check has exactly one of {', '.join(KINDS)} (this one has {len(given) or 'none'})")
        return self

    @field_validator("matches")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"is not a regular expression ({exc.msg})") from None
        return value

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    def label(self) -> str:
        """The check in words, as reports name it."""
        value = getattr(self, self.kind)
        if self.kind == "tool":
            args = f" with {value.arguments}" if value.arguments else ""
            return f"tool {value.name} called{args}"
        if self.kind in ("ended", "transferred"):
            return f"{self.kind}" if value else f"not {self.kind}"
        if self.kind == "latency_under_ms":
            return f"latency under {value:g} ms"
        return f"{self.kind.replace('_', ' ')} {value!r}"


class ScriptedTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    say: str = Field(min_length=1, max_length=4000, description="what the caller writes")
    expect: list[Check] = Field([], max_length=50)


class SimulatedCaller(BaseModel):
    model_config = ConfigDict(extra="forbid")
    persona: str = Field(min_length=1, max_length=2000)
    goal: str = Field(min_length=1, max_length=2000)
    max_turns: int = Field(6, ge=1, le=30)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    turns: list[ScriptedTurn] = Field([], max_length=50)
    caller: SimulatedCaller | None = None
    checks: list[Check] = Field([], max_length=50, description="checked over the whole conversation")

    @model_validator(mode="after")
    def _has_a_caller(self) -> Scenario:
        if not self.turns and self.caller is None:
            raise ValueError("a scenario needs scripted turns or a simulated caller")
        return self

    @property
    def needs_llm(self) -> bool:
        return self.caller is not None

    @property
    def has_rubric(self) -> bool:
        return any(c.kind == "rubric" for c in [*self.checks, *(c for t in self.turns for c in t.expect)])


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenarios: list[Scenario] = Field(max_length=500)


def parse_scenario(raw: Any, where: str = "") -> Scenario:
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput([FieldError(where + ".".join(str(p) for p in e["loc"]), field_message(e)) for e in exc.errors()]) from None


def suite_from_yaml(text: str) -> list[Scenario]:
    """A YAML document: a list of scenarios, or `{scenarios: [...]}`; errors name the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise InvalidInput(FieldError("yaml", f"is not valid YAML{where}")) from None
    if isinstance(data, dict) and "scenarios" in data:
        data = data["scenarios"]
    if not isinstance(data, list):
        raise InvalidInput(FieldError("yaml", "must be a list of scenarios (or scenarios: [...])"))
    suite = [parse_scenario(item, f"scenarios[{i}].") for i, item in enumerate(data)]
    names = [s.name for s in suite]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidInput(FieldError("scenarios", f"names must be unique (repeated: {', '.join(dupes)})"))
    return suite


def suite_to_yaml(suite: list[Scenario]) -> str:
    doc = {"scenarios": [s.model_dump(mode="json", exclude_none=True, exclude_defaults=True) for s in suite]}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


Outcome = Literal["passed", "failed", "not_run"]
