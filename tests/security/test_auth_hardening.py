"""Sign-in, sign-up and tokens against an attacker: brute force and credential stuffing get 429
with Retry-After (per account and per client address, without telling whether the account
exists), weak passwords are refused in words, tokens must be for the `authenticated`
audience, and a banned or deleted user's token stops working within a minute."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from edge_functions.api.testapp import create_app
from switchboard import auth
from switchboard.db import Database
from switchboard.settings import get_settings, reset_settings_cache
from tests.api.conftest import seed_world

STRONG = "violet-harbour-tangent-92"


@pytest.fixture(autouse=True)
def fresh_limits():
    """Every test starts with no attempts counted."""
    try:
        from switchboard import ratelimit
    except ImportError:  # the code before the limits existed
        yield
        return
    ratelimit.reset()
    yield
    ratelimit.reset()


@asynccontextmanager
async def api(db: Database, address: str = "203.0.113.7") -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(db)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


async def _mint(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/token", json={"email": email, "password": password})


def _shape(r: httpx.Response) -> tuple:
    """What an answer tells, but the seconds to wait (they tick between two runs)."""
    return r.status_code, r.json()["code"], re.sub(r"\d+", "N", r.json()["message"]), "retry-after" in r.headers


async def test_sign_in_brute_force_gets_429_with_retry_after(db: Database) -> None:
    """One account guessed at from one address: 10 tries a minute, then 429 with Retry-After —
    even for the right password — and an unknown account answers exactly the same."""
    await auth.sign_up(db, "victim@example.com", STRONG)
    shapes = {}
    for email, address in (("victim@example.com", "203.0.113.7"), ("nobody@example.com", "203.0.113.8")):
        async with api(db, address) as client:
            answers = [await _mint(client, email, f"guess-{i}") for i in range(12)]
            assert [r.status_code for r in answers[:10]] == [401] * 10
            assert [r.status_code for r in answers[10:]] == [429, 429]
            last = answers[-1]
            assert last.json()["code"] == "rate_limited"
            assert 1 <= int(last.headers["Retry-After"]) <= 60
            right = await _mint(client, email, STRONG)
            assert right.status_code == 429, "a right guess must not get through once limited"
            shapes[email] = [_shape(r) for r in answers] + [_shape(right)]
    assert shapes["victim@example.com"] == shapes["nobody@example.com"], "the answers tell whether the account exists"

    # from another address, and through the app's sign-in (the core), the account is still limited
    async with api(db, "198.51.100.9") as client:
        assert (await _mint(client, "victim@example.com", STRONG)).status_code == 429
    with pytest.raises(auth.AuthError) as err:
        await auth.sign_in(db, "victim@example.com", STRONG)
    assert "too many" in str(err.value).lower()


async def test_credential_stuffing_from_one_address_gets_429(db: Database) -> None:
    """Many accounts tried from one address: 30 a minute, then 429."""
    async with api(db, "192.0.2.50") as client:
        statuses = [(await _mint(client, f"user{i}@example.com", "Winter2024!")).status_code for i in range(33)]
    assert statuses[:30] == [401] * 30 and statuses[30:] == [429] * 3
    async with api(db, "192.0.2.51") as client:  # someone else is not affected
        assert (await _mint(client, "user0@example.com", "Winter2024!")).status_code == 401


async def test_sign_up_flood_from_one_address_gets_429(db: Database) -> None:
    statuses = []
    for i in range(12):
        try:
            await auth.sign_up(db, f"bot{i}@example.com", STRONG, client="192.0.2.77")
            statuses.append("ok")
        except auth.AuthError as exc:
            statuses.append("429" if "too many" in str(exc).lower() else str(exc))
        except TypeError:  # no client address known to sign_up: nothing limits it
            await auth.sign_up(db, f"bot{i}@example.com", STRONG)
            statuses.append("ok")
    assert statuses[:10] == ["ok"] * 10 and statuses[10:] == ["429", "429"]


async def test_weak_password_refused_in_words(db: Database) -> None:
    for i, weak in enumerate(("password", "12345678", "qwertyuiop", "switchboard", "abcabcabcabc")):
        with pytest.raises(auth.AuthError) as err:
            await auth.sign_up(db, f"weak{i}@example.com", weak)
        message = str(err.value)
        assert message.startswith("This password is too easy to guess"), message
        assert weak == "password" or weak not in message
    with pytest.raises(auth.AuthError) as err:
        await auth.sign_up(db, "weak@example.com", "password")
    assert "common password" in str(err.value)
    with pytest.raises(auth.AuthError, match="at least"):
        await auth.sign_up(db, "short@example.com", "x7#Qp")
    assert (await auth.sign_up(db, "strong@example.com", STRONG)).email == "strong@example.com"


def test_weak_password_refused_in_words_by_the_users_cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.cli import app

    monkeypatch.setenv("DATABASE_URL", db_url)
    reset_settings_cache()
    try:
        out = CliRunner().invoke(app, ["users", "create", "cli-weak@example.com", "--password", "12345678"])
    finally:
        monkeypatch.delenv("DATABASE_URL")
        reset_settings_cache()
    assert out.exit_code == 1 and "too easy to guess" in out.output


async def test_token_without_authenticated_audience_refused(db: Database) -> None:
    world = await seed_world(db)
    secret = get_settings().resolved_jwt_secret()
    now = int(time.time())
    base = {"sub": str(world.owner_a.id), "role": "authenticated", "email": world.owner_a.email, "exp": now + 600}
    bad = {
        "no audience": jwt.encode(base, secret, algorithm="HS256"),
        "another audience": jwt.encode({**base, "aud": "storage-service"}, secret, algorithm="HS256"),
        "a list without ours": jwt.encode({**base, "aud": ["other", "api"]}, secret, algorithm="HS256"),
    }
    async with api(db) as client:
        assert (await client.get("/api/agents", headers=world.owner_a.headers())).status_code == 200
        for why, token in bad.items():
            with pytest.raises(auth.AuthError, match="audience"):
                auth.verify_token(token)
            r = await client.get("/api/agents", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, why
    # Supabase's own service_role key carries no audience and still works where it is allowed
    assert auth.verify_token(auth.service_role_token()).role == "service_role"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_banned_user_token_stops_working_within_a_minute(db: Database) -> None:
    world = await seed_world(db)
    clock = Clock()
    cache = getattr(db, "user_status", None)
    if cache is not None:
        cache.clock = clock
    async with api(db) as client:
        for user in (world.owner_a, world.admin_a):
            assert (await client.get("/api/agents", headers=user.headers())).status_code == 200
        async with db.as_owner() as conn:
            await conn.execute("update auth.users set banned_until = now() + interval '7 days' where id = %s", (world.owner_a.id,))
            await conn.execute("update auth.users set deleted_at = now() where id = %s", (world.admin_a.id,))
        clock.now += 60
        for user in (world.owner_a, world.admin_a):
            r = await client.get("/api/agents", headers=user.headers())
            assert r.status_code == 401, f"{user.email}'s token still works a minute after the ban"
        assert (await client.get("/api/agents", headers=world.member_a.headers())).status_code == 200
    # the app's path (every page runs db.as_user with the token's claims)
    claims = auth.verify_token(world.owner_a.token)
    with pytest.raises(auth.AuthError, match="suspended"):
        async with db.as_user(claims):
            pass
    # a ban that has run out lets the user back in, within the same minute
    async with db.as_owner() as conn:
        await conn.execute("update auth.users set banned_until = now() - interval '1 second' where id = %s", (world.owner_a.id,))
    clock.now += 60
    async with db.as_user(claims) as conn:
        assert (await (await conn.execute("select auth.uid() as me")).fetchone())["me"] == world.owner_a.id


async def test_token_of_a_user_that_does_not_exist_refused(db: Database) -> None:
    """A well-signed token for a user id that is not (or no longer) in auth.users is refused
    when used, not taken for an empty account."""
    ghost = auth.issue_token(uuid.uuid4(), "ghost@example.com")
    assert auth.verify_token(ghost).email == "ghost@example.com"  # the signature alone is fine
    async with api(db) as client:
        r = await client.get("/api/agents", headers={"Authorization": f"Bearer {ghost}"})
    assert r.status_code == 401
