"""SignalWire AI speaks through named TTS engines (`<engine>.<voice>`); its API lists no voices,
so the voice selector offers this preset list, and any engine voice id also works."""

from __future__ import annotations

from switchboard.spec import Voice
from switchboard.providers.common import preset_voices

PRESET_VOICES: list[Voice] = preset_voices(__package__)  # voices.csv beside this file
