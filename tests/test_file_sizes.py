"""House rule: a module of the core over 400 lines says why in a one-line `# Size …` comment at
its top (split along a real seam otherwise)."""

from __future__ import annotations

from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "switchboard"
LIMIT = 400


def test_core_modules_over_the_limit_say_why():
    unexplained = []
    for path in sorted(CORE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > LIMIT and not (lines and lines[0].startswith("# Size") and len(lines[0]) > 30):
            unexplained.append(f"{path.relative_to(CORE.parent)} ({len(lines)} lines)")
    assert unexplained == [], "over 400 lines without a reason at the top: " + ", ".join(unexplained)
