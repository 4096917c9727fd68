"""Retell's voices: the live list (`GET /list-voices`) when a key is set, otherwise this offline
preset list — Retell's built-in voices as its dashboard names them — for the voice selector."""

from __future__ import annotations

from typing import Any

from switchboard.spec import Voice

PRESET_VOICES: list[Voice] = [
    Voice(id="11labs-Adrian", name="Adrian", vendor="elevenlabs", language="en-US", gender="male"),
    Voice(id="11labs-Myra", name="Myra", vendor="elevenlabs", language="en-US", gender="female"),
    Voice(id="11labs-Anthony", name="Anthony", vendor="elevenlabs", language="en-GB", gender="male"),
    Voice(id="11labs-Paola", name="Paola", vendor="elevenlabs", language="en-US", gender="female"),
    Voice(id="openai-Alloy", name="Alloy", vendor="openai", language="en-US", gender="female"),
    Voice(id="openai-Echo", name="Echo", vendor="openai", language="en-US", gender="male"),
    Voice(id="openai-Nova", name="Nova", vendor="openai", language="en-US", gender="female"),
    Voice(id="openai-Onyx", name="Onyx", vendor="openai", language="en-US", gender="male"),
    Voice(id="openai-Shimmer", name="Shimmer", vendor="openai", language="en-US", gender="female"),
    Voice(id="deepgram-Angus", name="Angus", vendor="deepgram", language="en-IE", gender="male"),
]


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
