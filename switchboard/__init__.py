"""Switchboard core: one voice agent, any voice-AI platform.

The core imports no web framework, no Reflex and no livekit-agents; the shells
(`app/`, `edge_functions/`, `agent_worker/`) import it, never the reverse.
"""

__version__ = "0.1.0"
