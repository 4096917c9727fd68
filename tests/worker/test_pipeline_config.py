"""An organisation's resolved pipeline (the vendor catalogue's resolution rules) from the real database: priorities, merged
configuration with decrypted secrets, the agent's voice, the five-minute cache invalidated by
NOTIFY, and what happens when the database cannot be reached (the operator's environment as fallback)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from psycopg.types.json import Jsonb

from switchboard.db import Database
from switchboard.pipeline.config import PipelineCache, PipelineUnavailable, load_pipeline
from switchboard.secrets import put_secret
from switchboard.settings import Settings
from tests.worker.conftest import create_org


def _settings(**env) -> Settings:
    return Settings(_env_file=None, **env)


async def test_config_is_defaults_then_overrides_then_the_organisations_secret(db: Database) -> None:
    org = await create_org(db, vendors=[("openai-llm", 100, True, {"model": "llama-3.1-8b-instant", "temperature": 0.2,
                                                                      "base_url": "https://api.groq.com/openai/v1"})])
    async with db.as_service() as conn:
        await put_secret(conn, org.id, "openai", {"api_key": "gsk_organisation_key_123456"})
        config = await load_pipeline(conn, org.id, org.agent_id, settings=_settings(OPENAI_API_KEY="sk-operator-000000"))
    (llm,) = [v for v in config.llm if v.key == "openai-llm"]
    assert llm.config == {
        "model": "llama-3.1-8b-instant", "temperature": 0.2, "max_tokens": 1000,  # max_tokens: catalog default
        "base_url": "https://api.groq.com/openai/v1", "attempt_timeout": 5.0,
        "api_key": "gsk_organisation_key_123456",  # the organisation's key wins over the operator's
    }
    assert llm.credential_source == "organization" and llm.attempt_timeout == 5.0
    assert "gsk_organisation" not in repr(config) and "gsk_organisation" not in str(llm)


async def test_disabled_vendors_are_left_out_and_an_empty_service_gets_the_offline_tier(db: Database, caplog) -> None:
    caplog.set_level(logging.INFO)
    org = await create_org(db, vendors=[("openai-llm", 100, False, {}), ("local-llm", 5, True, {}),
                                        ("cartesia-tts", 50, False, {})])
    async with db.as_service() as conn:
        config = await load_pipeline(conn, org.id, org.agent_id, settings=_settings())
    assert [v.key for v in config.llm] == ["local-llm"]
    assert [v.key for v in config.tts] == ["espeak-tts"] and [v.key for v in config.stt] == ["pocketsphinx-stt"]
    assert "vendor openai-llm is disabled; skipped" in caplog.text


async def test_the_agents_cloned_voice_goes_to_its_tts_vendor(db: Database) -> None:
    cloned = "a0e99841-438c-4a64-b679-ae501e7d6091"
    org = await create_org(
        db,
        voice={"vendor": "cartesia", "voice_id": cloned, "custom": True, "speed": 1.1},
        vendors=[("cartesia-tts", 100, True, {}), ("openai-tts", 50, True, {"voice": "nova"})],
    )
    async with db.as_service() as conn:
        config = await load_pipeline(conn, org.id, org.agent_id, settings=_settings())
    by_key = {v.key: v for v in config.tts}
    assert by_key["cartesia-tts"].config["voice"] == cloned and by_key["cartesia-tts"].config["speed"] == 1.1
    assert by_key["openai-tts"].config["voice"] == "nova"  # another vendor's voice is left alone
    assert config.agent.voice.custom is True


async def test_a_malformed_tool_is_skipped_and_the_rest_of_the_agent_kept(db: Database, caplog) -> None:
    org = await create_org(db, tools=[
        {"type": "end_call"},
        {"type": "transfer", "number": "not a number"},
        {"type": "http", "name": "lookup", "description": "Look up an order.", "url": "https://example.com/orders"},
    ])
    async with db.as_service() as conn:
        config = await load_pipeline(conn, org.id, org.agent_id, settings=_settings())
    assert [t.type for t in config.agent.tools] == ["end_call", "http"]
    assert "tool #1 skipped" in caplog.text


async def _wait_for(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_cache_serves_for_five_minutes_and_notify_invalidates_it(db: Database) -> None:
    org = await create_org(db, vendors=[("local-llm", 10, True, {"fallback_reply": "first"})])
    other = await create_org(db, name="Other", vendors=[("local-llm", 10, True, {})])
    cache = PipelineCache(db, settings=_settings())
    assert cache._ttl == 300
    await cache.start()
    try:
        await _wait_for(cache.listening.is_set)
        first = await cache.get(org.id, org.agent_id)
        await cache.get(other.id, other.agent_id)
        assert await cache.get(org.id, org.agent_id) is first  # served from the cache

        seen = cache.invalidations
        async with db.as_service() as conn:
            await conn.execute(
                "update organization_provider_configs set config = %s where organization_id = %s",
                (Jsonb({"fallback_reply": "second"}), org.id),
            )
        await _wait_for(lambda: cache.invalidations > seen)
        assert (await cache.get(org.id, org.agent_id)).llm[0].config["fallback_reply"] == "second"
        assert (other.id, other.agent_id) in cache._entries  # another organisation's entry survives

        for change in (
            lambda conn: put_secret(conn, org.id, "openai", {"api_key": "sk-new-key-000000"}),
            lambda conn: conn.execute("update agent_configs set prompt = 'New prompt.' where id = %s", (org.agent_id,)),
        ):
            await cache.get(org.id, org.agent_id)
            seen = cache.invalidations
            async with db.as_service() as conn:
                await change(conn)
            await _wait_for(lambda: cache.invalidations > seen)
            assert (org.id, org.agent_id) not in cache._entries
        assert (await cache.get(org.id, org.agent_id)).agent.prompt == "New prompt."
    finally:
        await cache.aclose()


class Forwarder:
    """A TCP hop in front of Postgres that can be cut, as when the database becomes unreachable."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.open = True
        self._writers = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader, writer) -> None:
        if not self.open:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except Exception:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        self.open = False
        self.server.close()
        for w in self._writers:
            w.close()


async def test_unreachable_database_serves_the_last_known_config_then_the_environment(db_url: str, db: Database) -> None:
    org = await create_org(db, vendors=[("local-llm", 10, True, {})])
    from urllib.parse import urlsplit

    parts = urlsplit(db_url)
    hop = Forwarder(parts.port)
    port = await hop.start()
    flaky = Database(db_url.replace(f":{parts.port}/", f":{port}/"), min_size=0, max_size=2)
    await flaky.pool.open(wait=False)
    settings = _settings(OPENAI_API_KEY="sk-operator-000000")
    cache = PipelineCache(flaky, ttl_seconds=0, load_timeout=0.5, settings=settings)
    try:
        fresh = await cache.get(org.id, org.agent_id)
        assert fresh.source == "database"
        await hop.cut()
        stale = await cache.get(org.id, org.agent_id)  # expired, but better than nothing
        assert stale.source == "stale-cache" and stale.agent.prompt == fresh.agent.prompt

        other = await create_org(db, name="Other", vendors=[("local-llm", 10, True, {})])
        env = await cache.get(other.id, other.agent_id)  # never seen: PROVIDER_ENV_FALLBACK
        assert env.source == "environment"
        assert [v.key for v in env.llm] == ["openai-llm", "local-llm"]
        assert env.llm[0].config["api_key"] == "sk-operator-000000"

        strict = PipelineCache(flaky, load_timeout=0.5, settings=_settings(PROVIDER_ENV_FALLBACK="false"))
        with pytest.raises(PipelineUnavailable, match="database is unreachable .* PROVIDER_ENV_FALLBACK is false"):
            await strict.get(other.id, other.agent_id)
    finally:
        await flaky.close()
