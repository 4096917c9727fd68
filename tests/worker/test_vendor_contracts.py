"""The cloud vendors through their real livekit plugins against local servers that speak the
vendors' published HTTP contracts: an OpenAI-compatible Chat Completions endpoint (what Groq,
OpenRouter or vLLM expose; streamed `chat.completion.chunk` events with a usage chunk) and
Cartesia's `POST /tts/bytes`. Shows the organisation's key and base URL reach the vendor, usage
is priced from price_book, a failing or hung vendor fails over, and a cloned voice id is sent."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from decimal import Decimal

import numpy as np
import pytest
from aiohttp import web
from livekit.agents.testing import fake_job_context
from livekit.agents.utils import http_context

from agent_worker.chains import build_chains
from agent_worker.server import WorkerRuntime, entrypoint
from switchboard.db import Database
from switchboard.pipeline.config import load_pipeline
from switchboard.secrets import put_secret
from switchboard.settings import Settings
from tests.worker.conftest import create_org, serving

ORG_KEY = "gsk_organisation_key_123456"
MODEL = "llama-3.1-8b-instant"
USAGE = {"prompt_tokens": 1200, "completion_tokens": 80, "total_tokens": 1280}


class VendorServer:
    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict] = []
        self.release = asyncio.Event()  # lets hung requests go at teardown

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/chat/completions", self.chat), web.get("/v1/models", self.models),
                web.post("/tts/bytes", self.cartesia_bytes)]

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"path": request.path, "auth": request.headers.get("Authorization"), "body": body})
        if self.mode == "hang":
            await self.release.wait()
        if self.mode == "500":
            return web.json_response({"error": {"message": "upstream overloaded", "type": "server_error"}}, status=500)
        if request.headers.get("Authorization") != f"Bearer {ORG_KEY}":
            return web.json_response({"error": {"message": "Invalid API Key", "type": "invalid_request_error"}}, status=401)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        cid, created = f"chatcmpl-{uuid.uuid4().hex[:8]}", int(time.time())

        async def send(payload: dict) -> None:
            await resp.write(f"data: {json.dumps(payload)}\n\n".encode())

        base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body["model"]}
        for n, piece in enumerate(["We open ", "at nine ", "on weekdays."]):
            delta = {"role": "assistant", "content": piece} if n == 0 else {"content": piece}
            await send(base | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        await send(base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if body.get("stream_options", {}).get("include_usage"):
            await send(base | {"choices": [], "usage": USAGE})
        await resp.write(b"data: [DONE]\n\n")
        return resp

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "test"}]})

    async def cartesia_bytes(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        rate = body["output_format"]["sample_rate"]
        tone = (np.sin(np.arange(rate // 2) * 2 * np.pi * 220 / rate) * 8000).astype(np.int16)  # 0.5 s of audio
        return web.Response(body=tone.tobytes(), content_type="application/octet-stream")


@pytest.fixture
async def vendor():
    async with serving(VendorServer()) as server:
        yield server
        server.release.set()


async def _org_with_openai_compatible_llm(db: Database, url: str, **llm_config):
    org = await create_org(db, begin_message="Hi, Demo Dental here.", vendors=[
        ("openai-llm", 100, True, {"model": MODEL, "base_url": url + "/v1", **llm_config}),
        ("local-llm", 10, True, {}), ("pocketsphinx-stt", 10, True, {}), ("espeak-tts", 10, True, {}),
    ])
    async with db.as_service() as conn:
        await put_secret(conn, org.id, "openai", {"api_key": ORG_KEY})
    return org


async def _one_turn(db_url: str, vad, org) -> tuple:
    runtime = WorkerRuntime(database_url=db_url)
    try:
        with fake_job_context(job_metadata=org.metadata()) as ctx:
            ctx.proc.userdata.update(vad=vad, runtime=runtime)
            call = await entrypoint(ctx)
            if call.session.current_speech is not None:
                await call.session.current_speech
            result = await call.session.run(user_input="When are you open?")
            await call.session.aclose()
            record_id = await call.finish()
        return call, result, record_id
    finally:
        await runtime.aclose()


async def test_openai_compatible_llm_answers_with_the_organisations_key_and_usage_is_priced(
    db: Database, db_url: str, vad, vendor: VendorServer
) -> None:
    org = await _org_with_openai_compatible_llm(db, vendor.url)
    call, result, record_id = await _one_turn(db_url, vad, org)
    assert result.events[-1].item.text_content == "We open at nine on weekdays."
    chat = [r for r in vendor.requests if r["path"] == "/v1/chat/completions"]
    assert chat[0]["auth"] == f"Bearer {ORG_KEY}" and chat[0]["body"]["model"] == MODEL
    assert chat[0]["body"]["messages"][0]["content"].startswith("You are the receptionist of Demo Dental")

    async with db.as_service() as conn:
        usage = await (await conn.execute("select * from provider_usage where call_id = %s", (record_id,))).fetchone()
        prices = {
            r["unit"]: r["usd_per_unit"]
            for r in await (await conn.execute(
                "select unit, usd_per_unit from price_book where subject = 'openai-llm' and component = 'llm'"
            )).fetchall()
        }
    expected = (Decimal(USAGE["prompt_tokens"]) * prices["1m_input_tokens"]
                + Decimal(USAGE["completion_tokens"]) * prices["1m_output_tokens"]) / 1_000_000
    assert usage["llm_cost"] == expected.quantize(Decimal("0.000001"))
    assert usage["cost_amount"] == usage["llm_cost"] + usage["platform_cost"]


@pytest.mark.parametrize("mode", ["500", "hang"])
async def test_a_failing_or_hung_openai_compatible_llm_fails_over_to_the_local_one(
    db: Database, db_url: str, vad, vendor: VendorServer, mode: str
) -> None:
    vendor.mode = mode
    org = await _org_with_openai_compatible_llm(db, vendor.url, attempt_timeout=0.5)
    started = time.perf_counter()
    call, result, record_id = await _one_turn(db_url, vad, org)
    assert result.events[-1].item.text_content == "Our opening hours are 9am to 5pm, Monday to Friday."
    assert time.perf_counter() - started < 10  # livekit's defaults would wait 10 s per attempt on a hang
    async with db.as_service() as conn:
        health = {
            r["provider_code"]: (r["s"], r["f"])
            for r in await (await conn.execute(
                "select provider_code, sum(successes) s, sum(failures) f from provider_health_minutely "
                "where kind = 'vendor' group by provider_code"
            )).fetchall()
        }
        transcript = (await (await conn.execute("select transcript from call_records where id = %s", (record_id,))).fetchone())["transcript"]
    assert health["openai-llm"][1] >= 1 and health["local-llm"][0] >= 1
    assert transcript.endswith("Agent: Our opening hours are 9am to 5pm, Monday to Friday.")


async def test_cartesia_speaks_with_the_agents_cloned_voice(db: Database, vad, vendor: VendorServer) -> None:
    cloned = "8f3ae4c2-1d6a-4b9e-9a51-2f2f0c0ffee1"
    org = await create_org(db, voice={"vendor": "cartesia", "voice_id": cloned, "custom": True},
                           vendors=[("cartesia-tts", 100, True, {"base_url": vendor.url, "model": "sonic-2"})])
    async with db.as_service() as conn:
        await put_secret(conn, org.id, "cartesia", {"api_key": "sk_car_organisation_0001"})
        config = await load_pipeline(conn, org.id, org.agent_id, settings=Settings(_env_file=None))
    chains = build_chains(config, vad=vad)
    async with http_context.open():  # the HTTP session a job process gives its plugins
        frames = [ev.frame async for ev in chains.tts.synthesize("Your appointment is confirmed.")]
    assert sum(f.duration for f in frames) == pytest.approx(0.5, abs=0.05)
    (sent,) = [r for r in vendor.requests if r["path"] == "/tts/bytes"]
    assert sent["headers"]["X-API-Key"] == "sk_car_organisation_0001" and "Cartesia-Version" in sent["headers"]
    assert sent["body"]["voice"] == {"mode": "id", "id": cloned}
    assert sent["body"]["transcript"] == "Your appointment is confirmed."
    assert sent["body"]["model_id"] == "sonic-2" and sent["body"]["output_format"]["encoding"] == "pcm_s16le"
    await chains.aclose()
