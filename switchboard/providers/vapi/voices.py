"""Vapi's voices are its TTS vendors' catalogues (Vapi has no voice list of its own in its API):
this offline preset list is what the voice selector offers; any vendor voice id also works."""

from __future__ import annotations

from switchboard.spec import Voice
from switchboard.providers.common import preset_voices

PRESET_VOICES: list[Voice] = preset_voices(__package__)  # voices.csv beside this file
