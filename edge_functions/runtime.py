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
from switchboard.providers.base import VoiceAIProvider, WebhookRejected, WebhookRequest
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
        # The path as Starlette's request.url spells it, without building the whole URL.
        path = request.scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
        url = self.settings.public_base_url.rstrip("/") + path
        query = request.scope.get("query_string", b"")
        if query:
            url += "?" + query.decode("latin-1")
        return url

    def verify_signed(self, provider: VoiceAIProvider, request: Request, headers: dict[str, str],
                      body: bytes) -> WebhookRequest:
        """The request as verified: signed for the public URL (what the platform called) or,
        behind no proxy, for the URL as received (built only when the first check fails).
        Raises WebhookRejected."""
        public = self.public_url(request)
        signed = WebhookRequest(headers=headers, body=body, url=public)
        try:
            provider.verify_webhook(signed)
        except WebhookRejected:
            received = str(request.url)
            if received == public:
                raise
            signed = WebhookRequest(headers=headers, body=body, url=received)
            provider.verify_webhook(signed)
        return signed


def request_headers(request: Request) -> dict[str, str]:
    """The request's headers as a plain dict, names lower-case (as ASGI gives them; a repeated
    header keeps its last value)."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}


def runtime(request: Request) -> Runtime:
    return request.app.state.runtime
