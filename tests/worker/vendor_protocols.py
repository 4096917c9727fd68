"""One local server speaking the published HTTP protocols of the LLM/STT/TTS vendors the worker
reaches through their plugins: Anthropic Messages (SSE), OpenAI-compatible chat completions at
Groq's, OpenRouter's and Azure OpenAI's paths, Groq's audio transcriptions, Gemini's
`streamGenerateContent?alt=sse`, Azure Speech's REST synthesis. Each route records what it was
sent; `mode` makes every route answer normally, fail (500), hang, or refuse for quota the way
that vendor documents it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import numpy as np
from aiohttp import web

REPLY = ["We open ", "at nine ", "on weekdays."]
INPUT_TOKENS, OUTPUT_TOKENS = 1200, 80
TRANSCRIPT = "I would like to book a cleaning."

# The quota refusals as each vendor documents them (status, headers, body).
QUOTA = {
    "anthropic": (429, {"retry-after": "120"},
                  {"type": "error", "error": {"type": "rate_limit_error",
                                              "message": "Your organization has exceeded your monthly usage quota."}}),
    "openai": (429, {"retry-after": "90", "x-ratelimit-reset-tokens": "1m30s"},
               {"error": {"message": "You exceeded your current quota, please check your plan and billing details.",
                          "type": "insufficient_quota", "code": "insufficient_quota"}}),
    "openrouter": (402, {}, {"error": {"code": 402, "message": "Insufficient credits. Add more using https://openrouter.ai/credits"}}),
    "gemini": (429, {}, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
                                   "message": "You exceeded your current quota, please check your plan and billing details.",
                                   "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "150s"}]}}),
    # Azure Speech's REST synthesis: 429, "You've exceeded the quota or rate of requests allowed for
    # your resource" (its HTTP status codes), in the Cognitive Services error envelope; no reset time.
    "azure-speech": (429, {}, {"error": {"code": "429", "message": "You've exceeded the quota or rate of requests allowed "
                                                                   "for your resource."}}),
}


class VendorProtocols:
    def __init__(self) -> None:
        self.mode = "ok"  # ok | 500 | hang | quota
        self.only = "/"  # the mode applies to paths under this prefix; the others answer normally
        self.requests: list[dict] = []
        self.release = asyncio.Event()
        self.url = ""

    def calls(self, prefix: str) -> list[dict]:
        return [r for r in self.requests if r["path"].startswith(prefix)]

    async def _record(self, request: web.Request, body) -> None:
        self.requests.append({"path": request.path, "query": dict(request.query),
                              "headers": {k.lower(): v for k, v in request.headers.items()}, "body": body})
        if self.mode == "hang" and request.path.startswith(self.only):
            await self.release.wait()

    def _failure(self, family: str, path: str) -> web.Response | None:
        if not path.startswith(self.only):
            return None
        if self.mode == "500":
            return web.json_response({"error": {"message": "upstream overloaded", "type": "server_error"}}, status=500)
        if self.mode == "quota":
            status, headers, body = QUOTA[family]
            return web.json_response(body, status=status, headers=headers)
        return None

    # --- Anthropic Messages API ------------------------------------------------------------
    async def anthropic_messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        await self._record(request, body)
        if (failed := self._failure("anthropic", request.path)) is not None:
            return failed
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "request-id": "req_local"})
        await resp.prepare(request)

        async def event(kind: str, data: dict) -> None:
            await resp.write(f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode())

        await event("message_start", {"message": {
            "id": f"msg_{uuid.uuid4().hex[:12]}", "type": "message", "role": "assistant", "content": [], "model": body["model"],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": 0}}})
        await event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
        await event("ping", {})
        for piece in REPLY:
            await event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}})
        await event("content_block_stop", {"index": 0})
        await event("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                      "usage": {"output_tokens": OUTPUT_TOKENS}})
        await event("message_stop", {})
        return resp

    # --- OpenAI-compatible chat completions (Groq, OpenRouter, Azure OpenAI) -----------------
    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        await self._record(request, body)
        family = "openrouter" if request.path.startswith("/api/") else "openai"
        if (failed := self._failure(family, request.path)) is not None:
            return failed
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:8]}", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body.get("model") or "deployment"}

        async def send(payload: dict) -> None:
            await resp.write(f"data: {json.dumps(base | payload)}\n\n".encode())

        for n, piece in enumerate(REPLY):
            delta = {"role": "assistant", "content": piece} if n == 0 else {"content": piece}
            await send({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        await send({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if body.get("stream_options", {}).get("include_usage"):
            usage = {"prompt_tokens": INPUT_TOKENS, "completion_tokens": OUTPUT_TOKENS, "total_tokens": INPUT_TOKENS + OUTPUT_TOKENS}
            await send({"choices": [], "usage": usage})
        await resp.write(b"data: [DONE]\n\n")
        return resp

    async def transcriptions(self, request: web.Request) -> web.Response:
        form = await request.post()
        audio = form["file"]
        fields = {k: v for k, v in form.items() if k != "file"}
        await self._record(request, fields | {"file_bytes": len(audio.file.read())})
        if (failed := self._failure("openai", request.path)) is not None:
            return failed
        return web.json_response({"text": TRANSCRIPT, "x_groq": {"id": "req_local"}})

    # --- Gemini API ------------------------------------------------------------------------
    async def gemini(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        await self._record(request, body)
        if (failed := self._failure("gemini", request.path)) is not None:
            return failed
        model = request.match_info["model_action"].split(":")[0]
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for n, piece in enumerate(REPLY):
            chunk = {"candidates": [{"content": {"parts": [{"text": piece}], "role": "model"}, "index": 0}],
                     "modelVersion": model, "responseId": "local"}
            if n == len(REPLY) - 1:
                chunk["candidates"][0]["finishReason"] = "STOP"
                chunk["usageMetadata"] = {"promptTokenCount": INPUT_TOKENS, "candidatesTokenCount": OUTPUT_TOKENS,
                                          "totalTokenCount": INPUT_TOKENS + OUTPUT_TOKENS}
            await resp.write(f"data: {json.dumps(chunk)}\r\n\r\n".encode())
        return resp

    # --- Azure Speech REST synthesis ---------------------------------------------------------
    async def azure_tts(self, request: web.Request) -> web.Response:
        await self._record(request, await request.text())
        if (failed := self._failure("azure-speech", request.path)) is not None:
            return failed
        rate = 24000
        tone = (np.sin(np.arange(rate // 2) * 2 * np.pi * 220 / rate) * 8000).astype(np.int16)
        return web.Response(body=tone.tobytes(), content_type="audio/pcm")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/messages", self.anthropic_messages)
        app.router.add_post("/openai/v1/chat/completions", self.chat_completions)
        app.router.add_post("/openai/v1/audio/transcriptions", self.transcriptions)
        app.router.add_post("/v1/audio/transcriptions", self.transcriptions)  # OpenAI's own path
        app.router.add_post("/api/v1/chat/completions", self.chat_completions)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self.chat_completions)
        app.router.add_post("/v1beta/models/{model_action}", self.gemini)  # the API reference's version
        app.router.add_post("/v1/models/{model_action}", self.gemini)  # what google-genai 3.x calls
        app.router.add_post("/cognitiveservices/v1", self.azure_tts)
        return app
