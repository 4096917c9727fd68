"""Fixtures of the edge-functions tests: a seeded organisation (agent, numbers, per-platform
configs) in the per-test database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from uuid import UUID

import pytest
from psycopg.types.json import Jsonb

from switchboard.db import Database


@dataclass
class Seeded:
    organization_id: UUID
    agent_config_id: UUID
    number: str
    provider_ids: dict[str, UUID] = field(default_factory=dict)


async def seed_org(
    db: Database,
    *,
    active: str = "retell",
    fallback: list[str] | None = None,
    split: dict[str, int] | None = None,
    number: str | None = None,
    agent_ids: dict[str, str] | None = None,
) -> Seeded:
    """An organisation with one agent on `active`, a SignalWire number routed to it, and a
    provider_configs row (with the platform's agent id) for each of the four platforms."""
    number = number or "+1555" + str(uuid.uuid4().int)[:7]
    agent_ids = agent_ids or {}
    async with db.as_service() as conn:
        providers = {r["code"]: r["id"] for r in await (await conn.execute("select code, id from voice_ai_providers")).fetchall()}
        org = (await (await conn.execute("insert into organizations (name) values ('Test Dental') returning id")).fetchone())["id"]
        agent = (
            await (
                await conn.execute(
                    """
                    insert into agent_configs (organization_id, name, prompt, begin_message, voice,
                      active_provider_id, fallback_order, traffic_split)
                    values (%s, 'Front desk', 'You are the front desk of a dental practice.', 'Hello, how can I help?',
                      %s, %s, %s, %s) returning id
                    """,
                    (org, Jsonb({"vendor": "openai", "voice_id": "alloy"}), providers[active], fallback or [], Jsonb(split or {})),
                )
            ).fetchone()
        )["id"]
        await conn.execute(
            "insert into phone_numbers (organization_id, agent_config_id, e164) values (%s, %s, %s)", (org, agent, number)
        )
        for code, pid in providers.items():
            await conn.execute(
                """insert into provider_configs (organization_id, agent_config_id, provider_id, agent_id, settings, sync_status)
                   values (%s, %s, %s, %s, %s, 'synced')""",
                (org, agent, pid, agent_ids.get(code, f"{code}-agent-1"), Jsonb({})),
            )
    return Seeded(org, agent, number, providers)


@pytest.fixture
async def seeded(db: Database) -> Seeded:
    return await seed_org(db)
