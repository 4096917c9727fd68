"""SignalWire AI speaks through named TTS engines (`<engine>.<voice>`); its API lists no voices,
so the voice selector offers this preset list, and any engine voice id also works."""

from __future__ import annotations

from switchboard.spec import Voice

PRESET_VOICES: list[Voice] = [
    Voice(id="openai.alloy", name="Alloy (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="openai.echo", name="Echo (OpenAI)", vendor="openai", language="en-US", gender="male"),
    Voice(id="openai.nova", name="Nova (OpenAI)", vendor="openai", language="en-US", gender="female"),
    Voice(id="elevenlabs.rachel", name="Rachel (ElevenLabs)", vendor="elevenlabs", language="en-US", gender="female"),
    Voice(id="elevenlabs.adam", name="Adam (ElevenLabs)", vendor="elevenlabs", language="en-US", gender="male"),
    Voice(id="gcloud.en-US-Neural2-F", name="Neural2 F (Google)", vendor="gcloud", language="en-US", gender="female"),
    Voice(id="gcloud.en-US-Neural2-D", name="Neural2 D (Google)", vendor="gcloud", language="en-US", gender="male"),
    Voice(id="polly.Joanna-Neural", name="Joanna (Amazon Polly)", vendor="polly", language="en-US", gender="female"),
    Voice(id="azure.en-US-JennyNeural", name="Jenny (Azure)", vendor="azure", language="en-US", gender="female"),
    Voice(id="cartesia.f786b574-daa5-4673-aa0c-cbe3e8534c02", name="Katie (Cartesia)", vendor="cartesia", language="en-US", gender="female"),
]
