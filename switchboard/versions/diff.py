"""A readable diff between two versions' specs: one `Change` per field that differs, with the
prompt (long text) compared line by line as a unified diff, and lists/objects by their items."""

from __future__ import annotations

import difflib
import json
from typing import Any

from pydantic import BaseModel

from switchboard.errors import LABELS

_ORDER = ("name", "prompt", "begin_message", "voice", "language", "tools", "analysis", "max_duration_seconds", "metadata")


class Change(BaseModel):
    field: str
    label: str
    before: str | None
    after: str | None
    lines: list[str] = []  # a unified diff of the text, for fields of several lines


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def diff_specs(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """What changed from `before` to `after`, in the editor's order of fields."""
    changes: list[Change] = []
    for field in (*_ORDER, *sorted((set(before) | set(after)) - set(_ORDER))):
        a, b = before.get(field), after.get(field)
        if a == b or (not a and not b and a in (None, "", {}, []) and b in (None, "", {}, [])):
            continue
        ta, tb = _text(a), _text(b)
        multiline = "\n" in (ta or "") or "\n" in (tb or "")
        lines = [] if not multiline else [
            line.rstrip("\n") for line in difflib.unified_diff((ta or "").splitlines(), (tb or "").splitlines(),
                                                               "before", "after", lineterm="", n=1)][2:]
        changes.append(Change(field=field, label=LABELS.get(field, field.replace("_", " ").capitalize()),
                              before=ta, after=tb, lines=lines))
    return changes
