"""The agent's versions on its page: the history (number, author, time, which one is live), a
readable diff between any two, and publish / roll back (publishing an earlier number)."""

from __future__ import annotations

import dataclasses
from uuid import UUID

import reflex as rx

from app.backend import when
from app.components.layout import error
from app.state import Session
from switchboard import versions


@dataclasses.dataclass
class VersionRow:
    number: int
    label: str  # "v3"
    author: str
    created: str
    live: bool


@dataclasses.dataclass
class ChangeRow:
    label: str
    before: str
    after: str
    lines: list[str]


class AgentVersions(Session):
    agent_id: str = ""
    rows: list[VersionRow] = []
    compare_from: str = ""
    compare_to: str = ""
    changes: list[ChangeRow] = []
    problem_text: str = ""
    note: str = ""

    @rx.event
    async def load_for(self, agent_id: str):
        self.agent_id, self.problem_text = agent_id, ""
        try:
            async with self._as_user() as conn:
                listed = await versions.list_versions(conn, self._org(), UUID(agent_id))
        except Exception as exc:
            return self._failed(exc, into="problem_text")
        self.rows = [VersionRow(v.number, f"v{v.number}", v.author_email or "—", when(v.created_at), v.live) for v in listed]
        if len(listed) >= 2:
            self.compare_to, self.compare_from = str(listed[0].number), str(listed[1].number)
        await self._diff()

    async def _diff(self) -> None:
        self.changes = []
        if not (self.compare_from and self.compare_to and self.agent_id):
            return
        async with self._as_user() as conn:
            a = await versions.get_version(conn, self._org(), UUID(self.agent_id), int(self.compare_from))
            b = await versions.get_version(conn, self._org(), UUID(self.agent_id), int(self.compare_to))
        self.changes = [ChangeRow(c.label, c.before or "—", c.after or "—", c.lines) for c in versions.diff_specs(a.spec, b.spec)]

    @rx.event
    async def set_compare_from(self, value: str):
        self.compare_from = value
        await self._diff()

    @rx.event
    async def set_compare_to(self, value: str):
        self.compare_to = value
        await self._diff()

    @rx.event
    async def publish(self, number: int):
        self.problem_text, self.note = "", ""
        try:
            async with self._as_user() as conn:
                await versions.publish(conn, self._org(), UUID(self.agent_id), number)
        except Exception as exc:
            return self._failed(exc, into="problem_text")
        self.note = f"Version {number} is live; the platforms sync it in the background."
        return AgentVersions.load_for(self.agent_id)


def _row(v: VersionRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(v.label, weight="bold")),
        rx.table.cell(v.created),
        rx.table.cell(v.author),
        rx.table.cell(rx.cond(v.live, rx.badge("live", color_scheme="green"), rx.badge("draft", color_scheme="gray"))),
        rx.table.cell(rx.cond(v.live, rx.fragment(),
                              rx.button("Publish", size="1", variant="soft", on_click=AgentVersions.publish(v.number),
                                        id="publish-v" + v.number.to_string()))),
        class_name="version-row",
    )


def _change(c: ChangeRow) -> rx.Component:
    return rx.box(
        rx.text(c.label, weight="bold", size="2"),
        rx.cond(
            c.lines.length() > 0,
            rx.el.pre(rx.foreach(c.lines, lambda line: rx.el.div(line)), class_name="version-diff-lines"),
            rx.hstack(rx.text("before: ", c.before, size="2", color_scheme="red"),
                      rx.text("after: ", c.after, size="2", color_scheme="green"), spacing="3", wrap="wrap"),
        ),
        class_name="version-change", width="100%",
    )


def versions_section() -> rx.Component:
    numbers = rx.foreach(AgentVersions.rows, lambda v: rx.select.item(v.label, value=v.number.to_string()))
    return rx.vstack(
        rx.heading("Versions", size="4", as_="h2"),
        rx.text("Every save is a draft version; publishing one makes it live on the platforms. "
                "Publishing an earlier one rolls back to it.", size="2", color_scheme="gray"),
        rx.cond(AgentVersions.problem_text != "", error(AgentVersions.problem_text)),
        rx.cond(AgentVersions.note != "", rx.callout.root(rx.callout.text(AgentVersions.note), color_scheme="green",
                                                          id="version-note")),
        rx.table.root(
            rx.table.header(rx.table.row(*(rx.table.column_header_cell(h) for h in ("Version", "Saved", "By", "State", "")))),
            rx.table.body(rx.foreach(AgentVersions.rows, _row)),
            width="100%", id="versions-table",
        ),
        rx.cond(
            AgentVersions.rows.length() > 1,
            rx.vstack(
                rx.hstack(
                    rx.text("Compare", size="2"),
                    rx.select.root(rx.select.trigger(id="compare-from", aria_label="Compare from version"), rx.select.content(numbers),
                                   value=AgentVersions.compare_from, on_change=AgentVersions.set_compare_from),
                    rx.text("with", size="2"),
                    rx.select.root(rx.select.trigger(id="compare-to", aria_label="Compare with version"), rx.select.content(numbers),
                                   value=AgentVersions.compare_to, on_change=AgentVersions.set_compare_to),
                    align="center",
                ),
                rx.cond(AgentVersions.changes.length() > 0, rx.foreach(AgentVersions.changes, _change),
                        rx.text("No differences.", size="2", color_scheme="gray")),
                width="100%", id="versions-diff",
            ),
        ),
        width="100%", id="versions-section",
    )
