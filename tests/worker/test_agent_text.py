"""Text-mode agent tests (livekit's `AgentSession.run` / `RunResult.expect`) with the worker's own
agent and tools, answered by the always-available local LLM: greeting, answers from the prompt,
and the three tool kinds — end call, transfer, and an HTTP tool against a real local HTTP server
(success, GET, an HTTP error, a timeout, an unreachable host, bad arguments)."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from aiohttp import web
from livekit.agents import AgentSession
from livekit.agents.testing import fake_job_context

from agent_worker.call import SwitchboardAgent
from agent_worker.offline import LocalLLM
from agent_worker.tools import CallOutcome, build_tools
from switchboard.spec import AgentSpec

PROMPT = (
    "You are the receptionist of Demo Dental. Our opening hours are 9am to 5pm, Monday to Friday. "
    "We are at 12 High Street. Parking is free behind the building."
)


class OrgServer:
    """The organisation's own HTTP endpoint (a real aiohttp server on loopback)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.delay = 0.0
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.method == "POST" else None
        self.requests.append({"method": request.method, "path": request.path, "query": dict(request.query), "json": body})
        await asyncio.sleep(self.delay)
        if self.status >= 400:
            return web.json_response({"error": "calendar is down"}, status=self.status)
        date = (body or request.query).get("date")
        return web.json_response({"message": f"We have a free slot on {date} at 10am."})


@pytest.fixture
async def org_server():
    server = OrgServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    server.url = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


def _spec(tools=(), begin_message="Welcome to Demo Dental, how can I help?") -> AgentSpec:
    return AgentSpec.model_validate({"prompt": PROMPT, "begin_message": begin_message, "tools": list(tools)})


class Harness:
    def __init__(self, spec: AgentSpec) -> None:
        self.outcome = CallOutcome()
        self.client = httpx.AsyncClient()
        self.agent = SwitchboardAgent(spec, build_tools(spec, client=self.client, outcome=self.outcome, allow_private_urls=True))
        self.session = AgentSession(llm=LocalLLM(begin_message=spec.begin_message))

    async def __aenter__(self):
        self._ctx = fake_job_context()
        self._ctx.__enter__()
        await self.session.__aenter__()
        self.greeting = await self.session.start(self.agent, capture_run=True)
        return self

    async def __aexit__(self, *exc):
        await self.session.__aexit__(*exc)
        self._ctx.__exit__(*exc)
        await self.client.aclose()


async def test_greets_with_the_begin_message_then_answers_from_the_prompt() -> None:
    async with Harness(_spec()) as h:
        h.greeting.expect.next_event().is_agent_handoff()
        h.greeting.expect.next_event().is_message(role="assistant")
        assert h.greeting.events[-1].item.text_content == "Welcome to Demo Dental, how can I help?"
        result = await h.session.run(user_input="Where is the parking?")
        result.expect.next_event().is_message(role="assistant")
        result.expect.no_more_events()
        assert result.events[0].item.text_content == "Parking is free behind the building."


async def test_without_a_begin_message_the_model_greets() -> None:
    async with Harness(_spec(begin_message=None)) as h:
        h.greeting.expect.next_event().is_agent_handoff()
        h.greeting.expect.next_event().is_message(role="assistant")
        assert h.greeting.events[-1].item.text_content.startswith("Hello")


async def test_end_call_tool_says_goodbye_and_ends_the_session() -> None:
    async with Harness(_spec([{"type": "end_call"}])) as h:
        closed = asyncio.Event()
        h.session.on("close", lambda ev: closed.set())
        result = await h.session.run(user_input="That's all, goodbye")
        result.expect.next_event().is_function_call(name="end_call")
        result.expect.next_event().is_function_call_output()
        result.expect.next_event().is_message(role="assistant")
        await asyncio.wait_for(closed.wait(), 5)
        assert h.outcome.disconnection_reason == "agent_hangup"


async def test_transfer_tool_hands_the_caller_to_the_number() -> None:
    async with Harness(_spec([{"type": "transfer", "number": "+15550001111", "description": "Transfer to the front desk."}])) as h:
        result = await h.session.run(user_input="Can I speak to a human please?")
        result.expect.next_event().is_function_call(name="transfer_call")
        output = result.expect.next_event().is_function_call_output(is_error=False)
        assert "+15550001111" in output.event().item.output
        result.expect.next_event().is_message(role="assistant")
        assert h.outcome.disconnection_reason == "call_transfer" and h.outcome.transferred_to == "+15550001111"


def _booking_tool(url: str, method: str = "POST", timeout: float = 2.0) -> dict:
    return {
        "type": "http", "name": "check_availability", "url": url, "method": method, "timeout_seconds": timeout,
        "description": "Check the calendar for a free appointment slot on a date.",
        "parameters": {"type": "object", "properties": {"date": {"type": "string", "format": "date"}}, "required": ["date"]},
    }


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_http_tool_calls_the_organisations_url(org_server: OrgServer, method: str) -> None:
    async with Harness(_spec([_booking_tool(org_server.url + "/availability", method)])) as h:
        result = await h.session.run(user_input="Is there a free appointment slot on 2026-12-01?")
        result.expect.next_event().is_function_call(name="check_availability", arguments={"date": "2026-12-01"})
        result.expect.next_event().is_function_call_output(is_error=False)
        result.expect.next_event().is_message(role="assistant")
        assert result.events[-1].item.text_content == "Here is what I found: We have a free slot on 2026-12-01 at 10am."
    sent = org_server.requests[-1]
    assert sent["method"] == method and sent["path"] == "/availability"
    assert (sent["json"] if method == "POST" else sent["query"]) == {"date": "2026-12-01"}


async def test_http_tool_asks_for_a_missing_required_argument(org_server: OrgServer) -> None:
    async with Harness(_spec([_booking_tool(org_server.url)])) as h:
        result = await h.session.run(user_input="Do you have a free appointment slot?")
        result.expect.next_event().is_message(role="assistant")
        assert result.events[0].item.text_content == "Sure. Could you tell me the date?"
    assert org_server.requests == []


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ("status", "answered HTTP 503"),
        # refused and timed out read the same: a tool's answers map no ports
        ("timeout", "could not reach the service"),
        ("refused", "could not reach the service"),
    ],
)
async def test_http_tool_failures_go_back_to_the_model_as_text(org_server: OrgServer, failure: str, reason: str) -> None:
    url = org_server.url
    if failure == "status":
        org_server.status = 503
    elif failure == "timeout":
        org_server.delay = 2.0
    else:
        url = f"http://127.0.0.1:{_unused_port()}"
    async with Harness(_spec([_booking_tool(url, timeout=0.3)])) as h:
        result = await h.session.run(user_input="Is there a free appointment slot on 2026-12-01?")
        result.expect.next_event().is_function_call(name="check_availability")
        output = result.expect.next_event().is_function_call_output(is_error=True).event().item.output
        assert reason in output
        reply = result.expect.next_event().is_message(role="assistant").event().item.text_content
        assert reply.startswith("Sorry, I could not do that")
        # the call goes on
        again = await h.session.run(user_input="What are your opening hours?")
        assert "9am to 5pm" in again.events[-1].item.text_content


async def test_http_tool_arguments_are_checked_against_its_schema() -> None:
    from livekit.agents import ToolError

    from agent_worker.tools import call_http_tool
    from switchboard.spec import HttpTool

    spec = HttpTool.model_validate(_booking_tool("http://127.0.0.1:9/x") | {"parameters": {
        "type": "object", "properties": {"party_size": {"type": "integer", "minimum": 1}}, "required": ["party_size"]}})
    async with httpx.AsyncClient() as client:
        with pytest.raises(ToolError, match="invalid arguments: 0 is less than the minimum of 1"):
            await call_http_tool(client, spec, {"party_size": 0}, allow_private=True)
        with pytest.raises(ToolError, match="must be an https URL on a public host"):
            await call_http_tool(client, spec, {"party_size": 2}, allow_private=False)


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("When are you open?", "Our opening hours are 9am to 5pm, Monday to Friday."),
        ("where are you", "We are at 12 High Street."),
        ("Is parking free?", "Parking is free behind the building."),
        ("hello", "Welcome!"),
        ("Do you sell pizza?", "Let me take a message."),
    ],
)
def test_local_llm_rules(said: str, answer: str) -> None:
    from livekit.agents import llm

    from agent_worker.offline.local_llm import decide

    ctx = llm.ChatContext()
    ctx.add_message(role="system", content=PROMPT)
    ctx.add_message(role="user", content=said)
    assert decide(ctx, [], begin_message="Welcome!", fallback_reply="Let me take a message.").text == answer
