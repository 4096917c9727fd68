"""The calls CSV download's one-export ticket (app.backend): it names one user, organisation and
set of filters, lasts a minute, and opens nothing else (it is not an access token)."""

from __future__ import annotations

import importlib.util
import time
import uuid
from pathlib import Path

import pytest

from switchboard import auth
from switchboard.models import CallFilters
from switchboard.tenancy import Claims

# The admin app's module, by its path: under pytest, the name `app` is this test package.
_spec = importlib.util.spec_from_file_location("admin_app_backend", Path(__file__).parents[2] / "app" / "backend.py")
backend = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(backend)
export_ticket, read_export_ticket = backend.export_ticket, backend.read_export_ticket


def test_a_ticket_carries_its_export_and_nothing_more(monkeypatch) -> None:
    who, org = Claims(sub=uuid.uuid4(), email="a@example.test"), uuid.uuid4()
    ticket = export_ticket(who, org, CallFilters(provider="vapi", q="molar"))
    claims, org_back, filters = read_export_ticket(ticket)
    assert (claims.sub, org_back, filters.provider, filters.q) == (who.sub, org, "vapi", "molar")
    with pytest.raises(auth.AuthError):  # not an access token for the API or the app
        auth.verify_token(ticket)
    with pytest.raises(PermissionError):
        read_export_ticket(ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB"))
    with pytest.raises(PermissionError):  # an access token is not a ticket
        read_export_ticket(auth.issue_token(who.sub, who.email))
    earlier = time.time() - 120  # a ticket signed two minutes ago has expired
    monkeypatch.setattr(time, "time", lambda: earlier)
    old = export_ticket(who, org, CallFilters())
    monkeypatch.undo()
    with pytest.raises(PermissionError):
        read_export_ticket(old)
