"""The edge-functions server: every function at /functions/v1/<name>, the management API at
/api (when its package is installed), OpenAPI at /docs and /openapi.json, Prometheus at
/metrics, liveness and database reachability at /health.

Served by `switchboard serve functions` (uvicorn, import string `edge_functions.app:app`).
Background loops in each process: flush the health buckets (1 s), drain webhook-inbox rows
left pending under load or by a crash (1 s), retry agent syncs that are due (10 s), refresh the
price book.
Every loop only touches the database, so any number of replicas can run side by side.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager, suppress

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from opentelemetry import propagate
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge_functions import metrics
from edge_functions.body_limit import BodyLimitMiddleware
from edge_functions.runtime import Runtime
from switchboard import telemetry
from switchboard.batching import GroupWriter
from switchboard.db import Database
from switchboard.health import CircuitBreaker
from switchboard.inbound import InboundRouter
from switchboard.ingest import store_webhooks
from switchboard.logs import call_context, current_context
from switchboard.platforms import PlatformSource
from switchboard.settings import Settings, get_settings

log = logging.getLogger("edge_functions")
FUNCTIONS_PREFIX = "/functions/v1"
DB_REQUEST_TIMEOUT = 3.0  # seconds a request waits for a pooled connection before answering 503
FUNCTIONS = ("voice-ai-router", "provider-webhook-router", "webhook-inbound-call", "sync-agent", "signalwire-chat-swml")
# The names requests are counted under; anything else is "other".
METRIC_NAMES = frozenset((*FUNCTIONS, "api", "root", "health", "metrics", "docs", "openapi.json", "redoc"))


class ObservabilityMiddleware:
    """Per request: a request id and the function name in every log line, one JSON access line,
    and the request counter and latency histogram per function (a plain ASGI middleware: it
    adds no copy of the body and no extra task)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(FUNCTIONS_PREFIX + "/"):
            function = path[len(FUNCTIONS_PREFIX) + 1:].split("/", 1)[0]
        elif path.startswith("/api/"):
            function = "api"
        else:
            function = path.strip("/") or "root"
        if function not in METRIC_NAMES:  # any path may be asked for: the label set stays bounded
            function = "other"
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        t0 = time.perf_counter()
        with call_context(request_id=os.urandom(8).hex(), function=function), _request_span(scope, function) as span:
            try:
                await self.app(scope, receive, send_wrapper)
            finally:
                elapsed = time.perf_counter() - t0
                if span.is_recording():
                    _end_request_span(span, scope, status["code"])
                metrics.child(metrics.REQUESTS, function, str(status["code"])).inc()
                metrics.child(metrics.LATENCY, function).observe(elapsed)
                if log.isEnabledFor(logging.INFO) and function not in ("metrics", "health"):
                    log.info("request", extra={"method": scope["method"], "path": path, "status": status["code"],
                                               "ms": round(elapsed * 1000, 2), **current_context()})


# opentelemetry-instrumentation-asgi is not installed: a plain server span per request, built
# only while tracing (the hot path pays one check otherwise).
def _request_span(scope: Scope, function: str):
    if not telemetry.enabled():
        return telemetry.span(function)  # the shared no-op
    carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in (b"traceparent", b"tracestate")}
    return telemetry.span(f"{scope['method']} {function}", {"http.request.method": scope["method"], "switchboard.function": function},
                          kind=telemetry.SpanKind.SERVER, context=propagate.extract(carrier) if carrier else None)


def _end_request_span(span, scope: Scope, status: int) -> None:
    span.set_attribute("http.response.status_code", status)
    if (route := scope.get("route")) is not None:  # FastAPI's routes (the fast path has none)
        span.set_attribute("http.route", getattr(route, "path", ""))
    telemetry.failed(span, "server error" if status >= 500 else None)


Endpoint = Callable[[Request], Awaitable[Response]]


class EdgeFunctionsApp(FastAPI):
    """FastAPI for everything but the two hot functions' POSTs (voice-ai-router and an
    organisation's provider-webhook-router), which go straight to their handlers: FastAPI's
    middleware stack, routing and parameter handling cost about a third of a routing decision's
    CPU. The fast path keeps what the stack gave them — the observability middleware, the body
    limit (413) and the 503 when the database is down. Their FastAPI routes stay: they document them in OpenAPI and
    answer whatever the fast path does not match (a bad provider or organisation id → 422)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fast_routes: dict[str, Endpoint] = {}  # exact path → endpoint
        self.fast_prefixes: list[tuple[str, Callable[[str], Endpoint | None]]] = []  # prefix → matcher of the rest
        # The same door as FastAPI's stack (create_app adds it there): bodies over the limit → 413.
        self._fast = ObservabilityMiddleware(BodyLimitMiddleware(self._serve_fast))

    def fast_endpoint(self, path: str) -> Endpoint | None:
        endpoint = self.fast_routes.get(path)
        if endpoint is None:
            for prefix, match in self.fast_prefixes:
                if path.startswith(prefix):
                    return match(path[len(prefix):])
        return endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self.fast_endpoint(scope["path"])
            if endpoint is not None:
                scope["app"] = self
                scope["endpoint"] = endpoint
                await self._fast(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def _serve_fast(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await scope["endpoint"](request)
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            response = database_down(exc)
        await response(scope, receive, send)


def database_down(exc: Exception) -> JSONResponse:
    log.error("database unavailable: %s", type(exc).__name__)
    return JSONResponse({"error": "database unavailable, retry later"}, status_code=503, headers={"Retry-After": "5"})


async def _every(seconds: float, what: str, fn: Callable[[], Awaitable[object]]) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await fn()
        except asyncio.CancelledError:
            raise
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            log.warning("%s: database unavailable (%s)", what, type(exc).__name__)
        except Exception:
            log.exception("%s failed", what)


def create_app(*, database_url: str | None = None, settings: Settings | None = None,
               background_loops: bool = True) -> EdgeFunctionsApp:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        s = settings or get_settings()
        telemetry.configure("switchboard-edge-functions")  # only with OTEL_EXPORTER_OTLP_ENDPOINT set
        if database_url:
            url = database_url
        else:
            from switchboard.db.pool import database_url as default_url

            url = default_url()
        db = Database(url, min_size=s.db_pool_min, max_size=s.db_pool_max, name="edge-functions")
        db.pool.timeout = DB_REQUEST_TIMEOUT
        # Do not wait for the database: the server starts and answers 503 until it is reachable.
        await db.pool.open(wait=False)
        breaker = CircuitBreaker(db)
        providers = PlatformSource(db, s)
        router = InboundRouter(db, breaker, providers, on_attempt=_count_attempt,
                               on_records_dropped=metrics.ROUTING_RECORDS_DROPPED.inc)
        metrics.ROUTING_RECORDS_PENDING.set_function(lambda: router.records.pending)
        rt = Runtime(settings=s, db=db, breaker=breaker, providers=providers, router=router)

        async def store(items):
            async with db.as_service(pipeline=True) as conn:
                return await store_webhooks(conn, items)

        rt.inbox = GroupWriter(store)
        app.state.runtime = rt
        tasks: list[asyncio.Task] = []
        if background_loops:
            from edge_functions.provider_webhook_router import drain_inbox
            from edge_functions.sync_agent import retry_due_syncs
            from switchboard.scenarios.leases import sweep_interrupted

            tasks = [
                asyncio.create_task(_every(1.0, "health flush", breaker.flush)),
                asyncio.create_task(_every(1.0, "inbox drain", lambda: drain_inbox(rt))),
                asyncio.create_task(_every(10.0, "agent sync retry", lambda: retry_due_syncs(rt))),
                asyncio.create_task(_every(30.0, "interrupted scenario runs", lambda: sweep_interrupted(db))),
                asyncio.create_task(_every(600.0, "price book refresh", lambda: _load_prices(rt))),
            ]
        # Platform SDKs take seconds to import (retell-sdk ~3 s of CPU): load them before
        # serving, not inside the first call's hand-off budget.
        await asyncio.to_thread(_preload_adapters)
        with suppress(Exception):
            await asyncio.wait_for(_load_prices(rt), timeout=5)
        # What is loaded by now lives as long as the process: keep it out of the collector's
        # scans. A full collection walks ~300k objects (the SDKs, pydantic's schemas): ~180 ms
        # with the event loop stopped, every call in flight waiting.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with suppress(asyncio.CancelledError, Exception):
                    await t
            if rt.background:
                await asyncio.wait(list(rt.background), timeout=5)
            with suppress(TimeoutError):
                await router.records.flush(timeout=5)
            with suppress(Exception):
                await breaker.flush()
            await providers.aclose()
            await db.close()

    app = EdgeFunctionsApp(
        title="Switchboard edge functions",
        version="1.0.0",
        description=(
            "Route inbound calls across voice-AI platforms, ingest every provider webhook once, "
            "answer pre-call webhooks and sync agent specs to the platforms."
        ),
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimitMiddleware)  # inside the observability one: a 413 is logged and counted
    app.add_middleware(ObservabilityMiddleware)

    from edge_functions import (
        provider_webhook_router, signalwire_chat_swml, sync_agent, voice_ai_router, webhook_inbound_call,
    )

    for part in (voice_ai_router.router, provider_webhook_router.make_router(), webhook_inbound_call.make_router(),
                 sync_agent.router, signalwire_chat_swml.router):
        app.include_router(part, prefix=FUNCTIONS_PREFIX)
    app.fast_routes[f"{FUNCTIONS_PREFIX}/voice-ai-router"] = voice_ai_router.voice_ai_router
    app.fast_prefixes.append((f"{FUNCTIONS_PREFIX}/provider-webhook-router/", provider_webhook_router.fast_endpoint))

    try:  # the management REST API, built beside us; the functions work without it
        from edge_functions.api import router as api_router
    except ImportError as exc:
        if exc.name is not None and not exc.name.startswith("edge_functions.api"):
            raise
    else:
        app.include_router(api_router, prefix="/api")

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(psycopg_pool.PoolTimeout)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        return database_down(exc)

    @app.get("/health", tags=["server"], summary="Liveness and database reachability")
    async def health(request: Request) -> JSONResponse:
        rt: Runtime = request.app.state.runtime
        try:
            async with asyncio.timeout(2):
                async with rt.db.pool.connection() as conn:
                    await conn.execute("select 1")
            return JSONResponse({"status": "ok", "database": "ok"})
        except Exception as exc:
            return JSONResponse({"status": "degraded", "database": type(exc).__name__}, status_code=503)

    @app.get("/metrics", tags=["server"], summary="Prometheus metrics", response_class=Response)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def _count_attempt(attempt) -> None:
    metrics.child(metrics.HANDOFF_LATENCY, attempt.provider, str(attempt.ok).lower()).observe(attempt.latency_ms / 1000)
    if not attempt.ok:
        metrics.child(metrics.HANDOFF_FAILURES, attempt.provider).inc()


def _preload_adapters() -> None:
    from switchboard.providers.registry import PLATFORMS, provider_class

    for code in PLATFORMS:
        provider_class(code)


async def _load_prices(rt: Runtime) -> None:
    from switchboard.billing import load_price_book

    async with rt.db.as_service() as conn:
        rt.prices = await load_price_book(conn)
    rt.providers.prices = rt.prices


app = create_app()
