"""One error shape for every failure of the management API, and the route class that turns the
core's errors into it. Living in the router (not the app), it travels wherever the router is
mounted. No error body ever echoes a request's input (it could be a secret)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import psycopg
import psycopg_pool

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException  # FastAPI raises Starlette's (the base of its own)

from switchboard.errors import (
    Conflict, FieldError, Forbidden, Gone, InvalidInput, Limited, NotFound, PreconditionFailed, PreconditionRequired,
    Refused, SwitchboardError, Unauthenticated, Unavailable, Upstream, field_message,
)


log = logging.getLogger("switchboard.api")
# What the caller reads when something we need is down: the cause (a setting, a host) is the
# operator's business and goes to the log.
UNAVAILABLE = "a service this needs is unavailable; retry later"


class ErrorField(BaseModel):
    field: str = Field(description="dotted path of the offending input: config.temperature, limit, X-Organization-Id")
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="unauthorized, forbidden, not_found, invalid_input, precondition_required, "
                                  "precondition_failed, conflict, gone, rate_limited, payload_too_large, or a sharper one (invitation_expired, …)")
    message: str
    fields: list[ErrorField] = []


class Unauthorized(Unauthenticated):
    """No bearer token at all (a bad one is the core's AuthError)."""


# One status per family of the core's errors (switchboard.errors); a class is never listed.
STATUS: dict[type[SwitchboardError], int] = {
    Unauthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409, Gone: 410, PreconditionFailed: 412,
    Refused: 422, PreconditionRequired: 428, Limited: 429, Upstream: 502, Unavailable: 503,
}


def status_of(exc: SwitchboardError) -> int:
    """The status of the error's nearest family in STATUS (an InvitationExpired is a Gone: 410)."""
    return next((STATUS[k] for k in type(exc).__mro__ if k in STATUS), 400)


def _headers(exc: SwitchboardError, status: int) -> dict[str, str] | None:
    if status == 401:
        return {"WWW-Authenticate": "Bearer" if isinstance(exc, Unauthorized) else 'Bearer error="invalid_token"'}
    if status == 429:
        return {"Retry-After": str(getattr(exc, "retry_after", Limited.retry_after))}
    if status == 503:
        return {"Retry-After": "5"}
    return None


def error_response(status: int, code: str, message: str, fields: list[ErrorField] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(code=code, message=message, fields=fields or [])
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _loc(loc: tuple[Any, ...]) -> str:
    """FastAPI's error location as the caller wrote it: body fields dotted from the body's root,
    query/path/header parameters by name."""
    where, *rest = loc or ("body",)
    out = ""
    for part in rest:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or str(where)


def from_exception(exc: Exception) -> Response:
    if isinstance(exc, SwitchboardError):
        status = status_of(exc)
        fields = [ErrorField(field=e.field, message=e.message) for e in exc.errors] if isinstance(exc, InvalidInput) else None
        message = str(exc)
        if status == 503:
            log.warning("unavailable: %s", exc)
            message = UNAVAILABLE
        return error_response(status, exc.code, message, fields, headers=_headers(exc, status))
    if isinstance(exc, RequestValidationError):
        fields = [ErrorField(field=_loc(tuple(e.get("loc", ()))), message=field_message(e)) for e in exc.errors()]
        return error_response(422, "invalid_input", "; ".join(f"{f.field}: {f.message}" for f in fields), fields)
    if isinstance(exc, (psycopg.OperationalError, psycopg_pool.PoolTimeout)):
        return error_response(503, "unavailable", "the database is unavailable; retry later", headers={"Retry-After": "5"})
    if isinstance(exc, psycopg.DataError):  # the database refused a value; its message may quote it
        return error_response(422, "invalid_input", f"a value is not acceptable (SQLSTATE {exc.sqlstate})")
    if isinstance(exc, HTTPException) and exc.status_code == 400:  # FastAPI could not parse the body
        return error_response(422, "invalid_input", "body: is not valid JSON", [ErrorField(field="body", message="is not valid JSON")])
    if isinstance(exc, HTTPException):
        return error_response(exc.status_code, "error", str(exc.detail), headers=exc.headers)
    raise exc


def query_parameters(dependant: Dependant) -> frozenset[str]:
    """Every query parameter a route declares, through its dependencies and query models."""
    names: set[str] = set()
    stack = [dependant]
    while stack:
        d = stack.pop()
        stack.extend(d.dependencies)
        for field in d.query_params:
            annotation = field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                names |= {f.alias or n for n, f in annotation.model_fields.items()}
            else:
                names.add(field.alias)
    return frozenset(names)


def _nul_paths(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        out = [f"{path}.{k}".lstrip(".") for k in value if "\x00" in str(k)]
        for k, v in value.items():
            out += _nul_paths(v, f"{path}.{k}".lstrip("."))
        return out
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, f"{path}[{i}]")]
    return []


async def _refuse_nul(request: Request) -> None:
    """Postgres text cannot hold NUL characters: refuse them up front, naming where they are."""
    fields = [name for name, v in {**request.path_params, **request.query_params}.items() if "\x00" in str(v)]
    body = await request.body()  # cached: FastAPI reads the same bytes afterwards
    if body and b"\\u0000" in body:
        try:
            fields += _nul_paths(json.loads(body), "") or ["body"]
        except ValueError:
            pass  # not JSON: FastAPI's own parsing reports it
    if fields:
        raise InvalidInput([FieldError(f or "body", "may not contain NUL characters") for f in fields])


class ApiRoute(APIRoute):
    """Maps the core's errors (and FastAPI's request validation) to `ErrorBody` responses, and
    refuses query parameters the route does not know (a typo must not silently widen a filter)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known = query_parameters(self.dependant)

        async def route(request: Request) -> Response:
            try:
                unknown = sorted(set(request.query_params) - known)
                if unknown:
                    raise InvalidInput([FieldError(name, "is not a parameter of this operation") for name in unknown])
                await _refuse_nul(request)
                return await handler(request)
            except (SwitchboardError, RequestValidationError, HTTPException,
                    psycopg.DataError, psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
                return from_exception(exc)

        return route


_TEXT = {
    401: "no valid bearer token", 403: "the token lacks the scope this needs", 404: "not found (or not yours)",
    409: "conflicts with the current state (already done, already there)",
    410: "no longer usable (expired, revoked, used)",
    412: "changed since you read it (If-Match is stale)", 422: "invalid input; each error names its field",
    428: "If-Match is required", 429: "too many attempts; retry after Retry-After seconds",
    502: "the platform did not do it; the message says why, in our words",
    503: "the database is unavailable; retry after Retry-After seconds",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a route can answer."""
    return {s: {"model": ErrorBody, "description": _TEXT[s]} for s in statuses}
