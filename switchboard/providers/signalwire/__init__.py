"""SignalWire AI: the SWML `ai` verb on our own numbers, a Fabric AI agent as its stored form."""

from switchboard.providers.signalwire.adapter import SignalWireProvider

__all__ = ["SignalWireProvider"]
