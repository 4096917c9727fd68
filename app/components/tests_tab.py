"""The agent's "Tests": its scenarios, a run on LiveKit or on all its platforms (for the live
version or a chosen one), the scorecard per platform and what failed, and the organisation's
publish gate (admins). A thin shell: every read and run is `switchboard.scenarios`'."""

from __future__ import annotations

import dataclasses
from uuid import UUID

import reflex as rx

from app.backend import database, usd
from app.components.layout import error
from app.state import Session
from switchboard.scenarios import gate, runner, scorecard, store
from switchboard.providers import registry

_SOURCE = None

# The platform that runs on our own worker: a suite needs no key there.
OWN = registry.with_role("worker")[0]



def _platforms(db):
    """One adapter source for the app's process (its cache of adapters and keys' versions)."""
    global _SOURCE
    if _SOURCE is None:
        from switchboard.platforms import PlatformSource
        from switchboard.settings import get_settings

        _SOURCE = PlatformSource(db, get_settings())
    return _SOURCE


@dataclasses.dataclass
class ScoreRow:
    platform: str
    version: str
    pass_rate: str
    latency: str
    cost: str


@dataclasses.dataclass
class FailureRow:
    platform: str
    scenario: str
    why: str


class AgentTests(Session):
    agent_id: str = ""
    scenario_names: list[str] = []
    version: str = ""  # empty: the live one
    running: bool = False
    problem_text: str = ""
    status: str = ""
    scores: list[ScoreRow] = []
    failures: list[FailureRow] = []
    gate_on: bool = False

    @rx.event
    async def load_for(self, agent_id: str):
        self.agent_id, self.problem_text = agent_id, ""
        try:
            async with self._as_user() as conn:
                listed = await store.list_scenarios(conn, self._org(), UUID(agent_id))
                self.gate_on = (await gate.read_settings(conn, self._org())).require_scenarios_to_publish
        except Exception as exc:
            return self._failed(exc, into="problem_text")
        self.scenario_names = [s.scenario.name for s in listed]

    @rx.event
    def set_version(self, value: str):
        self.version = value.strip()

    @rx.event
    async def run(self, platform: str):
        self.problem_text, self.status, self.running = "", "", True
        yield
        try:
            version = int(self.version) if self.version else None
            db = await database()
            run_id, _results = await runner.run_suite(db, self._claims(), self._org(), UUID(self.agent_id), _platforms(db),
                                                      platform=platform, version=version)
            async with self._as_user() as conn:
                report = await scorecard.report(conn, self._org(), run_id)
        except ValueError:
            self.problem_text, self.running = "Version: enter a version number, or leave it empty for the live one.", False
            return
        except Exception as exc:
            yield self._failed(exc, into="problem_text", running=False)
            return
        self.running = False
        self.status = f"Version {report.version}: {report.passed} of {report.total} passed ({report.status})."
        self.scores = [ScoreRow(s.platform, f"v{s.version}", f"{s.pass_rate:.0%}",
                                f"{s.latency_p50_ms or 0:.0f} / {s.latency_p95_ms or 0:.0f} ms",
                                usd(s.cost_per_conversation, 4) if s.cost_per_conversation is not None else "not reported")
                       for s in report.scorecard]
        self.failures = [FailureRow(r.platform, r.scenario, "; ".join(c.message or c.check for c in r.checks
                                                                      if c.outcome == "failed") or (r.error or r.outcome))
                         for r in report.results if r.outcome != "passed"]

    @rx.event
    async def set_gate(self, value: bool):
        self.problem_text = ""
        try:
            async with self._as_user() as conn:
                current = await gate.read_settings(conn, self._org())
                saved = await gate.write_settings(conn, self._org(), current.model_copy(
                    update={"require_scenarios_to_publish": value}))
        except Exception as exc:
            return self._failed(exc, into="problem_text")
        self.gate_on = saved.require_scenarios_to_publish


def tests_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Tests", size="4", as_="h2"),
        rx.text("Scripted conversations the agent must pass; run them on one platform or all, for the live version "
                "or another.", size="2", color_scheme="gray"),
        rx.cond(AgentTests.problem_text != "", rx.box(error(AgentTests.problem_text), id="tests-error", width="100%")),
        rx.el.ul(rx.foreach(AgentTests.scenario_names, lambda n: rx.el.li(rx.text(n, size="2"), class_name="scenario-name")),
                 id="scenario-list"),
        rx.hstack(
            rx.input(placeholder="version (live)", value=AgentTests.version, on_change=AgentTests.set_version,
                     width="9em", id="tests-version", aria_label="Version to test (empty: the live one)"),
            rx.button(f"Run on {OWN.label}", on_click=AgentTests.run(OWN.code), loading=AgentTests.running, id="run-livekit"),
            rx.button("Run on all platforms", on_click=AgentTests.run("all"), loading=AgentTests.running, variant="soft",
                      id="run-all"),
            align="center", wrap="wrap",
        ),
        rx.cond(AgentTests.status != "", rx.text(AgentTests.status, id="tests-status", size="2")),
        rx.cond(AgentTests.scores.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in
                                           ("Platform", "Version", "Pass rate", "Turn p50 / p95", "Cost / conversation")))),
            rx.table.body(rx.foreach(AgentTests.scores, lambda s: rx.table.row(
                rx.table.cell(s.platform), rx.table.cell(s.version), rx.table.cell(s.pass_rate),
                rx.table.cell(s.latency), rx.table.cell(s.cost)))),
            width="100%", id="scorecard")),
        rx.foreach(AgentTests.failures, lambda f: rx.callout.root(
            rx.callout.text(f.platform, " · ", f.scenario, ": ", f.why), color_scheme="red", class_name="scenario-failure")),
        rx.cond(AgentTests.is_admin, rx.hstack(
            rx.switch(checked=AgentTests.gate_on, on_change=AgentTests.set_gate, id="publish-gate",
                      aria_label="Require these tests to pass before publishing"),
            rx.text("Require these tests to pass on the agent's platforms before a version can be published", size="2"),
            align="center")),
        width="100%", id="tests-section",
    )
