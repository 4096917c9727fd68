"""The one way to talk to Postgres: an async psycopg pool, and two transaction scopes —
`as_user(claims)` (role `authenticated` with the caller's JWT claims, as PostgREST does, so RLS
applies) and `as_service()` (role `service_role`, for trusted paths only).

A token outlives its user's ban or deletion; `as_user` does not: it refuses a user who is
banned (`auth.users.banned_until` in the future), deleted (`deleted_at`) or gone, as seen at most
`UserStatusCache.ttl` (60 s) ago."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from uuid import UUID

import psycopg
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from switchboard.tenancy import ANON_CLAIMS, SERVICE_CLAIMS, AuthError, Claims

_SET_CLAIMS = "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)"
_USER_STATUS = (
    "select coalesce(deleted_at is not null, false) as deleted, banned_until > now() as banned "
    "from auth.users where id = %s"
)


class UserStatusCache:
    """Whether each user may act, as read from auth.users at most `ttl` seconds ago (bounded:
    past `max_entries` users it starts again empty). `clock` is injectable for tests."""

    def __init__(self, ttl: float = 60.0, *, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[UUID, tuple[float, str | None]] = {}  # user → (read at, refusal or None)

    def get(self, user: UUID) -> tuple[bool, str | None]:
        """(known, refusal): known is False when never read or read over `ttl` ago."""
        entry = self._entries.get(user)
        if entry is None or self.clock() - entry[0] >= self.ttl:
            return False, None
        return True, entry[1]

    def put(self, user: UUID, refusal: str | None) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[user] = (self.clock(), refusal)

    def forget(self, user: UUID | None = None) -> None:
        if user is None:
            self._entries.clear()
        else:
            self._entries.pop(user, None)

    async def check(self, conn: AsyncConnection, user: UUID) -> None:
        """Raise `AuthError` when `user` may not act. `conn` runs as the connecting role (it
        reads auth.users, which the API roles cannot)."""
        known, refusal = self.get(user)
        if not known:
            row = await (await conn.execute(_USER_STATUS, (user,))).fetchone()
            if row is None or row["deleted"]:
                refusal = "this account no longer exists: sign in again"
            elif row["banned"]:
                refusal = "this account is suspended"
            else:
                refusal = None
            self.put(user, refusal)
        if refusal is not None:
            raise AuthError(refusal)


class Database:
    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10, name: str = "switchboard"):
        self.url = url
        kwargs: dict = {"row_factory": dict_row}
        if ":6543" in url or "pooler" in url:
            # Supabase's transaction pooler cannot keep server-side prepared statements.
            kwargs["prepare_threshold"] = None
        self.pool = AsyncConnectionPool(
            url, min_size=min_size, max_size=max_size, open=False, kwargs=kwargs, name=name
        )
        self.user_status = UserStatusCache()

    async def open(self) -> "Database":
        await self.pool.open(wait=True, timeout=30)
        return self

    async def close(self) -> None:
        await self.pool.close()

    async def __aenter__(self) -> "Database":
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def _scope(self, claims: Claims, pipeline: bool = False) -> AsyncIterator[AsyncConnection]:
        if pipeline:
            async with self._pipelined(claims) as conn:
                yield conn
            return
        async with self.pool.connection() as conn:
            async with conn.transaction():
                if claims.role == "authenticated" and claims.sub is not None:
                    await self.user_status.check(conn, claims.sub)
                await conn.execute(_SET_CLAIMS, (claims.role, claims.as_json()))
                yield conn

    @asynccontextmanager
    async def _pipelined(self, claims: Claims) -> AsyncIterator[AsyncConnection]:
        """The transaction of a hot write path in one round trip. psycopg's `transaction()`
        inside a pipeline syncs on entering and on leaving (measured: 2.9–5 ms for BEGIN, the
        claims, one insert and COMMIT on loopback), so the connection is switched to autocommit
        and BEGIN … COMMIT travel as plain statements ahead of the single Sync (0.9–1.3 ms)."""
        async with self.pool.connection() as conn:
            await conn.set_autocommit(True)
            try:
                async with conn.pipeline():
                    await conn.execute("begin")
                    await conn.execute(_SET_CLAIMS, (claims.role, claims.as_json()))
                    try:
                        yield conn
                    except BaseException:
                        await conn.execute("rollback")
                        raise
                    await conn.execute("commit")
            finally:
                # A failed statement leaves the block aborted (the pipeline skipped COMMIT).
                if conn.info.transaction_status != TransactionStatus.IDLE and not conn.closed:
                    await conn.rollback()
                if not conn.closed:
                    await conn.set_autocommit(False)

    def as_user(self, claims: Claims):
        """A transaction as the signed-in user: RLS decides what it may see and do."""
        if claims.role != "authenticated" or claims.sub is None:
            raise PermissionError("as_user needs an authenticated user's claims")
        return self._scope(claims)

    def as_anon(self):
        return self._scope(ANON_CLAIMS)

    def as_service(self, *, pipeline: bool = False):
        """A transaction as service_role (bypasses RLS): webhook ingestion, routing, seeding.
        `pipeline=True` (hot write paths) sends statements without waiting for each other's
        answers — BEGIN, the role, writes whose results are not read and COMMIT cost one round
        trip; an error then surfaces at the next read or when the scope ends."""
        return self._scope(SERVICE_CLAIMS, pipeline)

    @asynccontextmanager
    async def as_owner(self) -> AsyncIterator[AsyncConnection]:
        """A transaction as the connecting role (the tables' owner), for what neither API role
        may do: GoTrue's own tables (auth.users) and bulk loads that pause a trigger."""
        async with self.pool.connection() as conn:
            async with conn.transaction():
                yield conn


def database_unavailable(exc: BaseException) -> bool:
    """Whether an error means the database is unreachable or busy (worth retrying later), as
    opposed to refusing what was asked (a constraint, a bad value). The pool's timeouts are
    OperationalErrors too."""
    return isinstance(exc, (psycopg.OperationalError, OSError, TimeoutError))


def database_url() -> str:
    """DATABASE_URL, or the embedded cluster's URL (started if needed)."""
    from switchboard.settings import get_settings

    s = get_settings()
    if s.database_url:
        return s.database_url
    from switchboard.db.local import default_cluster

    cluster = default_cluster()
    cluster.ensure_running()
    return cluster.url()
