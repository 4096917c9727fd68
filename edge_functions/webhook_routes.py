"""The two routes every platform webhook function serves: `<path>/<provider>/<organization id>`
(that organisation's keys check the signature, else the server's defaults) and `<path>/<provider>`
(the server's defaults, or the keys of the organisation `?organization_id=` names). Both take a
JSON object and hand it to the function's one handler.

No `from __future__ import annotations`: the routes' annotations are evaluated here, as FastAPI
reads them, and the `platforms` type is the caller's, built from the registry."""

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from edge_functions.runtime import Runtime, runtime

Handler = Callable[[Runtime, str, UUID | None, Request], Awaitable[JSONResponse]]
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


def add_webhook_routes(router: APIRouter, path: str, platforms: Any, handler: Handler, *, names: tuple[str, str],
                       summaries: tuple[str, str], responses: dict[int, dict[str, Any]]) -> None:
    """`names` and `summaries`: the per-organisation route's, then the server-default one's (the
    names are the OpenAPI operation ids' stems)."""

    @router.post(f"{path}/{{provider}}/{{organization_id}}", name=names[0], summary=summaries[0],
                 responses=responses, openapi_extra=_BODY)
    async def for_organisation(provider: platforms, organization_id: UUID, request: Request) -> JSONResponse:
        return await handler(runtime(request), provider, organization_id, request)

    @router.post(f"{path}/{{provider}}", name=names[1], summary=summaries[1], responses=responses, openapi_extra=_BODY)
    async def with_default_keys(provider: platforms, request: Request,
                                organization_id: UUID | None = Query(None, description="The organisation whose keys sign it"),
                                ) -> JSONResponse:
        return await handler(runtime(request), provider, organization_id, request)
