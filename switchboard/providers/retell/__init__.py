"""Retell AI: a Retell LLM and a voice agent per spec, through retell-sdk."""
