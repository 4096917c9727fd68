"""Retell's voices: the live list (`GET /list-voices`) when a key is set, otherwise this offline
preset list — Retell's built-in voices as its dashboard names them — for the voice selector."""

from __future__ import annotations

from typing import Any

from switchboard.spec import Voice
from switchboard.providers.common import preset_voices

PRESET_VOICES: list[Voice] = preset_voices(__package__)  # voices.csv beside this file


def voice_from_retell(item: Any) -> Voice:
    """A `VoiceResponse` (SDK model or dict) as our Voice."""
    data = item if isinstance(item, dict) else item.model_dump()
    return Voice(
        id=data["voice_id"],
        name=data.get("voice_name") or data["voice_id"],
        vendor=data.get("provider"),
        custom=str(data["voice_id"]).startswith("custom_voice_"),
        language=None,
        gender=data.get("gender"),
        preview_url=data.get("preview_audio_url"),
    )
