"""Checking a conversation against a scenario's checks. Deterministic: the same transcript gives
the same outcomes, with no LLM; a `rubric` is judged only by a `Judge` the caller passes (the
organisation's LLM) and is otherwise "not run" — never counted as passed.

A judge that fails (down, hung, no verdict) leaves the rubric "not judged", in our words.
Each outcome says why it failed in words that name the check and quote the reply."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from switchboard.conversations import Turn
from switchboard.errors import SwitchboardError
from switchboard.scenarios.model import Check, Outcome

# A judge reads the rubric and the transcript and answers (passed, reason).
Judge = Callable[[str, str], Awaitable[tuple[bool, str]]]
QUOTE = 300


class CheckResult(BaseModel):
    check: str  # the check in words
    kind: str
    turn: int | None = None  # 1-based caller turn; None = the whole conversation
    outcome: Outcome
    message: str | None = None  # why it failed (or was not run)


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= QUOTE else text[: QUOTE - 1] + "…")


def _arguments_match(expected: dict[str, Any] | None, actual: dict[str, Any] | None) -> bool:
    if not expected:
        return True
    actual = actual or {}
    return all(str(actual.get(k)).lower() == str(v).lower() if not isinstance(v, (dict, list)) else actual.get(k) == v
               for k, v in expected.items())


def _reply_check(check: Check, turn: Turn, where: str, transfer_tools: set[str]) -> str | None:
    """None when the check holds on this turn, else why not."""
    reply = turn.reply or ""
    kind = check.kind
    if kind == "contains" and check.contains.lower() not in reply.lower():
        return f"{where}: the reply does not contain {check.contains!r}; it was {_quote(reply)}"
    if kind == "not_contains" and check.not_contains.lower() in reply.lower():
        return f"{where}: the reply contains {check.not_contains!r}; it was {_quote(reply)}"
    if kind == "matches" and not re.search(check.matches, reply):
        return f"{where}: the reply does not match /{check.matches}/; it was {_quote(reply)}"
    if kind == "tool":
        calls = [c for c in turn.tool_calls if c.name == check.tool.name]
        if not calls:
            called = ", ".join(c.name for c in turn.tool_calls) or "no tool"
            return f"{where}: {check.tool.name} was not called ({called} was); the reply was {_quote(reply)}"
        if not any(_arguments_match(check.tool.arguments, c.arguments) for c in calls):
            return (f"{where}: {check.tool.name} was called with {calls[0].arguments}, not {check.tool.arguments}; "
                    f"the reply was {_quote(reply)}")
    if kind == "latency_under_ms" and turn.latency_ms >= check.latency_under_ms:
        return f"{where}: the turn took {turn.latency_ms:.0f} ms (bound {check.latency_under_ms:g} ms); the reply was {_quote(reply)}"
    if kind == "transferred":
        done = any(c.name in transfer_tools for c in turn.tool_calls)
        if done != check.transferred:
            return f"{where}: the caller was {'not ' if not done else ''}transferred; the reply was {_quote(reply)}"
    return None


async def evaluate(turns: list[Turn], turn_checks: list[list[Check]], conversation_checks: list[Check], *,
                   ended: bool, transfer_tools: set[str], judge: Judge | None = None) -> list[CheckResult]:
    """`turns`: the caller's turns in order (the greeting excluded); `turn_checks[i]` for turn i."""
    results: list[CheckResult] = []
    for i, (turn, checks) in enumerate(zip(turns, turn_checks, strict=False), start=1):
        for check in checks:
            results.append(await _one(check, [turn], i, ended=ended, transfer_tools=transfer_tools, judge=judge))
    for check in conversation_checks:
        results.append(await _one(check, turns, None, ended=ended, transfer_tools=transfer_tools, judge=judge))
    return results


async def _one(check: Check, turns: list[Turn], number: int | None, *, ended: bool, transfer_tools: set[str],
               judge: Judge | None) -> CheckResult:
    label, kind = check.label(), check.kind

    def result(why: str | None, outcome: Outcome | None = None) -> CheckResult:
        return CheckResult(check=label, kind=kind, turn=number, outcome=outcome or ("failed" if why else "passed"), message=why)

    last = turns[-1].reply if turns else ""
    if kind == "ended":
        return result(None if ended == check.ended else
                      f"{label}: the agent {'ended' if ended else 'did not end'} the conversation; its last reply was {_quote(last)}")
    if kind == "rubric":
        if judge is None:
            return result("not run: the rubric is judged by an LLM, and none is configured for this organisation", "not_run")
        transcript = "\n".join(f"Caller: {t.text}\nAgent: {t.reply}" for t in turns)
        try:
            passed, reason = await judge(check.rubric, transcript)
        except SwitchboardError as exc:  # the judge failed (down, hung, no verdict): said in our words
            return result(f"not judged: {exc}", "not_run")
        return result(None if passed else f"{label}: {reason}")
    if number is not None:
        why = _reply_check(check, turns[0], f"turn {number}, {label}", transfer_tools)
        return result(why)
    # Over the whole conversation: a reply check holds on some turn (not_contains / latency: on every turn).
    every = kind in ("not_contains", "latency_under_ms") or (kind == "transferred" and not check.transferred)
    failures = [_reply_check(check, t, f"turn {i}, {label}", transfer_tools) for i, t in enumerate(turns, start=1)]
    if every:
        why = next((f for f in failures if f), None)
    else:
        why = None if any(f is None for f in failures) else (
            f"{label}: no turn satisfied it; the last reply was {_quote(last)}")
    return result(why)
