"""sync-agent: database webhooks push agent specs to the platforms (Retell on its Prism mock),
idempotently; failures are recorded and retried; the local relay carries the database's
NOTIFY to the function like Supabase's webhook would; the Supabase trigger is installed only
where supabase_functions exists."""

from __future__ import annotations

import asyncio
import json

import httpx
import psycopg
import pytest
import uvicorn

from switchboard.db import Database
from switchboard.db.local import free_port
from switchboard.db.migrate import MIGRATIONS_DIR
from switchboard.providers import registry

from .conftest import FailingPlatform, running_edge, seed_org, use_settings

SYNC = "/functions/v1/sync-agent"


def bearer() -> dict[str, str]:
    from switchboard.auth import service_role_token

    return {"authorization": f"Bearer {service_role_token()}"}


async def agent_row(db: Database, agent_id) -> dict:
    async with db.as_service() as conn:
        return await (await conn.execute("select * from agent_configs where id = %s", (agent_id,))).fetchone()


def webhook(kind: str, table: str, record: dict | None, old: dict | None = None) -> dict:
    return {"type": kind, "table": table, "schema": "public", "record": record, "old_record": old}


async def configs(db: Database, agent_id) -> dict[str, dict]:
    async with db.as_service() as conn:
        rows = await (await conn.execute(
            "select pc.*, p.code from provider_configs pc join voice_ai_providers p on p.id = pc.provider_id "
            "where agent_config_id = %s", (agent_id,))).fetchall()
    return {r["code"]: r for r in rows}


async def fresh_agent(db: Database, **kw):
    """A seeded agent whose platform configs have never been synced."""
    s = await seed_org(db, **kw)
    async with db.as_service() as conn:
        await conn.execute("delete from provider_configs where agent_config_id = %s", (s.agent_config_id,))
    return s


@pytest.fixture
async def sync_edge(db_url: str, retell_prism, monkeypatch):
    use_settings(monkeypatch, RETELL_BASE_URL=retell_prism.url)
    async with running_edge(db_url) as e:
        yield e


async def test_only_the_service_role_may_call_it(sync_edge) -> None:
    body = webhook("UPDATE", "agent_configs", {"id": "00000000-0000-0000-0000-000000000000"})
    assert (await sync_edge.client.post(SYNC, json=body)).status_code == 401
    assert (await sync_edge.client.post(SYNC, json=body, headers={"authorization": "Bearer nope"})).status_code == 401
    r = await sync_edge.client.post(SYNC, json={"type": "TRUNCATE", "table": "agent_configs"}, headers=bearer())
    assert r.status_code == 400 and "type" in r.json()["error"]
    r = await sync_edge.client.post(SYNC, json=webhook("UPDATE", "users", {"id": "x"}), headers=bearer())
    assert r.status_code == 400


async def test_an_agent_change_is_pushed_once(sync_edge, db: Database, monkeypatch) -> None:
    s = await fresh_agent(db, active="retell")
    record = json.loads(json.dumps(await agent_row(db, s.agent_config_id), default=str))
    r = await sync_edge.client.post(SYNC, json=webhook("UPDATE", "agent_configs", record), headers=bearer())
    assert r.status_code == 200, r.text
    assert [(x["provider"], x["action"]) for x in r.json()["results"]] == [("retell", "created")]
    pc = (await configs(db, s.agent_config_id))["retell"]
    assert pc["sync_status"] == "synced" and pc["agent_id"] and pc["llm_id"] and pc["synced_spec_hash"]
    # The same spec again: nothing is sent (Retell is now a platform that only fails).
    async with FailingPlatform("500") as down:
        sync_edge.runtime.providers._cache.clear()
        from switchboard.settings import reset_settings_cache

        monkeypatch.setenv("RETELL_BASE_URL", down.url)
        reset_settings_cache()
        r = await sync_edge.client.post(SYNC, json=webhook("UPDATE", "agent_configs", record), headers=bearer())
        assert [x["action"] for x in r.json()["results"]] == ["unchanged"] and down.requests == 0
        # A changed spec is pushed — and this time the platform fails: recorded, retried later.
        async with db.as_service() as conn:
            await conn.execute("update agent_configs set prompt = 'New prompt' where id = %s", (s.agent_config_id,))
        r = await sync_edge.client.post(SYNC, json=webhook("UPDATE", "agent_configs", record), headers=bearer())
        assert [x["action"] for x in r.json()["results"]] == ["failed"] and down.requests >= 1
    pc = (await configs(db, s.agent_config_id))["retell"]
    assert pc["sync_status"] == "failed" and pc["sync_attempts"] == 1 and "500" in pc["sync_error"]
    async with db.as_service() as conn:
        due_in = (await (await conn.execute("select extract(epoch from next_sync_at - now()) as s from provider_configs "
                                            "where id = %s", (pc["id"],))).fetchone())["s"]
    assert 0 < due_in <= 5.5  # first back-off
    # The retry loop picks it up once due, against the platform that works again.
    monkeypatch.setenv("RETELL_BASE_URL", registry.operator_settings("retell", sync_edge.runtime.settings).base_url)
    reset_settings_cache()
    sync_edge.runtime.providers._cache.clear()
    from edge_functions.sync_agent import retry_due_syncs

    assert await retry_due_syncs(sync_edge.runtime) == 0  # not due yet
    async with db.as_service() as conn:
        await conn.execute("update provider_configs set next_sync_at = now() - interval '1 second' where id = %s", (pc["id"],))
    assert await retry_due_syncs(sync_edge.runtime) == 1
    pc = (await configs(db, s.agent_config_id))["retell"]
    assert pc["sync_status"] == "synced" and pc["sync_attempts"] == 0 and pc["sync_error"] is None


async def test_fallback_and_split_platforms_get_configs_and_deletes_reach_the_platform(sync_edge, db: Database) -> None:
    s = await fresh_agent(db, active="retell", fallback=["signalwire"], split={"retell": 50, "livekit": 50})
    record = {"id": str(s.agent_config_id)}
    r = await sync_edge.client.post(SYNC, json=webhook("INSERT", "agent_configs", record), headers=bearer())
    assert {x["provider"] for x in r.json()["results"]} == {"retell", "signalwire", "livekit"}
    pc = (await configs(db, s.agent_config_id))["retell"]
    old = json.loads(json.dumps(pc, default=str))
    async with db.as_service() as conn:
        await conn.execute("delete from provider_configs where id = %s", (pc["id"],))
    r = await sync_edge.client.post(SYNC, json=webhook("DELETE", "provider_configs", None, old), headers=bearer())
    assert [(x["provider"], x["action"], x["agent_id"]) for x in r.json()["results"]] == [("retell", "deleted", pc["agent_id"])]


async def test_the_relay_carries_database_changes_to_the_function(db_url: str, db: Database, retell_prism, monkeypatch) -> None:
    """NOTIFY (the migration's triggers) → `switchboard.relay` → POST /functions/v1/sync-agent on a
    real HTTP server running the app → Retell's agent created, ids stored."""
    from edge_functions.app import create_app
    from switchboard.auth import service_role_token
    from switchboard.relay import run_relay

    use_settings(monkeypatch, RETELL_BASE_URL=retell_prism.url)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(database_url=db_url, background_loops=False), host="127.0.0.1",
                                           port=port, log_config=None, lifespan="on"))
    serving = asyncio.create_task(server.serve())
    stop, ready = asyncio.Event(), asyncio.Event()
    relay = asyncio.create_task(run_relay(db_url, f"http://127.0.0.1:{port}{SYNC}", service_role_token(), stop=stop, ready=ready))
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        await asyncio.wait_for(ready.wait(), 10)
        s = await seed_org(db, active="retell")  # its provider_configs rows are inserted as 'synced' by the seed
        async with db.as_service() as conn:
            await conn.execute("update provider_configs set sync_status = 'pending', agent_id = null "
                               "where agent_config_id = %s and provider_id = %s", (s.agent_config_id, s.provider_ids["retell"]))
        for _ in range(200):
            pc = (await configs(db, s.agent_config_id))["retell"]
            if pc["sync_status"] == "synced" and pc["agent_id"]:
                break
            await asyncio.sleep(0.1)
        assert pc["sync_status"] == "synced" and pc["agent_id"] and pc["synced_spec_hash"]
    finally:
        stop.set()
        await asyncio.wait_for(relay, 10)
        server.should_exit = True
        await asyncio.wait_for(serving, 15)


def test_the_supabase_webhook_trigger_is_installed_only_where_supabase_functions_exists(db_url: str) -> None:
    sql = next(MIGRATIONS_DIR.glob("*_edge_db_webhooks.sql")).read_text()
    hosted_block = sql[sql.index("do $$\ndeclare\n  base"):sql.index("-- The sync retry loop")]
    with psycopg.connect(db_url, autocommit=True) as conn:
        def sync_triggers() -> list[str]:
            return [r[0] for r in conn.execute(
                "select tgname from pg_trigger where tgname like '%sync_agent%' order by 1").fetchall()]

        conn.execute(hosted_block)  # plain Postgres: a no-op
        assert sync_triggers() == []
        # A stand-in for Supabase's schema: the same function signature, recording its arguments.
        conn.execute("create schema supabase_functions; create table supabase_functions.calls (args text[]);"
                     "create function supabase_functions.http_request() returns trigger language plpgsql as $f$"
                     " begin insert into supabase_functions.calls values (tg_argv); return null; end $f$")
        conn.execute(hosted_block)  # no target configured: a notice, nothing installed
        assert sync_triggers() == []
        conn.execute("set app.settings.functions_url = 'https://edge.example.com/'")
        conn.execute("set app.settings.service_role_key = 'service-key'")
        conn.execute(hosted_block)
        assert sync_triggers() == ["agent_configs_sync_agent", "provider_configs_sync_agent_insert_delete",
                                   "provider_configs_sync_agent_update"]
        org = conn.execute("insert into organizations (name) values ('x') returning id").fetchone()[0]
        conn.execute("insert into agent_configs (organization_id) values (%s)", (org,))
        [args] = conn.execute("select args from supabase_functions.calls").fetchone()
        assert args[0] == "https://edge.example.com/functions/v1/sync-agent" and args[1] == "POST"
        assert json.loads(args[2])["Authorization"] == "Bearer service-key"
