"""What every function shares in one process: the database, the circuit breaker, the platform
adapters, the price book and the webhook inbox — built in the app's lifespan, reached through
`runtime(request)`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from switchboard.batching import GroupWriter
from switchboard.db import Database
from switchboard.health import CircuitBreaker
from switchboard.inbound import InboundRouter
from switchboard.inbox import WebhookInbox
from switchboard.ingest import InboxItem
from switchboard.providers.base import VoiceAIProvider, WebhookRejected
from switchboard.settings import Settings
from switchboard.spec import WebhookRequest

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

    _webhooks: WebhookInbox | None = field(default=None, repr=False)

    @property
    def webhooks(self) -> WebhookInbox:
        """The webhook inbox (switchboard.inbox), sharing this runtime's group commit, price book,
        processing slots and background tasks."""
        if self._webhooks is None:
            from edge_functions import metrics

            self._webhooks = WebhookInbox(
                self.db, self.providers, self.breaker, prices=lambda: self.prices, load_prices=self.load_prices,
                spawn=self.spawn, processing=self.processing, writer=self.inbox,
                count=lambda code, outcome: metrics.child(metrics.WEBHOOKS, code, outcome).inc(),
            )
        return self._webhooks

    async def load_prices(self) -> None:
        """(Re)load the price book for everything in this process."""
        from switchboard import billing

        async with self.db.as_service() as conn:
            self.prices = await billing.load_price_book(conn)
        self.providers.prices = self.prices

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
