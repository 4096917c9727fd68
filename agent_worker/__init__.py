"""The LiveKit Agents worker: the runtime of the "livekit" platform (see agent_worker.server)."""
