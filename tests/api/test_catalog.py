"""GET /api/providers and /api/providers/{key}: both halves of the catalog, as public reference
data, with today's prices from the price book."""

from __future__ import annotations

import httpx
import jsonschema

from switchboard.pipeline.catalog import CATALOG


async def test_the_catalog_lists_platforms_then_services(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/providers")
    assert r.status_code == 200
    body = r.json()
    keys = [p["key"] for p in body]
    assert set(keys) == {"retell", "vapi", "signalwire", "livekit"} | {e.key for e in CATALOG}
    types = [p["type"] for p in body]
    assert types == sorted(types, key=["platform", "stt", "llm", "tts"].index)
    retell = next(p for p in body if p["key"] == "retell")
    assert retell["config_schema"] is None and retell["secrets_schema"]["required"] == ["api_key"]
    assert "preset_voices" in retell["capabilities"] and "custom_voices" not in retell["capabilities"]
    assert {(p["component"], p["usd_per_unit"]) for p in retell["prices"]} >= {("platform", 0.055), ("telephony", 0.015)}
    llm = next(p for p in body if p["key"] == "openai-llm")
    assert llm["vendor"] == "openai" and llm["default_config"]["model"] == "gpt-4o-mini"
    assert {p["unit"] for p in llm["prices"]} == {"1m_input_tokens", "1m_output_tokens"}
    claude = next(p for p in body if p["key"] == "anthropic-llm")  # priced per model
    haiku = {p["unit"]: p for p in claude["prices"] if p["model"] == "claude-haiku-4-5"}
    assert (haiku["1m_input_tokens"]["usd_per_unit"], haiku["1m_output_tokens"]["usd_per_unit"]) == (1.0, 5.0)
    assert haiku["1m_input_tokens"]["source"].startswith("anthropic.com/pricing")
    assert not next(p for p in body if p["key"] == "openrouter-llm")["prices"]  # none published: unpriced


async def test_every_default_config_satisfies_its_own_schema(client: httpx.AsyncClient) -> None:
    for p in (await client.get("/api/providers")).json():
        if p["config_schema"] is not None:
            jsonschema.validate(p["default_config"], p["config_schema"])
        jsonschema.Draft202012Validator.check_schema(p["secrets_schema"])


async def test_type_and_enabled_filters(client: httpx.AsyncClient, db) -> None:
    stt = (await client.get("/api/providers", params={"type": "stt"})).json()
    assert {p["key"] for p in stt} == {e.key for e in CATALOG if e.type == "stt"}
    platforms = (await client.get("/api/providers", params={"type": "platform"})).json()
    assert {p["key"] for p in platforms} == {"retell", "vapi", "signalwire", "livekit"}
    async with db.as_service() as conn:
        await conn.execute("update providers set is_active = false where key = 'openai-tts'")
        await conn.execute("update voice_ai_providers set is_active = false where code = 'vapi'")
    enabled = {p["key"] for p in (await client.get("/api/providers", params={"enabled": "true"})).json()}
    disabled = {p["key"] for p in (await client.get("/api/providers", params={"enabled": "false"})).json()}
    assert disabled == {"openai-tts", "vapi"} and not enabled & disabled and "retell" in enabled


async def test_bad_type_is_422_naming_the_parameter(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/providers", params={"type": "asr"})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input" and r.json()["fields"][0]["field"] == "type"


async def test_one_provider(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/providers/cartesia-tts")
    assert r.status_code == 200 and r.json()["type"] == "tts" and r.json()["config_schema"]["properties"]["speed"]["maximum"] == 2
    r = await client.get("/api/providers/signalwire")
    assert r.status_code == 200 and r.json()["type"] == "platform"
    assert set(r.json()["secrets_schema"]["required"]) == {"project_id", "api_token", "space_url"}
    r = await client.get("/api/providers/nope")
    assert r.status_code == 404 and r.json() == {"code": "not_found", "message": "no provider 'nope' in the catalog", "fields": []}


def test_platform_secret_schemas_know_every_credential_the_adapters_read() -> None:
    """A field an adapter reads but the schema refuses could never be set; one the schema takes
    but no adapter reads would be stored for nothing."""
    import re
    from pathlib import Path

    from switchboard.providers import registry

    root = Path(__file__).resolve().parents[2] / "switchboard" / "providers"
    for code, schema in ((d.code, d.secrets_schema) for d in registry.descriptors()):
        source = "\n".join(p.read_text() for p in (root / code).glob("*.py"))
        read = set(re.findall(r'(?:credentials|creds)\.get\("([a-z0-9_]+)"', source))
        assert read, code
        assert read == set(schema["properties"]), (code, read ^ set(schema["properties"]))
