"""On LiveKit our worker speaks, so its voices are the catalog's TTS vendors' voices (openai-tts,
cartesia-tts, espeak-tts): this offline list is what the voice selector offers. Cartesia also
takes any custom or cloned voice id."""

from __future__ import annotations

from switchboard.spec import Voice

PRESET_VOICES: list[Voice] = [
    Voice(id="openai:alloy", name="Alloy (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="openai:ash", name="Ash (OpenAI)", vendor="openai", language="en-US", gender="male"),
    Voice(id="openai:coral", name="Coral (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="openai:echo", name="Echo (OpenAI)", vendor="openai", language="en-US", gender="male"),
    Voice(id="openai:nova", name="Nova (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="openai:sage", name="Sage (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="cartesia:f786b574-daa5-4673-aa0c-cbe3e8534c02", name="Katie (Cartesia)", vendor="cartesia", language="en-US", gender="female"),
    Voice(id="cartesia:a167e0f3-df7e-4d52-a9c3-f949145efdab", name="Blake (Cartesia)", vendor="cartesia", language="en-US", gender="male"),
    Voice(id="local:en-us", name="eSpeak NG (offline)", vendor="local", language="en-US"),
]
# Vendors the worker can speak with (catalog TTS entries); other vendors' voices are refused.
TTS_VENDORS = {"openai": "openai-tts", "cartesia": "cartesia-tts", "local": "espeak-tts", "espeak": "espeak-tts"}
