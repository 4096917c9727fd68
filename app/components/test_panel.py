"""The agent page's test panel: type as the caller and read the agent's replies, on one platform or
on every platform side by side — the same agent, the same words. Each reply shows the tools it
called and the turn's latency. A thin shell over `switchboard.conversations` (start / say / end);
a platform that cannot be tried yet is named with what is missing, in the core's words."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from uuid import UUID

import reflex as rx

from app.backend import database, platforms, problem
from app.components.layout import labelled_select, section
from app.state import Session
from switchboard import conversations
from switchboard.errors import InvalidInput
from switchboard.providers import registry
from switchboard.providers.resilience import platform_name

ALL = "all"


@dataclasses.dataclass
class TurnRow:
    who: str  # "caller" | "agent"
    text: str
    tools: list[str]
    latency: str  # "" for the caller's lines


@dataclasses.dataclass
class Column:
    code: str
    name: str
    conversation_id: str
    turns: list[TurnRow]
    error: str = ""


def _tool(call) -> str:
    args = json.dumps(call.arguments, ensure_ascii=False, separators=(", ", ": ")) if call.arguments else ""
    outcome = "failed" if call.is_error else "done"
    return f"{call.name}({args}) · {outcome}"


def _latency(turn) -> str:
    words = f"{turn.latency_ms:,.0f} ms"
    if turn.overhead_ms is not None:
        words += f" (ours {turn.overhead_ms:,.0f} ms)"
    return words


def _why(exc: BaseException) -> str:
    """Why a platform cannot be tried: the core's words (the field, always "platform", unsaid)."""
    if isinstance(exc, InvalidInput):
        return " ".join(e.message.rstrip(".") + "." for e in exc.errors)
    return problem(exc)


def _agent_row(turn) -> TurnRow:
    return TurnRow(who="agent", text=turn.reply, tools=[_tool(c) for c in turn.tool_calls], latency=_latency(turn))


class TestPanel(Session):
    choice: str = ALL
    columns: list[Column] = []
    unavailable: list[list[str]] = []  # [platform name, what is missing]
    busy: bool = False
    error: str = ""
    agent_id: str = ""  # the agent under test (given by the page: TestPanel.start(agent_id))

    @rx.var
    def choices(self) -> list[list[str]]:
        return [[ALL, "All configured platforms"], *[[c, platform_name(c)] for c in registry.codes()]]

    @rx.var
    def started(self) -> bool:
        return bool(self.columns)

    @rx.event
    def set_choice(self, value: str):
        self.choice = value

    async def _who(self):
        """(database, claims, organisation, agent, platform adapters): what every core call takes."""
        return await database(), self._claims(), self._org(), UUID(self.agent_id), await platforms()

    async def _open(self) -> None:
        """Start a conversation on each chosen platform, side by side; those that cannot start say why."""
        codes = list(registry.codes()) if self.choice == ALL else [self.choice]
        db, claims, org, agent, source = await self._who()
        results = await asyncio.gather(*(conversations.start(db, claims, org, agent, c, source) for c in codes),
                                       return_exceptions=True)
        columns, unavailable = [], []
        for code, result in zip(codes, results):
            if isinstance(result, BaseException):
                unavailable.append([platform_name(code), _why(result)])
            else:
                columns.append(Column(code=code, name=platform_name(code), conversation_id=str(result.id),
                                      turns=[_agent_row(t) for t in result.turns]))
        self.columns, self.unavailable = columns, unavailable

    @rx.event
    async def start(self, agent_id: str = ""):
        """Start (or start over: the open conversations end first, each staying on the calls page)
        with the agent `agent_id` (given by the page that shows the panel)."""
        self.busy, self.error = True, ""
        yield
        try:
            if self.columns:
                db, claims, org, agent, source = await self._who()
                await asyncio.gather(*(conversations.end(db, claims, org, agent, UUID(c.conversation_id), source)
                                       for c in self.columns), return_exceptions=True)
            self.agent_id = agent_id or self.agent_id
            self.columns, self.unavailable = [], []
            await self._open()
        except Exception as exc:
            yield self._failed(exc, into="error")
        self.busy = False

    @rx.event
    async def send(self, form: dict):
        text = str((form or {}).get("message") or "").strip()
        if not text or not self.columns:
            return
        self.busy, self.error = True, ""
        self.columns = [dataclasses.replace(c, turns=[*c.turns, TurnRow(who="caller", text=text, tools=[], latency="")])
                        for c in self.columns]
        yield
        try:
            db, claims, org, agent, source = await self._who()
        except Exception as exc:
            self.busy = False
            yield self._failed(exc, into="error")
            return
        live = [c for c in self.columns if not c.error]
        results = await asyncio.gather(*(conversations.say(db, claims, org, agent, UUID(c.conversation_id), text, source)
                                         for c in live), return_exceptions=True)
        answered = {c.code: r for c, r in zip(live, results)}
        updated = []
        for c in self.columns:
            r = answered.get(c.code)
            if r is None:
                updated.append(c)
            elif isinstance(r, BaseException):
                updated.append(dataclasses.replace(c, error=problem(r)))
            else:
                updated.append(dataclasses.replace(c, turns=[*c.turns, _agent_row(r)]))
        self.columns, self.busy = updated, False


def _turn(t: TurnRow) -> rx.Component:
    return rx.cond(
        t.who == "caller",
        rx.box(rx.text(rx.text.strong("You: "), t.text, size="2"), class_name="turn-caller", width="100%"),
        rx.box(
            rx.text(rx.text.strong("Agent: "), t.text, size="2", class_name="turn-reply"),
            rx.foreach(t.tools, lambda tool: rx.badge(rx.icon("wrench", size=12), tool, variant="soft", color_scheme="violet",
                                                      class_name="turn-tool",
                                                      style={"white_space": "normal", "overflow_wrap": "anywhere"})),
            rx.text(t.latency, size="1", color_scheme="gray", class_name="turn-latency"),
            class_name="turn-agent", width="100%",
        ),
    )


def _column(c: Column) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(c.name, size="3", as_="h3"),
            rx.foreach(c.turns, _turn),
            rx.cond(c.error != "", rx.text(c.error, size="2", color_scheme="red", class_name="column-error")),
            spacing="2", width="100%",
        ),
        id="test-column-" + c.code, class_name="test-column", width="100%",
    )


def test_panel_card(agent_id: rx.Var) -> rx.Component:
    return section(
        "Test the agent",
        rx.text("Type as the caller and read what the agent answers — on one platform, or on every platform side by "
                "side. Each conversation is kept on the calls page.", size="2", color_scheme="gray"),
        rx.hstack(
            labelled_select("Try on", id="test-platform", aria_label="Platform to test on", choices=TestPanel.choices,
                            value=TestPanel.choice, on_change=TestPanel.set_choice),
            rx.cond(
                TestPanel.started,
                rx.button(rx.icon("rotate-ccw"), "Reset", variant="soft", on_click=TestPanel.start(agent_id),
                          loading=TestPanel.busy, id="test-reset"),
                rx.button(rx.icon("message-circle"), "Start", on_click=TestPanel.start(agent_id), loading=TestPanel.busy,
                          id="test-start"),
            ),
            align="center", spacing="3", wrap="wrap",
        ),
        rx.cond(TestPanel.error != "", rx.callout.root(rx.callout.text(TestPanel.error), color_scheme="red",
                                                      id="test-error", width="100%")),
        rx.foreach(TestPanel.unavailable, lambda u: rx.callout.root(
            rx.callout.icon(rx.icon("info")), rx.callout.text(rx.text.strong(u[0], ": "), u[1]),
            color_scheme="amber", size="1", class_name="test-unavailable", width="100%")),
        rx.cond(
            TestPanel.started,
            rx.vstack(
                rx.grid(rx.foreach(TestPanel.columns, _column), columns=rx.breakpoints(initial="1", md="2", lg="4"),
                        spacing="3", width="100%"),
                rx.form(
                    rx.hstack(
                        rx.input(name="message", placeholder="Say something as the caller…", width="100%",
                                 id="test-message", aria_label="Your message as the caller", disabled=TestPanel.busy),
                        rx.button("Send", type="submit", loading=TestPanel.busy, id="test-send"),
                        width="100%",
                    ),
                    on_submit=TestPanel.send, reset_on_submit=True, width="100%",
                ),
                spacing="3", width="100%",
            ),
        ),
        spacing="3", id="test-panel",
    )
