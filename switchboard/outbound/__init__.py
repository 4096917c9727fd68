"""Outbound calls: placing a call through a platform (or the agent's routing) and ending it
(`calls`), and the organisation's do-not-call list (`do_not_call`)."""

from switchboard.outbound.calls import (
    CallNotPlaced, CallRequest, EndedCall, PlacedCall, end_call, place_call,
)
from switchboard.outbound.do_not_call import DoNotCallEntry, add_number, list_numbers, remove_number

__all__ = ["CallNotPlaced", "CallRequest", "DoNotCallEntry", "EndedCall", "PlacedCall",
           "add_number", "end_call", "list_numbers", "place_call", "remove_number"]
