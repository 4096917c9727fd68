"""Vapi: one assistant per spec, through vapi-server-sdk."""
