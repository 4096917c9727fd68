"""The Tests tab's two runs side by side (platform vs platform, version vs version): pick two of
the agent's latest runs and see what changed — pass rate, turn latency p50/p95, cost per
conversation, the failed checks that differ and the scenarios whose outcome changed. A thin
shell over `switchboard.scenarios.scorecard`."""

from __future__ import annotations

import dataclasses
from uuid import UUID

import reflex as rx

from app.backend import usd
from app.components.layout import error
from app.state import Session
from switchboard.scenarios import scorecard


@dataclasses.dataclass
class DiffRow:
    measure: str
    before: str
    after: str
    change: str


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms"


def _signed(value, unit: str = "") -> str:
    return "—" if value is None else f"{'+' if value > 0 else ''}{value}{unit}"


def _cost(value) -> str:
    return "not reported" if value is None else usd(value, 4)


def run_label(run: scorecard.RunListed) -> str:
    """How a run reads in the pickers: when, which version, which platforms, how it ended."""
    return (f"{run.started_at:%Y-%m-%d %H:%M:%S} · v{run.version} · {', '.join(run.platforms)} · "
            f"{run.status} {run.passed}/{run.total}")


class RunCompare(Session):
    agent_id: str = ""
    labels: list[str] = []
    first: str = ""  # labels of the two runs picked
    second: str = ""
    rows: list[DiffRow] = []
    newly_failed: list[str] = []
    fixed: list[str] = []
    changes: list[str] = []
    compared: bool = False
    problem_text: str = ""
    _ids: dict[str, str] = {}

    @rx.event
    async def load_for(self, agent_id: str):
        self.agent_id, self.problem_text = agent_id, ""
        try:
            async with self._as_user() as conn:
                runs = await scorecard.list_runs(conn, self._org(), UUID(agent_id))
        except Exception as exc:
            return self._failed(exc, into="problem_text")
        self._ids = {run_label(r): str(r.id) for r in runs}
        self.labels = list(self._ids)
        if len(self.labels) >= 2 and not (self.first in self._ids and self.second in self._ids):
            self.first, self.second = self.labels[1], self.labels[0]  # the previous run, then the latest

    @rx.event
    def pick_first(self, label: str):
        self.first, self.compared = label, False

    @rx.event
    def pick_second(self, label: str):
        self.second, self.compared = label, False

    @rx.event
    async def compare(self):
        self.problem_text = ""
        if self.first not in self._ids or self.second not in self._ids:
            self.problem_text = "Pick two runs to compare."
            return
        try:
            async with self._as_user() as conn:
                a = await scorecard.report(conn, self._org(), UUID(self._ids[self.first]))
                b = await scorecard.report(conn, self._org(), UUID(self._ids[self.second]))
        except Exception as exc:
            return self._failed(exc, into="problem_text")
        d = scorecard.diff(a, b)
        x, y = d.before.score, d.after.score
        self.rows = [
            DiffRow("Version · platforms", f"v{d.before.version} · {', '.join(d.before.platforms)}",
                    f"v{d.after.version} · {', '.join(d.after.platforms)}", ""),
            DiffRow("Pass rate", f"{x.pass_rate:.0%} ({x.passed}/{x.scenarios})", f"{y.pass_rate:.0%} ({y.passed}/{y.scenarios})",
                    _signed(round(d.pass_rate_change * 100, 1), " pts")),
            DiffRow("Turn p50", _ms(x.latency_p50_ms), _ms(y.latency_p50_ms), _signed(d.latency_p50_change_ms, " ms")),
            DiffRow("Turn p95", _ms(x.latency_p95_ms), _ms(y.latency_p95_ms), _signed(d.latency_p95_change_ms, " ms")),
            DiffRow("Cost / conversation", _cost(x.cost_per_conversation), _cost(y.cost_per_conversation),
                    "—" if d.cost_change is None else ("+" if d.cost_change > 0 else "") + usd(d.cost_change, 4)),
        ]
        self.newly_failed, self.fixed = d.newly_failed, d.fixed
        self.changes = [f"{c['scenario']}{'' if c['platform'] == '*' else ' (' + c['platform'] + ')'}: "
                        f"{c['before'] or 'not in the first run'} → {c['after'] or 'not in the second run'}"
                        for c in d.changes]
        self.compared = True


def _list(title: str, items, item_class: str, color: str) -> rx.Component:
    return rx.cond(items.length() > 0, rx.vstack(
        rx.text(title, size="2", weight="bold"),
        rx.el.ul(rx.foreach(items, lambda t: rx.el.li(rx.text(t, size="2", color_scheme=color), class_name=item_class))),
        spacing="1", width="100%"))


def run_compare_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Compare two runs", size="3", as_="h3"),
        rx.cond(RunCompare.labels.length() < 2,
                rx.text("Run the tests twice (another version, or another platform) to compare two runs.", size="2",
                        color_scheme="gray", id="compare-runs-empty"),
                rx.vstack(
                    rx.hstack(
                        rx.select(RunCompare.labels, value=RunCompare.first, on_change=RunCompare.pick_first,
                                  id="compare-first", aria_label="The first run"),
                        rx.text("against", size="2"),
                        rx.select(RunCompare.labels, value=RunCompare.second, on_change=RunCompare.pick_second,
                                  id="compare-second", aria_label="The second run"),
                        rx.button("Compare", on_click=RunCompare.compare, variant="soft", id="compare-runs"),
                        align="center", wrap="wrap",
                    ),
                    rx.cond(RunCompare.problem_text != "", error(RunCompare.problem_text)),
                    rx.cond(RunCompare.compared, rx.vstack(
                        rx.table.root(
                            rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in
                                                           ("", "First run", "Second run", "Change")))),
                            rx.table.body(rx.foreach(RunCompare.rows, lambda r: rx.table.row(
                                rx.table.row_header_cell(r.measure), rx.table.cell(r.before), rx.table.cell(r.after),
                                rx.table.cell(r.change), class_name="compare-row"))),
                            width="100%", size="1", id="compare-table"),
                        _list("Newly failing", RunCompare.newly_failed, "newly-failed", "red"),
                        _list("Fixed", RunCompare.fixed, "fixed", "green"),
                        _list("Scenarios whose outcome changed", RunCompare.changes, "outcome-change", "gray"),
                        rx.cond((RunCompare.newly_failed.length() == 0) & (RunCompare.fixed.length() == 0)
                                & (RunCompare.changes.length() == 0),
                                rx.text("No check changed outcome between the two runs.", size="2")),
                        width="100%", id="compare-result")),
                    width="100%",
                )),
        width="100%", id="compare-runs-section",
    )
