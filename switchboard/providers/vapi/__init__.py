"""Vapi: one assistant per spec, through vapi-server-sdk."""

from switchboard.providers.vapi.adapter import VapiProvider

__all__ = ["VapiProvider"]
