"""Request bodies refused at the door (413) before they are read past the limit: 1 MiB for the
management API (`/api/...`), 2 MiB for the functions (`/functions/v1/...`, provider webhooks
included), 1 MiB for anything else.

Invariants:
- A Content-Length over the limit is answered at once, before a byte of the body is read, and
  the connection is closed (`Connection: close`), so the server does not drain the rest.
- A body without Content-Length (chunked) is counted as it arrives; the piece that crosses the
  limit is not handed on: the app's `receive` raises `BodyTooLarge` and the middleware answers
  413 itself (if the app has not started answering), whatever the app does with the exception.
  The server reads at most the limit plus the one piece it had already buffered.
- The cost on the hot path is one scan of the request headers: with a Content-Length within the
  limit (every provider sends one) `receive` is not wrapped at all.

A plain ASGI middleware: `EdgeFunctionsApp.__call__` runs it in front of both the fast path and
FastAPI, so no route escapes it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MiB = 1024 * 1024
API_LIMIT = 1 * MiB
FUNCTIONS_LIMIT = 2 * MiB
FUNCTIONS_PREFIX = "/functions/v1/"


class BodyTooLarge(Exception):
    """Raised into the app by `receive` when a streamed body passes the limit."""


def _answer(body: bytes) -> tuple[Message, Message]:
    start = {
        "type": "http.response.start",
        "status": 413,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body, "more_body": False}


def _mib(limit: int) -> str:
    return f"{limit / MiB:g} MiB"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, api_limit: int = API_LIMIT, functions_limit: int = FUNCTIONS_LIMIT):
        self.app = app
        self.api_limit = api_limit
        self.functions_limit = functions_limit
        # The answers are the same every time: built once. Our error shapes: {"code","message"}
        # (edge_functions/api/errors.py) for the API, {"error"} for the functions.
        self._api_answer = _answer(
            b'{"code":"payload_too_large","message":"the request body is larger than %s","fields":[]}'
            % _mib(api_limit).encode())
        self._functions_answer = _answer(
            b'{"error":"the request body is larger than %s"}' % _mib(functions_limit).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(FUNCTIONS_PREFIX):
            limit, answer = self.functions_limit, self._functions_answer
        else:
            limit, answer = self.api_limit, self._api_answer
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:  # the server refuses such requests; count if one gets here
                    break
                if declared > limit:
                    await send(answer[0])
                    await send(answer[1])
                    return
                await self.app(scope, receive, send)  # the server delivers no more than declared
                return
        if scope["method"] in ("GET", "HEAD") and not any(n == b"transfer-encoding" for n, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit, answer)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int,
                       answer: tuple[Message, Message]) -> None:
        state = {"read": 0, "started": False, "refused": False}

        async def counting_receive() -> Message:
            if state["refused"]:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > limit:
                    state["refused"] = True
                    if not state["started"]:
                        state["started"] = True
                        await send(answer[0])
                        await send(answer[1])
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            if state["refused"]:
                return  # we answered 413 already: whatever the app makes of the exception is dropped
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not state["refused"]:
                raise
            # the app turned our exception into another one (e.g. "could not read the body")
