"""Anthropic, Groq, OpenRouter, Azure OpenAI and Gemini through their real livekit plugins
against a local server speaking each vendor's published protocol (tests/worker/vendor_protocols):
the organisation's key and config reach the vendor, usage is priced from price_book (or kept
unpriced where no price is seeded), an error and a hang fail over within the attempt timeout,
and a quota refusal keeps the vendor out of the organisation's chains until its reset."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

import pytest
from livekit.agents import llm

from agent_worker.chains import build_chains
from switchboard.db import Database
from switchboard.pipeline.config import load_pipeline
from switchboard.pipeline.failover import QuotaBook
from switchboard.secrets import put_secret
from switchboard.settings import Settings
from tests.worker.conftest import create_org
from tests.worker.test_vendor_contracts import _one_turn
from tests.worker.vendor_protocols import INPUT_TOKENS, OUTPUT_TOKENS, VendorProtocols

LOCAL_REPLY = "Our opening hours are 9am to 5pm, Monday to Friday."


# key → (secret vendor, the organisation's key, config(url), request path prefix, how the key is sent, model priced as)
VENDORS = {
    "anthropic-llm": ("anthropic", "sk-ant-api03-organisation", lambda u: {"model": "claude-haiku-4-5", "base_url": u},
                      "/v1/messages", ("x-api-key", "{}"), "claude-haiku-4-5"),
    "groq-llm": ("groq", "gsk_organisation_groq_key", lambda u: {"model": "llama-3.1-8b-instant", "base_url": u + "/openai/v1"},
                 "/openai/v1/chat/completions", ("authorization", "Bearer {}"), "llama-3.1-8b-instant"),
    "openrouter-llm": ("openrouter", "sk-or-v1-organisation", lambda u: {"model": "anthropic/claude-haiku-4.5", "base_url": u + "/api/v1"},
                       "/api/v1/chat/completions", ("authorization", "Bearer {}"), None),
    "azure-openai-llm": ("azure-openai", "azure0organisation0key", lambda u: {"endpoint": u, "deployment": "voice-mini", "model": "gpt-4o-mini"},
                         "/openai/deployments/voice-mini/chat/completions", ("api-key", "{}"), None),
    "google-llm": ("gemini", "AIzaSyOrganisationKey", lambda u: {"model": "gemini-2.5-flash", "base_url": u},
                   "/v1/models/gemini-2.5-flash:streamGenerateContent", ("x-goog-api-key", "{}"), "gemini-2.5-flash"),
}


async def _org(db: Database, key: str, url: str, **extra):
    vendor, secret, config, *_ = VENDORS[key]
    org = await create_org(db, begin_message="Hi, Demo Dental here.", vendors=[
        (key, 100, True, config(url) | extra),
        ("local-llm", 10, True, {}), ("pocketsphinx-stt", 10, True, {}), ("espeak-tts", 10, True, {}),
    ])
    async with db.as_service() as conn:
        await put_secret(conn, org.id, vendor, {"api_key": secret})
    return org


async def _answer(db: Database, vad, org, quotas: QuotaBook) -> tuple[str, object]:
    """One LLM turn through the organisation's chain, as the session asks it."""
    async with db.as_service() as conn:
        config = await load_pipeline(conn, org.id, org.agent_id, settings=Settings(_env_file=None))
    chains = build_chains(config, vad=vad, quotas=quotas)
    ctx = llm.ChatContext()
    ctx.add_message(role="system", content=config.agent.prompt)
    ctx.add_message(role="user", content="When are you open?")
    try:
        async with chains.llm.chat(chat_ctx=ctx) as stream:
            text = "".join([c.delta.content async for c in stream if c.delta and c.delta.content])
    finally:
        await chains.aclose()
    return text, chains.guard


@pytest.mark.parametrize("key", list(VENDORS))
async def test_the_vendor_answers_with_the_organisations_key_and_config_and_usage_is_priced(
    db: Database, db_url: str, vad, server: VendorProtocols, key: str
) -> None:
    org = await _org(db, key, server.url)
    call, result, record_id = await _one_turn(db_url, vad, org)
    assert result.events[-1].item.text_content == "We open at nine on weekdays."

    _, secret, _, path, (header, shape), priced_model = VENDORS[key]
    (sent,) = server.calls(path)
    assert sent["headers"][header] == shape.format(secret)
    if key == "azure-openai-llm":
        assert sent["query"]["api-version"] == "2024-10-21"
    elif key == "google-llm":
        assert sent["query"]["alt"] == "sse" and "Demo Dental" in str(sent["body"]["systemInstruction"])
    else:
        assert sent["body"]["model"] == VENDORS[key][2]("")["model"]
        system = sent["body"]["system"] if key == "anthropic-llm" else sent["body"]["messages"][0]["content"]
        assert "receptionist of Demo Dental" in str(system)

    async with db.as_service() as conn:
        usage = await (await conn.execute("select * from provider_usage where call_id = %s", (record_id,))).fetchone()
        prices = {r["unit"]: r["usd_per_unit"] for r in await (await conn.execute(
            "select unit, usd_per_unit from price_book where subject = %s and component = 'llm'", (f"{key}:{priced_model}",)
        )).fetchall()}
    if priced_model is None:  # no published price to seed: kept unpriced, never $0
        assert usage["cost_source"] == "unpriced" and usage["llm_cost"] is None and usage["cost_amount"] is None
    else:
        expected = (Decimal(INPUT_TOKENS) * prices["1m_input_tokens"] + Decimal(OUTPUT_TOKENS) * prices["1m_output_tokens"]) / 1_000_000
        assert usage["llm_cost"] == expected.quantize(Decimal("0.000001")) and usage["llm_cost"] > 0


@pytest.mark.parametrize("mode", ["500", "hang"])
@pytest.mark.parametrize("key", list(VENDORS))
async def test_an_error_or_a_hang_fails_over_within_the_attempt_timeout(
    db: Database, vad, server: VendorProtocols, key: str, mode: str
) -> None:
    server.mode = mode
    org = await _org(db, key, server.url, attempt_timeout=0.5)
    started = time.perf_counter()
    text, guard = await _answer(db, vad, org, QuotaBook())
    elapsed = time.perf_counter() - started
    assert text == LOCAL_REPLY
    assert server.calls(VENDORS[key][3])  # it was asked (the adapter's recovery probe may ask again)
    assert elapsed < 3.0, elapsed  # 0.5 s attempt timeout, plus building the chain
    name = key.removesuffix("-llm")
    assert guard.status["llm"].line() == f"LLM: {name} (failed: {'timeout' if mode == 'hang' else '500'}) → local (active)"


@pytest.mark.parametrize("key", list(VENDORS))
async def test_a_quota_refusal_keeps_the_vendor_out_until_its_reset(
    db: Database, vad, server: VendorProtocols, key: str, caplog
) -> None:
    now = [1_800_000_000.0]
    quotas = QuotaBook(clock=lambda: now[0])
    server.mode = "quota"
    org = await _org(db, key, server.url)
    path = VENDORS[key][3]
    with caplog.at_level(logging.INFO, logger="agent_worker.failover"):
        text, guard = await _answer(db, vad, org, quotas)
    assert text == LOCAL_REPLY and len(server.calls(path)) == 1
    hold = quotas.hold(str(org.id), key)
    published = {"anthropic-llm": 120, "groq-llm": 90, "azure-openai-llm": 90, "google-llm": 150}
    assert hold is not None and hold.until == now[0] + published.get(key, 300)  # OpenRouter's 402 publishes no reset
    name = key.removesuffix("-llm")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("LLM:")]
    assert lines[0] == f"LLM: {name} (active) → local (available)"  # at start-up
    assert f"LLM: {name} (failed: {hold.reason}, out until {hold.until_text()}) → local (active)" in lines

    # The next call, before the reset: the vendor is not asked at all.
    server.mode = "ok"
    text, guard = await _answer(db, vad, org, quotas)
    assert text == LOCAL_REPLY and len(server.calls(path)) == 1
    assert guard.status["llm"].line().startswith(f"LLM: {name} (failed: {hold.reason}, out until")

    # After the reset it serves again.
    now[0] = hold.until + 1
    text, _ = await _answer(db, vad, org, quotas)
    assert text == "We open at nine on weekdays." and len(server.calls(path)) == 2
