"""Optimistic concurrency: every editable thing has an entity tag derived from its identity and
`updated_at` (kept by a trigger, so any writer changes it). A write names the tag it was based on
(`If-Match`), or asks to create only (`If-None-Match: *`); two admins cannot silently overwrite
each other."""

from __future__ import annotations

import hashlib
from typing import Any

from switchboard.errors import PreconditionFailed, PreconditionRequired


def make_etag(*parts: Any) -> str:
    """A strong entity tag (quoted, as HTTP writes it)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:24]
    return f'"{digest}"'


def _tags(header: str) -> list[str]:
    tags = []
    for raw in header.split(","):
        tag = raw.strip()
        if tag.startswith("W/"):  # a proxy may weaken a tag; the value still identifies the version
            tag = tag[2:]
        if tag and tag != "*" and not tag.startswith('"'):
            tag = f'"{tag}"'  # tolerate clients that drop the quotes
        if tag:
            tags.append(tag)
    return tags


def check_precondition(
    current: str,
    *,
    exists: bool,
    if_match: str | None,
    if_none_match: str | None = None,
    what: str = "it",
) -> None:
    """Raise unless the caller's preconditions hold for the current version (RFC 9110 order:
    If-Match, then If-None-Match). A thing that does not exist yet has a version too (its
    "absent" tag), so a create based on a read of nothing is checked like any other write."""
    if if_match is None and if_none_match is None:
        raise PreconditionRequired(
            f"send If-Match with the ETag from your last read of {what} "
            "(or If-None-Match: * to create it), so a concurrent change is not overwritten"
        )
    if if_match is not None:
        tags = _tags(if_match)
        if not (exists if "*" in tags else current in tags):
            if "*" in tags:
                raise PreconditionFailed(f"{what} does not exist (If-Match: * needs an existing one)")
            raise PreconditionFailed(
                f"{what} changed since you read it (current ETag {current}); read it again and reapply your change"
            )
    if if_none_match is not None:
        tags = _tags(if_none_match)
        if ("*" in tags and exists) or current in tags:
            raise PreconditionFailed(f"{what} already exists; read it and send its ETag in If-Match")
