"""Vapi's voices are its TTS vendors' catalogues (Vapi has no voice list of its own in its API):
this offline preset list is what the voice selector offers; any vendor voice id also works."""

from __future__ import annotations

from switchboard.spec import Voice

PRESET_VOICES: list[Voice] = [
    Voice(id="openai:alloy", name="Alloy (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="openai:echo", name="Echo (OpenAI)", vendor="openai", language="en-US", gender="male"),
    Voice(id="openai:nova", name="Nova (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="openai:onyx", name="Onyx (OpenAI)", vendor="openai", language="en-US", gender="male"),
    Voice(id="openai:shimmer", name="Shimmer (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="elevenlabs:21m00Tcm4TlvDq8ikWAM", name="Rachel (ElevenLabs)", vendor="elevenlabs", language="en-US", gender="female"),
    Voice(id="elevenlabs:pNInz6obpgDQGcFmaJgB", name="Adam (ElevenLabs)", vendor="elevenlabs", language="en-US", gender="male"),
    Voice(id="cartesia:f786b574-daa5-4673-aa0c-cbe3e8534c02", name="Katie (Cartesia)", vendor="cartesia", language="en-US", gender="female"),
    Voice(id="deepgram:asteria", name="Asteria (Deepgram Aura)", vendor="deepgram", language="en-US", gender="female"),
]
