"""The SWML document SignalWire fetches for a text conversation: served at the signed URL only."""

from __future__ import annotations

from urllib.parse import urlsplit
from uuid import uuid4

from switchboard.providers.signalwire.chat import conversation_swml_url
from switchboard.settings import get_settings
from tests.edge.conftest import seed_org


async def test_the_signed_url_serves_the_agents_swml_and_nothing_else_does(edge, db) -> None:
    s = await seed_org(db)
    url = urlsplit(conversation_swml_url(get_settings(), s.organization_id, s.agent_config_id, uuid4()))
    r = await edge.client.post(f"{url.path}?{url.query}")
    assert r.status_code == 200, r.text
    ai = r.json()["sections"]["main"][0]["ai"]
    assert ai["prompt"]["text"] == "You are the front desk of a dental practice."
    assert (await edge.client.get(f"{url.path}?{url.query}")).status_code == 200
    tampered = url.query.replace("sig=", "sig=0")
    r = await edge.client.get(f"{url.path}?{tampered}")
    assert r.status_code == 401 and "front desk" not in r.text
    assert (await edge.client.get(url.path)).status_code == 401
    other = urlsplit(conversation_swml_url(get_settings(), s.organization_id, uuid4(), uuid4()))
    assert (await edge.client.get(f"{other.path}?{other.query}")).status_code == 404
