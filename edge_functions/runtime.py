"""What every function shares in one process: the database, the circuit breaker, the platform
adapters and the price book — built in the app's lifespan, reached through `runtime(request)`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from switchboard.batching import GroupWriter
from switchboard.db import Database
from switchboard.ingest import InboxItem
from switchboard.health import CircuitBreaker
from switchboard.inbound import InboundRouter
from switchboard.settings import Settings

if TYPE_CHECKING:
    from switchboard.billing import PriceBook
    from switchboard.platforms import PlatformSource


@dataclass
class Runtime:
    settings: Settings
    db: Database
    breaker: CircuitBreaker
    providers: PlatformSource
    router: InboundRouter
    inbox: GroupWriter[InboxItem, bool] | None = None  # group commit of verified webhooks
    prices: PriceBook | None = None
    background: set = field(default_factory=set)
    # Processing after the answer is bounded, so a burst of webhooks cannot starve the
    # requests of connections; what waits is safe in the inbox.
    processing: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))

    def spawn(self, coro) -> asyncio.Task:
        """Run work after the response, keeping a reference so it is not collected mid-way
        (and so shutdown can wait for it)."""
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    def public_url(self, request: Request) -> str:
        """The URL the provider called (what it signed): PUBLIC_BASE_URL + path + query."""
        url = self.settings.public_base_url.rstrip("/") + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        return url


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime
