"""On LiveKit our worker speaks, so its voices are the catalog's TTS vendors' voices (openai-tts,
cartesia-tts, elevenlabs-tts, deepgram-tts, espeak-tts): this offline list is what the voice
selector offers. Cartesia and ElevenLabs also take any custom or cloned voice id."""

from __future__ import annotations

from switchboard.providers.base import Voice

PRESET_VOICES: list[Voice] = [
    Voice(id="openai:alloy", name="Alloy (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="openai:ash", name="Ash (OpenAI)", vendor="openai", language="en-US", gender="male"),
    Voice(id="openai:coral", name="Coral (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="openai:echo", name="Echo (OpenAI)", vendor="openai", language="en-US", gender="male"),
    Voice(id="openai:nova", name="Nova (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="openai:sage", name="Sage (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="cartesia:f786b574-daa5-4673-aa0c-cbe3e8534c02", name="Katie (Cartesia)", vendor="cartesia", language="en-US", gender="female"),
    Voice(id="cartesia:a167e0f3-df7e-4d52-a9c3-f949145efdab", name="Blake (Cartesia)", vendor="cartesia", language="en-US", gender="male"),
    Voice(id="elevenlabs:21m00Tcm4TlvDq8ikWAM", name="Rachel (ElevenLabs)", vendor="elevenlabs", language="en-US", gender="female"),
    Voice(id="elevenlabs:EXAVITQu4vr4xnSDxMaL", name="Sarah (ElevenLabs)", vendor="elevenlabs", language="en-US", gender="female"),
    Voice(id="elevenlabs:JBFqnCBsd6RMkjVDRZzb", name="George (ElevenLabs)", vendor="elevenlabs", language="en-GB", gender="male"),
    Voice(id="deepgram:aura-2-thalia-en", name="Thalia (Deepgram Aura-2)", vendor="deepgram", language="en-US", gender="female"),
    Voice(id="deepgram:aura-2-apollo-en", name="Apollo (Deepgram Aura-2)", vendor="deepgram", language="en-US", gender="male"),
    Voice(id="local:en-us", name="eSpeak NG (offline)", vendor="local", language="en-US"),
]
# Vendors the worker can speak with (catalog TTS entries); other vendors' voices are refused.
TTS_VENDORS = {"openai": "openai-tts", "cartesia": "cartesia-tts", "elevenlabs": "elevenlabs-tts",
               "deepgram": "deepgram-tts", "local": "espeak-tts", "espeak": "espeak-tts"}
