"""The management REST API (the STT/TTS/LLM vendor catalogue and configs, agents, calls and usage): a thin FastAPI
router over the core, mounted by the edge-functions server at `/api`. It takes the database
from the edge server's runtime (`app.state.runtime.db`), or `app.state.db` on a bare app."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Response
from fastapi.routing import APIRoute

from edge_functions.api import (
    agents, calls, conversations, invitations, outbound, providers, scenarios, tokens, usage, versions, web_calls,
)
from edge_functions.api.errors import ApiRoute, error_response, errors

HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}



def _answer_other_methods(r: APIRouter) -> APIRouter:
    """A path served by several routes (GET, PUT, DELETE …) answers any other method with 405
    and an `Allow` header listing all of them (Starlette alone lists only the first route's)."""
    methods: dict[str, set[str]] = defaultdict(set)
    for route in r.routes:
        if isinstance(route, APIRoute):
            methods[route.path] |= route.methods
    for path, allowed in methods.items():
        r.add_api_route(path, _method_not_allowed(", ".join(sorted(allowed))),
                        methods=sorted(HTTP_METHODS - allowed), include_in_schema=False, route_class_override=APIRoute)
    return r


def _method_not_allowed(allow: str):
    async def method_not_allowed() -> Response:
        return error_response(405, "method_not_allowed", f"this resource answers {allow}", headers={"Allow": allow})

    return method_not_allowed


# Placing a call shares /calls with the list: one part (their routes themselves, as
# `_answer_other_methods` reads them), so other methods there answer 405 listing both.
_calls = APIRouter(route_class=ApiRoute)
_calls.routes.extend([*calls.router.routes, *outbound.router.routes])

router = APIRouter(route_class=ApiRoute, responses=errors(503))
for _part in (tokens.router, providers.router, agents.router, versions.router, conversations.router, scenarios.router,
              _calls, outbound.do_not_call_router, usage.router, invitations.accept_router, invitations.router,
              web_calls.router):
    router.include_router(_answer_other_methods(_part))

__all__ = ["router"]
