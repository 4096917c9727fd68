"""LiveKit: our own worker as the agent; SIP trunk and dispatch rule through livekit-api."""

from switchboard.providers.livekit.adapter import LiveKitProvider

__all__ = ["LiveKitProvider"]
