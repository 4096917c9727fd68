"""Versions and the platform sync (Retell on its Prism mock): saving a draft pushes nothing,
publishing it pushes its spec, rolling back pushes the earlier one again."""

from __future__ import annotations

import json

from switchboard import versions
from switchboard.db import Database

from .test_sync_agent import SYNC, agent_row, bearer, configs, fresh_agent, sync_edge, webhook  # noqa: F401 (sync_edge: a fixture)


async def _sync(sync_edge, db: Database, agent_id) -> list[str]:  # noqa: F811
    record = json.loads(json.dumps(await agent_row(db, agent_id), default=str))
    r = await sync_edge.client.post(SYNC, json=webhook("UPDATE", "agent_configs", record), headers=bearer())
    assert r.status_code == 200, r.text
    return [x["action"] for x in r.json()["results"]]


async def test_publish_is_what_syncs(sync_edge, db: Database) -> None:  # noqa: F811
    s = await fresh_agent(db, active="retell")
    agent = s.agent_config_id
    assert await _sync(sync_edge, db, agent) == ["created"]
    first_hash = (await configs(db, agent))["retell"]["synced_spec_hash"]
    async with db.as_service() as conn:
        row = await agent_row(db, agent)
        spec = {k: row[k] for k in ("name", "prompt", "begin_message", "voice", "language", "tools", "analysis",
                                    "max_duration_seconds", "metadata")}
        draft = await versions.save_draft(conn, s.organization_id, agent, {**spec, "prompt": "You take bookings only."})
    assert draft.number == 2 and not draft.live
    assert await _sync(sync_edge, db, agent) == ["unchanged"]  # a draft is not pushed
    async with db.as_service() as conn:
        await versions.publish(conn, s.organization_id, agent, 2)
    assert (await agent_row(db, agent))["prompt"] == "You take bookings only."
    assert await _sync(sync_edge, db, agent) == ["updated"]
    assert (await configs(db, agent))["retell"]["synced_spec_hash"] != first_hash
    async with db.as_service() as conn:
        await versions.publish(conn, s.organization_id, agent, 1)  # roll back
    assert await _sync(sync_edge, db, agent) == ["updated"]
    assert (await configs(db, agent))["retell"]["synced_spec_hash"] == first_hash


async def test_the_routers_spec_read_names_the_live_version(db: Database) -> None:
    from switchboard.inbound import lookup_number

    from .conftest import seed_org

    s = await seed_org(db, active="signalwire")
    async with db.as_service() as conn:
        first = await versions.get_version(conn, s.organization_id, s.agent_config_id, 1)
        assert (await lookup_number(conn, s.number)).agent_version_id == first.id
        second = await versions.save_draft(conn, s.organization_id, s.agent_config_id, {**first.spec, "prompt": "Version two."})
        assert (await lookup_number(conn, s.number)).agent_version_id == first.id  # a draft serves no call
        await versions.publish(conn, s.organization_id, s.agent_config_id, second.number)
        route = await lookup_number(conn, s.number)
    assert route.agent_version_id == second.id and route.spec.prompt == "Version two."
