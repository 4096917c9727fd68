"""The organisation's test LLM (a catalogue entry + model, its stored key) against a local server
speaking OpenAI's published chat-completions contract (`POST /v1/chat/completions`, a
`chat.completion` object): a rubric passes and fails with the judge's reason; a simulated caller
reaches its goal on the LiveKit platform's offline tier; a judge that answers 500 or hangs leaves
the rubric "not judged" in our words (the remote body never shown); deterministic checks never
call it."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiohttp import web
from psycopg.types.json import Jsonb

from switchboard.auth import issue_token
from switchboard.db import Database
from switchboard.demo import DEMO_EMAIL, seed_demo
from switchboard.platforms import PlatformSource
from switchboard.scenarios import gate, runner, suite_from_yaml
from switchboard.scenarios.store import save_suite
from switchboard.secrets import put_secret
from switchboard.settings import get_settings
from tests.support.live_server import aiohttp_serving

KEY = "gsk_test_llm_key_123456"
MODEL = "judge-model-1"
SECRET_BODY = "upstream overloaded: shard 7 at 10.0.0.12"

RUBRICS = """
- name: Offers help
  turns:
    - say: Hello
  checks:
    - rubric: The agent offers to help the caller
- name: Quotes a price
  turns:
    - say: Hello
  checks:
    - contains: help
    - rubric: The agent quotes a price in dollars
"""
SIMULATED = """
- name: Reaches a person
  caller:
    persona: A patient who prefers to talk to people, not machines
    goal: Be put through to a person at the front desk
    max_turns: 4
  checks:
    - transferred: true
"""


class ChatCompletions:
    """OpenAI's chat-completions contract: a judge (JSON verdict) or a caller (next line), by the system prompt."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict] = []
        self.release = asyncio.Event()

    async def chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"auth": request.headers.get("Authorization"), "body": body})
        if self.mode == "hang":
            await self.release.wait()
        if self.mode == "500":
            return web.json_response({"error": {"message": SECRET_BODY, "type": "server_error"}}, status=500)
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return web.json_response({"error": {"message": "Invalid API Key", "type": "invalid_request_error"}}, status=401)
        messages = body["messages"]
        system = messages[0]["content"]
        if system.startswith("You judge"):
            ask = messages[1]["content"]
            if "offers to help" in ask:
                offered = "how can i help" in ask.lower()
                content = f'{{"passed": {str(offered).lower()}, "reason": "The agent asked how it could help."}}'
            else:
                content = '```json\n{"passed": false, "reason": "The agent never mentioned a price."}\n```'
        else:  # the simulated caller: two lines, then its goal is met
            said = [m for m in messages if m["role"] == "assistant"]
            content = ["Hello there", "Can I speak to a person please?"][len(said)] if len(said) < 2 else "GOAL_MET"
        return web.json_response({
            "id": f"chatcmpl-{uuid.uuid4().hex[:8]}", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60},
        })


@pytest.fixture
async def llm_server():
    server = ChatCompletions()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", server.chat)
    async with aiohttp_serving(app) as url:
        server.url = url + "/v1"
        yield server
        server.release.set()


async def _configure(db: Database, org, url: str, timeout: float = 5.0) -> None:
    """Groq as the test LLM (not in the agent's pipeline: the agent keeps the offline tier), its
    base URL pointed at the local server, the organisation's key stored."""
    async with db.as_service() as conn:
        await put_secret(conn, org, "groq", {"api_key": KEY})
        await conn.execute(
            """
            insert into organization_provider_configs (organization_id, provider_id, config, is_enabled)
            select %s, id, %s, false from providers where key = 'groq-llm'
            on conflict (organization_id, provider_id) do update set config = excluded.config
            """, (org, Jsonb({"base_url": url, "attempt_timeout": timeout})))
        current = await gate.read_settings(conn, org)
        await gate.write_settings(conn, org, current.model_copy(update={"llm": "groq-llm", "llm_model": MODEL}))


async def _run(db, demo, yaml_text: str, **kwargs):
    async with db.as_user(demo.claims) as conn:
        await save_suite(conn, demo.organization_id, demo.agent_config_id, suite_from_yaml(yaml_text), replace=True)
    source = PlatformSource(db, get_settings())
    try:
        _run_id, results = await runner.run_suite(db, demo.claims, demo.organization_id, demo.agent_config_id, source,
                                                  platform="livekit", **kwargs)
    finally:
        await source.aclose()
    return {r.scenario: r for r in results}


async def test_rubrics_are_judged_by_the_organisations_llm_and_deterministic_checks_never_call_it(
        db: Database, worker_chat, llm_server) -> None:
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    await _configure(db, demo.organization_id, llm_server.url)

    from switchboard.scenarios.demo import DEMO_SUITE_YAML
    results = await _run(db, demo, DEMO_SUITE_YAML)
    assert {r.outcome for r in results.values()} == {"passed"} and llm_server.requests == []

    results = await _run(db, demo, RUBRICS)
    offers, price = results["Offers help"], results["Quotes a price"]
    assert offers.outcome == "passed" and [c.outcome for c in offers.checks] == ["passed"]
    assert price.outcome == "failed"
    assert [(c.kind, c.outcome, c.message) for c in price.checks] == [
        ("contains", "passed", None),
        ("rubric", "failed", "rubric 'The agent quotes a price in dollars': The agent never mentioned a price."),
    ]
    assert len(llm_server.requests) == 2
    sent = llm_server.requests[0]
    assert sent["auth"] == f"Bearer {KEY}" and sent["body"]["model"] == MODEL
    assert "Caller: Hello\nAgent: " in sent["body"]["messages"][1]["content"]


async def test_a_simulated_caller_reaches_its_goal_on_the_offline_tier(db: Database, worker_chat, llm_server) -> None:
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    await _configure(db, demo.organization_id, llm_server.url)
    result = (await _run(db, demo, SIMULATED))["Reaches a person"]
    assert result.outcome == "passed", (result.error, [c.message for c in result.checks])
    assert [(c.kind, c.outcome) for c in result.checks] == [("transferred", "passed"), ("goal", "passed")]
    assert len(result.turn_latency_ms) == 2  # two caller lines, then "goal met"
    last = llm_server.requests[-1]["body"]["messages"]
    assert [m["role"] for m in last[1:]] == ["user", "assistant", "user", "assistant", "user"]  # greeting first
    assert last[4]["content"] == "Can I speak to a person please?"
    async with db.as_service() as conn:
        said = await (await conn.execute("select user_text from conversation_turns where conversation_id = %s and seq > 0 "
                                         "order by seq", (result.conversation_id,))).fetchall()
    assert [r["user_text"] for r in said] == ["Hello there", "Can I speak to a person please?"]


async def test_a_failing_or_hung_judge_leaves_the_rubric_not_judged(db: Database, worker_chat, llm_server) -> None:
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    results = await _run(db, demo, RUBRICS + SIMULATED)  # no LLM configured
    assert results["Offers help"].checks[0].message == (
        "not run: the rubric is judged by an LLM, and none is configured for this organisation")
    assert {r.outcome for r in results.values()} == {"not_run"}

    await _configure(db, demo.organization_id, llm_server.url, timeout=0.5)
    llm_server.mode = "500"
    results = await _run(db, demo, RUBRICS + SIMULATED)
    [rubric] = [c for c in results["Offers help"].checks if c.kind == "rubric"]
    assert (rubric.outcome, rubric.message) == ("not_run", "not judged: Groq LLM answered with an error (HTTP 500)")
    assert results["Offers help"].outcome == "not_run"
    assert results["Reaches a person"].outcome == "error"
    assert results["Reaches a person"].error == (
        "the simulated caller could not go on: Groq LLM answered with an error (HTTP 500)")
    assert all(SECRET_BODY not in (r.error or "") + "".join(c.message or "" for c in r.checks) for r in results.values())

    llm_server.mode = "hang"
    began = time.perf_counter()
    results = await _run(db, demo, RUBRICS)
    assert time.perf_counter() - began < 10
    [rubric] = [c for c in results["Offers help"].checks if c.kind == "rubric"]
    assert rubric.message == "not judged: Groq LLM did not answer within 0.5 s"


async def test_the_test_llm_is_an_organisation_setting(db: Database, api) -> None:
    demo = (await seed_demo(db, 0, other_calls=0, seed=1)).demo
    h = {"Authorization": f"Bearer {issue_token(demo.user_id, DEMO_EMAIL)}"}
    body = {"require_scenarios_to_publish": False, "scenario_concurrency": 4, "llm": "anthropic-llm", "llm_model": "x"}
    r = await api.put("/api/scenario-settings", json=body, headers=h)
    assert r.status_code == 422 and "llm" in r.text and "openai-llm, groq-llm" in r.text
    r = await api.put("/api/scenario-settings", json={**body, "llm": "openrouter-llm", "llm_model": "openai/gpt-4o-mini"},
                      headers=h)
    assert r.status_code == 200, r.text
    got = (await api.get("/api/scenario-settings", headers=h)).json()
    assert (got["llm"], got["llm_model"]) == ("openrouter-llm", "openai/gpt-4o-mini")
