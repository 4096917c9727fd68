"""LiveKit: our own worker as the agent; SIP trunk and dispatch rule through livekit-api."""
