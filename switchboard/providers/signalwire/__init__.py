"""SignalWire AI: the SWML `ai` verb on our own numbers, a Fabric AI agent as its stored form."""
