"""Retell AI: a Retell LLM and a voice agent per spec, through retell-sdk."""

from switchboard.providers.retell.adapter import RetellProvider

__all__ = ["RetellProvider"]
