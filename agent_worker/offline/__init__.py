"""The always-available tier: vendors that need no key and no network."""

from agent_worker.offline.espeak_tts import ESpeakTTS
from agent_worker.offline.local_llm import LocalLLM
from agent_worker.offline.pocketsphinx_stt import PocketSphinxSTT

__all__ = ["ESpeakTTS", "LocalLLM", "PocketSphinxSTT"]
