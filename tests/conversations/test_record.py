"""A conversation's calls-list entry is kept out of the dashboards by the database itself: it
can have no experiment arm and no usage row; a member writes chat rows only, never a phone call's."""

from __future__ import annotations

import psycopg
import pytest

from switchboard.db import Database
from tests.api.conftest import seed_world


async def _chat_row(conn, org, agent, **extra) -> dict:
    cols = {"organization_id": org, "agent_config_id": agent, "direction": "chat", "status": "ongoing", **extra}
    return await (await conn.execute(
        f"insert into call_records ({', '.join(cols)}) values ({', '.join(['%s'] * len(cols))}) returning id",
        tuple(cols.values()))).fetchone()


async def test_a_chat_row_has_no_arm_and_no_usage(db: Database) -> None:
    w = await seed_world(db)
    with pytest.raises(psycopg.errors.CheckViolation):
        async with db.as_service() as conn:
            await _chat_row(conn, w.org_a, w.agent_a, experiment_arm="retell")
    async with db.as_service() as conn:
        row = await _chat_row(conn, w.org_a, w.agent_a)
    with pytest.raises(psycopg.errors.CheckViolation):
        async with db.as_service() as conn:
            await conn.execute("insert into provider_usage (organization_id, call_id, cost_amount) values (%s, %s, 1)",
                               (w.org_a, row["id"]))


async def test_a_member_writes_chat_rows_only_in_their_organisation(db: Database) -> None:
    w = await seed_world(db)
    from switchboard.auth import verify_token

    member = verify_token(w.member_a.token)
    async with db.as_user(member) as conn:
        await _chat_row(conn, w.org_a, w.agent_a)
    for org, agent, direction in ((w.org_a, w.agent_a, "inbound"), (w.org_b, w.agent_b, "chat")):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            async with db.as_user(member) as conn:
                await _chat_row(conn, org, agent, direction=direction)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # nor turn a chat into a phone call
        async with db.as_user(member) as conn:
            row = await _chat_row(conn, w.org_a, w.agent_a)
            await conn.execute("update call_records set direction = 'inbound' where id = %s", (row["id"],))
