"""Adding a platform is one folder, one registry line and a price seed (README, "Adding a
platform"): a throwaway fifth platform — a real adapter class in `tests/providers/fifth/` —
registered in-process appears in the API's catalogue with its credentials schema, in the
settings (its operator defaults from the environment), in the webhook routes, and its calls are
stored and priced from the price book, with nothing else touched."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from switchboard.db import Database
from switchboard.providers import registry
from tests.api.conftest import make_user
from tests.edge.conftest import _fresh_settings_after_each_test, running_edge, use_settings  # noqa: F401
from tests.providers.fifth.adapter import SIGNATURE, sign

SEED = Path(__file__).parent / "fifth" / "seed.sql"
SECRET = "fifth-webhook-secret-0001"


@pytest.fixture
def fifth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.PLATFORMS, "fifth", "tests.providers.fifth.platform")  # the one registry line
    use_settings(monkeypatch, FIFTH_API_KEY="fifth-operator-key-0001", FIFTH_WEBHOOK_SECRET=SECRET)


async def _seed_prices(db: Database) -> None:
    async with db.as_service() as conn:
        await conn.execute(SEED.read_text())


def test_the_registry_line_is_all_the_settings_need(fifth: None) -> None:
    settings = registry.operator_settings("fifth")
    assert settings.api_key.get_secret_value() == "fifth-operator-key-0001"
    assert settings.base_url == "https://api.fifth.example"
    adapter = registry.get_provider("fifth")
    assert adapter.credentials.get("api_key") == "fifth-operator-key-0001"
    assert adapter.credentials.base_url == "https://api.fifth.example"
    assert registry.label("fifth") == "Fifth Voice" and "fifth" in registry.codes()
    assert [v.id for v in registry.preset_voices("fifth")] == ["openai:alloy"]


async def test_a_fifth_platform_reaches_the_catalogue_the_secrets_and_the_webhooks(fifth: None, db: Database, db_url: str) -> None:
    await _seed_prices(db)
    owner = await make_user(db, f"owner-fifth-{uuid4().hex[:6]}@example.com")
    async with db.as_service() as conn:
        org = (await (await conn.execute("insert into organizations (name) values ('Fifth Dental') returning id")).fetchone())["id"]
        await conn.execute("insert into memberships (organization_id, user_id, role) values (%s, %s, 'owner')", (org, owner.id))

    async with running_edge(db_url) as edge:
        client = edge.client
        # The API's catalogue: the platform, with the credentials schema its folder declares.
        catalogue = (await client.get("/api/providers", params={"type": "platform"})).json()
        fifth_entry = next(p for p in catalogue if p["key"] == "fifth")
        assert fifth_entry["name"] == "Fifth Voice"
        assert fifth_entry["secrets_schema"] == registry.descriptor("fifth").secrets_schema
        # The secrets schema is enforced on the organisation's keys.
        h = owner.headers(**{"X-Organization-Id": str(org)})
        bad = await client.put("/api/organizations/current/providers/fifth/secrets", headers=h,
                               json={"secrets": {"webhook_secret": SECRET}})
        assert bad.status_code == 422, bad.text
        ok = await client.put("/api/organizations/current/providers/fifth/secrets", headers=h,
                              json={"secrets": {"api_key": "fifth-org-key-0001", "webhook_secret": SECRET}})
        assert ok.status_code == 200, ok.text

        # The webhook routes: documented for the platform, refusing what is not signed with its
        # scheme, storing (and pricing) what is.
        doc = (await client.get("/openapi.json")).json()
        param = doc["paths"]["/functions/v1/provider-webhook-router/{provider}"]["post"]["parameters"][0]
        assert "fifth" in param["schema"]["enum"]
        now = int(time.time())
        body = json.dumps({"type": "call.ended", "call": {"id": "f5-call-1", "duration_seconds": 120,
                                                          "started_at": now - 180, "ended_at": now - 60}}).encode()
        unsigned = await client.post("/functions/v1/provider-webhook-router/fifth", content=body)
        assert unsigned.status_code == 401
        url = f"/functions/v1/provider-webhook-router/fifth/{org}"
        stored = await client.post(url, content=body, headers={SIGNATURE: sign(SECRET, body), "content-type": "application/json"})
        assert stored.status_code == 200, stored.text
        assert stored.json()["status"] == "stored"
        assert (await client.post(url, content=body, headers={SIGNATURE: sign("wrong-secret-000001", body)})).status_code == 401
        await edge.settle()
        await edge.runtime.webhooks.drain(older_than_seconds=0)

    async with db.as_service() as conn:
        row = await (await conn.execute(
            """select c.status, c.duration_seconds, u.platform_cost, u.telephony_cost, u.cost_amount
               from call_records c join voice_ai_providers p on p.id = c.provider_id
               join provider_usage u on u.call_id = c.id
               where p.code = 'fifth' and c.organization_id = %s""", (org,))).fetchone()
    assert row is not None
    assert (row["status"], row["duration_seconds"]) == ("ended", 120)
    # 2 minutes at the seeded $0.05 platform and $0.02 telephony per minute
    assert (row["platform_cost"], row["telephony_cost"], row["cost_amount"]) == (Decimal("0.1"), Decimal("0.04"), Decimal("0.14"))
