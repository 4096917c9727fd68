from switchboard.spec import Voice

PRESET_VOICES = [Voice(id="openai:alloy", name="Alloy", vendor="openai")]
