"""Fixtures of the management API tests: two organisations (A: owner, admin, member; B: owner)
with an agent and calls each, real signed tokens, and an HTTP client on the router mounted on a
bare app over the test's own database. Every response any test receives is kept, and at the end
of the test none may contain a secret value the test sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from edge_functions.api.testapp import create_app
from switchboard.auth import issue_token
from switchboard.db import Database


@dataclass
class User:
    id: UUID
    email: str
    token: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    def token_with(self, **claims: Any) -> str:
        return issue_token(self.id, self.email, extra=claims)


@dataclass
class World:
    org_a: UUID
    org_b: UUID
    owner_a: User
    admin_a: User
    member_a: User
    owner_b: User
    agent_a: UUID
    agent_b: UUID
    calls_a: list[UUID] = field(default_factory=list)
    calls_b: list[UUID] = field(default_factory=list)


async def make_user(db: Database, email: str) -> User:
    user_id = uuid4()
    async with db.pool.connection() as conn:  # auth.users is GoTrue's table, written as its owner
        await conn.execute(
            "insert into auth.users (id, aud, role, email, created_at, updated_at) "
            "values (%s, 'authenticated', 'authenticated', %s, now(), now())",
            (user_id, email),
        )
    return User(user_id, email, issue_token(user_id, email))


async def add_call(conn, org: UUID, agent: UUID, *, provider: str = "retell", started_at: datetime | None,
                   status: str = "ended", direction: str = "inbound", from_number: str = "+14155550100",
                   to_number: str = "+14155550199", arm: str | None = None, cost: str | None = "0.1234") -> UUID:
    row = await (await conn.execute(
        """
        insert into call_records (organization_id, agent_config_id, provider_id, provider_call_id, direction,
          from_number, to_number, status, started_at, ended_at, duration_seconds, transcript, experiment_arm)
        select %s, %s, id, %s, %s, %s, %s, %s, %s::timestamptz, %s::timestamptz + interval '90 seconds', 90, 'Agent: Hello.', %s
        from voice_ai_providers where code = %s returning id
        """,
        (org, agent, uuid4().hex, direction, from_number, to_number, status, started_at, started_at, arm, provider),
    )).fetchone()
    if cost is not None:
        await conn.execute(
            """
            insert into provider_usage (organization_id, provider_id, call_id, usage_date, duration_seconds, cost_amount,
              stt_cost, llm_cost, tts_cost, platform_cost, telephony_cost)
            select %s, provider_id, id, coalesce(started_at, now())::date, 90, %s, 0.01, 0.02, 0.03, 0.05, 0.0134
            from call_records where id = %s
            """,
            (org, cost, row["id"]),
        )
    return row["id"]


@pytest.fixture
async def world(db: Database) -> World:
    return await seed_world(db)


async def seed_world(db: Database) -> World:
    """Two organisations with their people, an agent each, five calls in A and one in B."""
    tag = uuid4().hex[:6]
    owner_a = await make_user(db, f"owner-a-{tag}@example.com")
    admin_a = await make_user(db, f"admin-a-{tag}@example.com")
    member_a = await make_user(db, f"member-a-{tag}@example.com")
    owner_b = await make_user(db, f"owner-b-{tag}@example.com")
    async with db.as_service() as conn:
        orgs = {}
        for name, owner in (("Alpha", owner_a), ("Beta", owner_b)):
            orgs[name] = (await (await conn.execute(
                "insert into organizations (name, created_by) values (%s, %s) returning id", (name, owner.id))).fetchone())["id"]
        await conn.execute(
            "insert into memberships (organization_id, user_id, role) values (%s, %s, 'owner'), (%s, %s, 'admin'), "
            "(%s, %s, 'member'), (%s, %s, 'owner')",
            (orgs["Alpha"], owner_a.id, orgs["Alpha"], admin_a.id, orgs["Alpha"], member_a.id, orgs["Beta"], owner_b.id),
        )
        agents = {}
        for name in ("Alpha", "Beta"):
            agents[name] = (await (await conn.execute(
                """
                insert into agent_configs (organization_id, name, prompt, voice, active_provider_id)
                select %s, %s, 'You answer the phone for a dental practice.',
                       '{"vendor": "openai", "voice_id": "alloy", "custom": false}', id
                from voice_ai_providers where code = 'retell' returning id
                """,
                (orgs[name], f"{name} receptionist"),
            )).fetchone())["id"]
        w = World(orgs["Alpha"], orgs["Beta"], owner_a, admin_a, member_a, owner_b, agents["Alpha"], agents["Beta"])
        now = datetime.now(timezone.utc).replace(microsecond=0)
        for i, provider in enumerate(["retell", "vapi", "signalwire", "livekit", "retell"]):
            w.calls_a.append(await add_call(conn, w.org_a, w.agent_a, provider=provider, started_at=now - timedelta(hours=i)))
        w.calls_b.append(await add_call(conn, w.org_b, w.agent_b, started_at=now, from_number="+442071234567"))
    return w


class LeakGuard:
    """Remembers every secret value sent and every response received."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.responses: list[str] = []

    def secret(self, value: str) -> str:
        self.secrets.add(value)
        return value

    async def record(self, response: httpx.Response) -> None:
        await response.aread()
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.responses.append(headers + "\n\n" + response.text)

    def assert_clean(self) -> None:
        for value in self.secrets:
            for text in self.responses:
                assert value not in text, "a secret value appeared in a response"


@pytest.fixture
def leak_guard() -> LeakGuard:
    return LeakGuard()


@pytest.fixture
async def client(db: Database, leak_guard: LeakGuard) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test",
                                 event_hooks={"response": [leak_guard.record]}) as c:
        yield c
    leak_guard.assert_clean()
