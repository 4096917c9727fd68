"""Keyset pagination: a page ends with an opaque cursor naming the last row's sort key; the next
page starts after it, so a page costs the same at row 10 or row 1,000,000."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from switchboard.errors import FieldError, InvalidInput

MAX_LIMIT = 200


def encode_cursor(*values: Any) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else None if v is None else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def bad_cursor() -> InvalidInput:
    return InvalidInput(FieldError("cursor", "is not a cursor this API returned"))


def decode_cursor(cursor: str, n: int) -> list[str | None]:
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_cursor() from None
    if not isinstance(values, list) or len(values) != n or not all(v is None or isinstance(v, str) for v in values):
        raise bad_cursor()
    return values
