"""How often anyone may try to sign in or sign up: the one policy the admin app's sign-in and the
API's token minting share (both go through `switchboard.auth`).

Invariants:
- Every attempt is counted before the password is looked at (so a limited attempt costs no
  bcrypt and no database round trip), and counted atomically: concurrent attempts cannot slip
  past the limit between a check and a hit.
- Two keys per attempt: the account (the normalised e-mail, whether or not such an account
  exists, so a refusal says nothing about existence) and the client address (when known).
  Either one over its limit refuses the attempt with `RateLimited`, which carries the seconds
  until the next attempt may pass (Retry-After).
- Moving windows (the `limits` library's `MovingWindowRateLimiter`): no burst at a window's edge.

Storage: any `limits.aio.storage.Storage` with `MovingWindowSupport`. The default is the
in-process `MemoryStorage` — per process, so N replicas allow N times the limit. A Postgres
storage (a table of (key, at) entries, `acquire_entry` as one `insert … select … where count <
limit` statement, `get_moving_window` as a count and min) implements the same two methods and
is passed to `AuthLimiter(storage=…)`, or installed with `use(...)`, without touching callers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, MovingWindowSupport, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from switchboard.errors import Limited

__all__ = ["RateLimited", "AuthLimits", "AuthLimiter", "limiter", "use", "reset"]


class RateLimited(Limited):
    """Too many attempts; `retry_after` whole seconds until one may pass."""

    def __init__(self, retry_after: int, message: str = "too many attempts: wait a minute and try again"):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


@dataclass(frozen=True)
class AuthLimits:
    """Per action: (per account, per client address), in `limits`' notation."""

    sign_in_account: str = "10/minute"
    sign_in_address: str = "30/minute"
    sign_up_account: str = "10/minute"
    sign_up_address: str = "10/minute"

    def items(self, action: str) -> tuple[RateLimitItem, RateLimitItem]:
        return parse(getattr(self, f"{action}_account")), parse(getattr(self, f"{action}_address"))


class AuthLimiter:
    def __init__(self, storage: Storage | None = None, limits: AuthLimits | None = None):
        storage = storage if storage is not None else MemoryStorage()
        if not isinstance(storage, MovingWindowSupport):
            raise TypeError("the storage must support moving windows (limits' MovingWindowSupport)")
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)
        self.limits = limits or AuthLimits()
        self._items = {action: self.limits.items(action) for action in ("sign_in", "sign_up")}

    async def attempt(self, action: str, *, account: str, address: str | None = None) -> None:
        """Count one attempt at `action` ("sign_in" or "sign_up"); `RateLimited` if over a limit.
        The address is checked first so an address over its limit does not use up the
        account's allowance (someone else's sign-ins to it from elsewhere)."""
        per_account, per_address = self._items[action]
        checks = [(per_address, "address", address)] if address else []
        checks.append((per_account, "account", account))
        for item, kind, key in checks:
            if not await self.strategy.hit(item, action, kind, key):
                stats = await self.strategy.get_window_stats(item, action, kind, key)
                raise RateLimited(math.ceil(stats.reset_time - time.time()))

    async def clear(self) -> None:
        await self.storage.reset()


_limiter: AuthLimiter | None = None


def limiter() -> AuthLimiter:
    """The process's limiter (created on first use)."""
    global _limiter
    if _limiter is None:
        _limiter = AuthLimiter()
    return _limiter


def use(new: AuthLimiter | None) -> None:
    """Install another limiter (another storage or limits); None: a fresh default on next use."""
    global _limiter
    _limiter = new


def reset() -> None:
    """Forget every attempt counted (tests; the default in-process storage only)."""
    use(None)
