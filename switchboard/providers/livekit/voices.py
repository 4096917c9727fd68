"""On LiveKit our worker speaks, so its voices are the catalog's TTS vendors' voices (openai-tts,
cartesia-tts, elevenlabs-tts, deepgram-tts, espeak-tts): this offline list is what the voice
selector offers. Cartesia and ElevenLabs also take any custom or cloned voice id."""

from __future__ import annotations

from switchboard.spec import Voice
from switchboard.providers.common import preset_voices

PRESET_VOICES: list[Voice] = preset_voices(__package__)  # voices.csv beside this file
# Vendors the worker can speak with (catalog TTS entries); other vendors' voices are refused.
TTS_VENDORS = {"openai": "openai-tts", "cartesia": "cartesia-tts", "elevenlabs": "elevenlabs-tts",
               "deepgram": "deepgram-tts", "local": "espeak-tts", "espeak": "espeak-tts"}
