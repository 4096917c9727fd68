"""The organisation's vendor routes: configs (resolved = defaults ⊕ overrides, validated against
the provider's schema, versioned by ETag), secrets (write-only, admins only) and the primary
provider per type."""

from __future__ import annotations

import asyncio

import httpx

from switchboard.pipeline.catalog import CATALOG
from tests.api.conftest import LeakGuard, World

ORG = "/api/organizations/current/providers"


async def _etag(client: httpx.AsyncClient, world: World, key: str, user=None) -> str:
    r = await client.get(f"{ORG}/{key}/config", headers=(user or world.owner_a).headers())
    assert r.status_code == 200
    assert r.headers["ETag"] == r.json()["etag"]
    return r.headers["ETag"]


async def test_listing_resolves_defaults_and_overrides(client: httpx.AsyncClient, world: World) -> None:
    h = world.owner_a.headers()
    etag = await _etag(client, world, "openai-llm")
    r = await client.put(f"{ORG}/openai-llm/config", headers={**h, "If-Match": etag},
                         json={"config": {"temperature": 0.9}, "is_enabled": True, "priority": 100})
    assert r.status_code == 200, r.text
    r = await client.get(ORG, params={"type": "llm"}, headers=h)
    assert r.status_code == 200
    by_key = {i["provider"]["key"]: i for i in r.json()}
    assert set(by_key) == {e.key for e in CATALOG if e.type == "llm"}  # every LLM of the catalog, configured or not
    llm = by_key["openai-llm"]
    assert llm["config"] == {"temperature": 0.9}
    assert llm["resolved_config"] == {"model": "gpt-4o-mini", "temperature": 0.9, "max_tokens": 1000,
                                      "base_url": None, "attempt_timeout": 5.0}
    assert llm["is_enabled"] and llm["priority"] == 100 and llm["configured"] and llm["is_primary"]
    assert by_key["local-llm"]["configured"] is False and by_key["local-llm"]["resolved_config"]["attempt_timeout"] == 1.0
    enabled = (await client.get(ORG, params={"enabled": "true"}, headers=h)).json()
    assert [i["provider"]["key"] for i in enabled] == ["openai-llm"]
    # Another organisation's list is untouched.
    other = {i["provider"]["key"]: i for i in (await client.get(ORG, headers=world.owner_b.headers())).json()}
    assert other["openai-llm"]["configured"] is False and other["openai-llm"]["config"] == {}


async def test_put_requires_if_match_and_rejects_a_stale_one(client: httpx.AsyncClient, world: World) -> None:
    h = world.admin_a.headers()
    body = {"config": {"model": "gpt-4o"}}
    r = await client.put(f"{ORG}/openai-llm/config", headers=h, json=body)
    assert r.status_code == 428 and r.json()["code"] == "precondition_required"
    first = await _etag(client, world, "openai-llm", world.admin_a)
    r = await client.put(f"{ORG}/openai-llm/config", headers={**h, "If-Match": first}, json=body)
    assert r.status_code == 200 and r.headers["ETag"] != first
    # A second admin who read before the first write cannot overwrite it.
    r = await client.put(f"{ORG}/openai-llm/config", headers={**world.owner_a.headers(), "If-Match": first},
                         json={"config": {"model": "gpt-4.1"}})
    assert r.status_code == 412 and r.json()["code"] == "precondition_failed"
    current = (await client.get(f"{ORG}/openai-llm/config", headers=h)).json()
    assert current["config"] == {"model": "gpt-4o"}


async def test_two_concurrent_writers_on_one_version_one_wins(client: httpx.AsyncClient, world: World) -> None:
    etag = await _etag(client, world, "cartesia-tts")
    writes = [client.put(f"{ORG}/cartesia-tts/config", headers={**u.headers(), "If-Match": etag},
                         json={"config": {"speed": s}, "is_enabled": True})
              for u, s in ((world.owner_a, 1.1), (world.admin_a, 1.2))]
    statuses = sorted(r.status_code for r in await asyncio.gather(*writes))
    assert statuses == [200, 412]


async def test_create_only_with_if_none_match(client: httpx.AsyncClient, world: World) -> None:
    h = world.owner_a.headers()
    r = await client.put(f"{ORG}/espeak-tts/config", headers={**h, "If-None-Match": "*"}, json={"config": {"rate": 200}})
    assert r.status_code == 200 and r.json()["resolved_config"]["rate"] == 200
    r = await client.put(f"{ORG}/espeak-tts/config", headers={**h, "If-None-Match": "*"}, json={"config": {"rate": 210}})
    assert r.status_code == 412


async def test_seed_003_camel_case_body_is_accepted(client: httpx.AsyncClient, world: World) -> None:
    etag = await _etag(client, world, "openai-stt")
    r = await client.put(f"{ORG}/openai-stt/config", headers={**world.owner_a.headers(), "If-Match": etag},
                         json={"config": {"language": "de"}, "isEnabled": True, "priority": 100})
    assert r.status_code == 200 and r.json()["is_enabled"] is True and r.json()["resolved_config"]["language"] == "de"


async def test_omitted_enabled_and_priority_keep_their_values(client: httpx.AsyncClient, world: World) -> None:
    h = world.owner_a.headers()
    r = await client.put(f"{ORG}/openai-tts/config", headers={**h, "If-None-Match": "*"},
                         json={"config": {}, "is_enabled": True, "priority": 7})
    r = await client.put(f"{ORG}/openai-tts/config", headers={**h, "If-Match": r.headers["ETag"]},
                         json={"config": {"voice": "nova"}})
    assert r.status_code == 200
    assert (r.json()["is_enabled"], r.json()["priority"], r.json()["config"]) == (True, 7, {"voice": "nova"})


async def test_invalid_config_is_422_naming_each_field(client: httpx.AsyncClient, world: World) -> None:
    h = {**world.owner_a.headers(), "If-Match": await _etag(client, world, "openai-llm")}
    r = await client.put(f"{ORG}/openai-llm/config", headers=h,
                         json={"config": {"temperature": 3, "max_tokens": "many", "colour": "blue"}})
    assert r.status_code == 422
    body = r.json()
    fields = {f["field"]: f["message"] for f in body["fields"]}
    assert fields["config.temperature"] == "3 is greater than the maximum of 2"
    assert "integer" in fields["config.max_tokens"]
    assert fields["config.colour"].startswith("is not a known field")
    assert "config.temperature: 3 is greater than the maximum of 2" in body["message"]
    r = await client.put(f"{ORG}/openai-stt/config", headers={**world.owner_a.headers(), "If-None-Match": "*"},
                         json={"config": {"base_url": "not a url", "model": "whisper-2"}})
    fields = {f["field"] for f in r.json()["fields"]}
    assert r.status_code == 422 and fields == {"config.base_url", "config.model"}
    r = await client.put(f"{ORG}/openai-llm/config", headers=h, json={"config": {}, "priority": 5000})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "priority"
    # Nothing was written by any of these.
    assert (await client.get(f"{ORG}/openai-llm/config", headers=h)).json()["configured"] is False


async def test_a_platform_has_no_org_config(client: httpx.AsyncClient, world: World) -> None:
    r = await client.put(f"{ORG}/retell/config", headers={**world.owner_a.headers(), "If-None-Match": "*"}, json={"config": {}})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "key" and "per agent" in r.json()["message"]
    r = await client.get(f"{ORG}/retell", headers=world.owner_a.headers())
    assert r.status_code == 200 and r.json()["provider"]["type"] == "platform"


async def test_delete_config_returns_to_defaults(client: httpx.AsyncClient, world: World) -> None:
    h = world.owner_a.headers()
    r = await client.put(f"{ORG}/openai-llm/config", headers={**h, "If-None-Match": "*"},
                         json={"config": {"temperature": 0.1}, "is_enabled": True})
    etag = r.headers["ETag"]
    r = await client.delete(f"{ORG}/openai-llm/config", headers={**h, "If-Match": '"stale"'})
    assert r.status_code == 412
    r = await client.delete(f"{ORG}/openai-llm/config", headers={**h, "If-Match": etag})
    assert r.status_code == 204 and r.content == b""
    after = (await client.get(f"{ORG}/openai-llm", headers=h)).json()
    assert (after["configured"], after["is_enabled"], after["resolved_config"]["temperature"]) == (False, False, 0.7)
    assert (await client.delete(f"{ORG}/openai-llm/config", headers=h)).status_code == 404
    assert (await client.delete(f"{ORG}/nope/config", headers=h)).status_code == 404


async def _enable(client, world, key, priority, enabled=True):
    r = await client.put(f"{ORG}/{key}/config", headers={**world.owner_a.headers(), "If-None-Match": "*"},
                         json={"config": {}, "is_enabled": enabled, "priority": priority})
    assert r.status_code == 200, r.text


async def test_primary_follows_seed_003(client: httpx.AsyncClient, world: World) -> None:
    h = world.member_a.headers()
    r = await client.get(f"{ORG}/tts/primary", headers=h)
    assert r.status_code == 404 and "no tts provider is enabled" in r.json()["message"]
    await _enable(client, world, "espeak-tts", 50)
    await _enable(client, world, "openai-tts", 50)
    await _enable(client, world, "cartesia-tts", 100, enabled=False)
    # Equal priority: by name ("eSpeak NG (offline)" < "OpenAI Text-to-Speech", case-insensitively).
    assert (await client.get(f"{ORG}/tts/primary", headers=h)).json()["provider"]["key"] == "espeak-tts"
    etag = (await client.get(f"{ORG}/cartesia-tts/config", headers=h)).headers["ETag"]
    await client.put(f"{ORG}/cartesia-tts/config", headers={**h, "If-Match": etag}, json={"is_enabled": True})
    primary = (await client.get(f"{ORG}/tts/primary", headers=h)).json()
    assert primary["provider"]["key"] == "cartesia-tts" and primary["is_primary"]
    listed = [i for i in (await client.get(ORG, params={"type": "tts"}, headers=h)).json() if i["is_primary"]]
    assert [i["provider"]["key"] for i in listed] == ["cartesia-tts"]
    assert (await client.get(f"{ORG}/platform/primary", headers=h)).status_code == 422


async def test_secrets_are_write_only_and_for_admins(client: httpx.AsyncClient, world: World, leak_guard: LeakGuard) -> None:
    key = leak_guard.secret("sk-test-" + "Zq9" * 10 + "wxyz")
    r = await client.put(f"{ORG}/openai-llm/secrets", headers=world.member_a.headers(), json={"secrets": {"api_key": key}})
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await client.put(f"{ORG}/openai-llm/secrets", headers=world.admin_a.headers(), json={"secrets": {"api_key": key}})
    assert r.status_code == 200
    assert r.json() == {"vendor": "openai", "has_secrets": True, "hints": {"api_key": "…wxyz"}, "required_fields": ["api_key"]}
    # One OpenAI key serves all three OpenAI services; members are not told about secrets at all.
    listed = {i["provider"]["key"]: i for i in (await client.get(ORG, headers=world.owner_a.headers())).json()}
    assert all(listed[k]["secrets"]["has_secrets"] for k in ("openai-llm", "openai-stt", "openai-tts"))
    assert listed["cartesia-tts"]["secrets"]["has_secrets"] is False
    assert all(i["secrets"] is None for i in (await client.get(ORG, headers=world.member_a.headers())).json())
    # Another organisation sees nothing of it.
    other = {i["provider"]["key"]: i for i in (await client.get(ORG, headers=world.owner_b.headers())).json()}
    assert other["openai-llm"]["secrets"]["has_secrets"] is False
    assert (await client.delete(f"{ORG}/openai-stt/secrets", headers=world.member_a.headers())).status_code == 403
    assert (await client.delete(f"{ORG}/openai-stt/secrets", headers=world.owner_a.headers())).status_code == 204
    assert (await client.delete(f"{ORG}/openai-stt/secrets", headers=world.owner_a.headers())).status_code == 404
    after = (await client.get(f"{ORG}/openai-llm", headers=world.owner_a.headers())).json()
    assert after["secrets"]["has_secrets"] is False


async def test_secrets_are_validated_without_echoing_them(client: httpx.AsyncClient, world: World, leak_guard: LeakGuard, db) -> None:
    h = world.owner_a.headers()
    short = leak_guard.secret("s3cr!")
    r = await client.put(f"{ORG}/openai-llm/secrets", headers=h, json={"secrets": {"api_key": short, "org": "x"}})
    assert r.status_code == 422
    fields = {f["field"]: f["message"] for f in r.json()["fields"]}
    assert fields == {"secrets.api_key": "is too short (at least 8 characters)",
                      "secrets.org": "is not a known field (known: api_key)"}
    r = await client.put(f"{ORG}/signalwire/secrets", headers=h, json={"secrets": {"project_id": leak_guard.secret("proj-12345678")}})
    assert r.status_code == 422 and {f["field"] for f in r.json()["fields"]} == {"secrets.api_token", "secrets.space_url"}
    r = await client.put(f"{ORG}/livekit/secrets", headers=h, json={"secrets": {"url": leak_guard.secret("ftp://lk.example"),
                                                                                  "api_key": "APIabc", "api_secret": leak_guard.secret("x" * 40)}})
    assert r.status_code == 422 and [f["field"] for f in r.json()["fields"]] == ["secrets.url"]
    r = await client.put(f"{ORG}/pocketsphinx-stt/secrets", headers=h, json={"secrets": {"api_key": leak_guard.secret("abcdefgh1234")}})
    assert r.status_code == 422 and "needs no secrets" in r.json()["message"]
    r = await client.put(f"{ORG}/openai-llm/secrets", headers=h, json={"secrets": {"api_key": 12345678}})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "secrets.api_key"
    async with db.as_service() as conn:
        assert (await (await conn.execute("select count(*) as n from organization_secrets")).fetchone())["n"] == 0


async def test_platform_keys_are_secrets_too(client: httpx.AsyncClient, world: World, leak_guard: LeakGuard) -> None:
    token = leak_guard.secret("PT" + "k" * 30 + "9876")
    r = await client.put(f"{ORG}/signalwire/secrets", headers=world.owner_a.headers(), json={"secrets": {
        "project_id": "b1c2d3e4-0000-4000-8000-000000000001", "api_token": token, "space_url": "demo.signalwire.com"}})
    assert r.status_code == 200 and r.json()["hints"]["api_token"] == "…9876"
    item = (await client.get(f"{ORG}/signalwire", headers=world.owner_a.headers())).json()
    assert item["secrets"]["has_secrets"] and item["secrets"]["vendor"] == "signalwire"
