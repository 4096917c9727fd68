"""JSON-schema pieces for the platforms' credentials schemas (`platform.py` of each folder)."""

from __future__ import annotations

from typing import Any


def secret_object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def key(title: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 8, "maxLength": 4096, "title": title}


def text(title: str, max_length: int = 255) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "title": title}


# Marks a credential that is not a secret (made to be given to browsers): shown whole in settings.
PUBLIC = "x-public"


def public_text(title: str, max_length: int = 255) -> dict[str, Any]:
    return {**text(title, max_length), PUBLIC: True}
