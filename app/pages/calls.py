"""Calls: a filterable list paginated by keyset (fast at 1,000,000 calls: each page is an index
range scan, never an OFFSET), and a call page with transcript, recording, analysis, cost
breakdown, platform and A/B arm."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, time, timezone
from uuid import UUID

import reflex as rx

from app.backend import problem, seconds, usd, when
from app.components.layout import empty, error, loading, page_frame
from app.state import NotSignedIn, Session
from switchboard import calls
from switchboard.errors import NotFound
from switchboard.models import CallFilters

PAGE_SIZE = 25
ANY = "any"


@dataclasses.dataclass
class CallRow:
    id: str
    started: str
    provider: str
    direction: str
    from_number: str
    to_number: str
    status: str
    duration: str
    cost: str
    arm: str


class CallList(Session):
    rows: list[CallRow] = []
    loaded: bool = False
    load_error: str = ""
    provider: str = ANY
    status: str = ANY
    direction: str = ANY
    number: str = ""
    day_from: str = ""
    day_to: str = ""
    cursors: list[str] = []  # cursors of the pages before this one; "" = first page
    cursor: str = ""
    next_cursor: str = ""

    def _filters(self) -> CallFilters:
        def day(value: str, end: bool) -> datetime | None:
            if not value:
                return None
            d = datetime.strptime(value, "%Y-%m-%d").date()
            return datetime.combine(d, time.max if end else time.min, tzinfo=timezone.utc)

        return CallFilters(
            provider=None if self.provider == ANY else self.provider,
            status=None if self.status == ANY else self.status,
            direction=None if self.direction == ANY else self.direction,
            number=self.number or None,
            started_from=day(self.day_from, False),
            started_to=day(self.day_to, True),
        )

    @rx.event
    async def load(self):
        if not self.signed_in:
            return
        self.cursors, self.cursor = [], ""
        async for update in self._fetch():
            yield update

    async def _fetch(self):
        self.loaded, self.load_error = False, ""
        yield
        try:
            filters = self._filters()
            async with self._as_user() as conn:
                page = await calls.list_calls(conn, self._org(), filters, cursor=self.cursor or None, limit=PAGE_SIZE)
        except NotSignedIn:
            yield rx.redirect("/sign-in")
            return
        except Exception as exc:
            self.load_error, self.loaded = problem(exc), True
            return
        self.rows = [CallRow(
            id=str(c.id), started=when(c.started_at), provider=c.provider or "—", direction=c.direction,
            from_number=c.from_number or "—", to_number=c.to_number or "—", status=c.status,
            duration=seconds(c.duration_seconds), cost=usd(c.cost_amount, 4), arm=c.experiment_arm or "—",
        ) for c in page.items]
        self.next_cursor = page.next_cursor or ""
        self.loaded = True

    @rx.event
    async def apply(self, form: dict):
        self.provider = form.get("provider") or ANY
        self.status = form.get("status") or ANY
        self.direction = form.get("direction") or ANY
        self.number = (form.get("number") or "").strip()
        self.day_from, self.day_to = form.get("day_from") or "", form.get("day_to") or ""
        self.cursors, self.cursor = [], ""
        async for update in self._fetch():
            yield update

    @rx.event
    async def next_page(self):
        if not self.next_cursor:
            return
        self.cursors = [*self.cursors, self.cursor]
        self.cursor = self.next_cursor
        async for update in self._fetch():
            yield update

    @rx.event
    async def previous_page(self):
        if not self.cursors:
            return
        self.cursor = self.cursors[-1]
        self.cursors = self.cursors[:-1]
        async for update in self._fetch():
            yield update

    @rx.event
    def open_call(self, call_id: str):
        return rx.redirect(f"/calls/{call_id}")


def _select(name: str, label: str, options: list[str], value) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1"),
        rx.select([ANY, *options], name=name, default_value=value, size="2", id=f"filter-{name}"),
        spacing="1",
    )


def filters_bar() -> rx.Component:
    return rx.form(
        rx.hstack(
            _select("provider", "Platform", ["retell", "vapi", "signalwire", "livekit"], CallList.provider),
            _select("status", "Status", ["registered", "ongoing", "ended", "error", "not_connected"], CallList.status),
            _select("direction", "Direction", ["inbound", "outbound", "web"], CallList.direction),
            rx.vstack(rx.text("Number", size="1"), rx.input(name="number", placeholder="+1555… or its last digits",
                                                            width="160px", id="filter-number"), spacing="1"),
            rx.vstack(rx.text("From", size="1"), rx.input(name="day_from", type="date"), spacing="1"),
            rx.vstack(rx.text("To", size="1"), rx.input(name="day_to", type="date"), spacing="1"),
            rx.button("Filter", type="submit", id="apply-filters"),
            align="end", wrap="wrap", spacing="3",
        ),
        on_submit=CallList.apply,
    )


def calls_page() -> rx.Component:
    status_color = {"ended": "green", "ongoing": "blue", "error": "red", "not_connected": "gray", "registered": "amber"}
    return page_frame(
        "Calls",
        filters_bar(),
        rx.cond(CallList.load_error != "", error(CallList.load_error)),
        rx.cond(
            ~CallList.loaded,
            loading("Loading calls…"),
            rx.cond(
                CallList.rows.length() == 0,
                empty("No calls match. Clear the filters, or wait for the first call to come in."),
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Started", "Platform", "Direction", "From", "To", "Status", "Duration", "Cost", "Arm")])),
                    rx.table.body(rx.foreach(CallList.rows, lambda c: rx.table.row(
                        rx.table.cell(rx.link(c.started, href="/calls/" + c.id)),
                        rx.table.cell(c.provider), rx.table.cell(c.direction), rx.table.cell(c.from_number),
                        rx.table.cell(c.to_number),
                        rx.table.cell(rx.badge(c.status, color_scheme=rx.match(c.status, *status_color.items(), "gray"))),
                        rx.table.cell(c.duration), rx.table.cell(c.cost), rx.table.cell(c.arm),
                        cursor="pointer", on_click=CallList.open_call(c.id), class_name="call-row",
                    ))),
                    width="100%", size="1", id="calls-table",
                ), width="100%", overflow_x="auto"),
            ),
        ),
        rx.hstack(
            rx.button("← Previous", on_click=CallList.previous_page, disabled=CallList.cursors.length() == 0,
                      variant="soft", id="prev-page"),
            rx.button("Next →", on_click=CallList.next_page, disabled=CallList.next_cursor == "", variant="soft",
                      id="next-page"),
        ),
    )


# --- one call ----------------------------------------------------------------------------------
@dataclasses.dataclass
class Line:
    role: str
    text: str


@dataclasses.dataclass
class CostLine:
    component: str
    amount: str


class CallPage(Session):
    loaded: bool = False
    load_error: str = ""
    found: bool = False
    info: dict[str, str] = {}
    transcript: list[Line] = []
    transcript_text: str = ""
    recording_url: str = ""
    analysis: str = ""
    costs: list[CostLine] = []

    @rx.event
    async def load(self):
        if not self.signed_in:
            return
        self.loaded, self.load_error, self.found = False, "", False
        call_id = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            cid = UUID(call_id)
        except ValueError:
            self.loaded = True
            return
        try:
            async with self._as_user() as conn:
                c = await calls.get_call(conn, self._org(), cid)
        except NotFound:
            self.loaded = True
            return None
        except NotSignedIn:
            return rx.redirect("/sign-in")
        except Exception as exc:
            self.load_error, self.loaded = problem(exc), True
            return None
        self.loaded = True
        self.found = True
        self.info = {
            "Platform": c.provider or "—", "Platform call id": c.provider_call_id or "—",
            "A/B arm": c.experiment_arm or "—", "Direction": c.direction, "From": c.from_number or "—",
            "To": c.to_number or "—", "Status": c.status, "Started": when(c.started_at), "Ended": when(c.ended_at),
            "Duration": seconds(c.duration_seconds),
            "Outcome": {True: "successful", False: "not successful", None: "—"}[c.successful],
            "Sentiment": c.sentiment or "—", "Disconnection": c.disconnection_reason or "—",
        }
        self.transcript = [Line(role=str(t.get("role", "")), text=str(t.get("content", t.get("text", ""))))
                           for t in (c.transcript_object or []) if isinstance(t, dict)]
        self.transcript_text = c.transcript or ""
        self.recording_url = c.recording_url or ""
        self.analysis = json.dumps(c.analysis, indent=2, sort_keys=True) if c.analysis else ""
        u = c.usage
        self.costs = [] if u is None else [
            CostLine(component=name, amount=usd(getattr(u, field), 4)) for name, field in (
                ("STT", "stt_cost"), ("LLM", "llm_cost"), ("TTS", "tts_cost"), ("Platform", "platform_cost"),
                ("Telephony", "telephony_cost"), ("Total", "cost_amount"))
        ]
        return None


def call_page() -> rx.Component:
    return page_frame(
        "Call",
        rx.link("← All calls", href="/calls"),
        rx.cond(
            CallPage.load_error != "",
            error(CallPage.load_error),
            rx.cond(
                ~CallPage.loaded,
                loading("Loading the call…"),
                rx.cond(
                    ~CallPage.found,
                    empty("No such call in this organisation."),
                    rx.vstack(
                        rx.grid(
                            rx.foreach(CallPage.info, lambda kv: rx.vstack(
                                rx.text(kv[0], size="1", color_scheme="gray"), rx.text(kv[1], size="2"), spacing="0")),
                            columns="4", spacing="3", width="100%", id="call-info",
                        ),
                        rx.grid(
                            rx.card(rx.vstack(
                                rx.heading("Cost", size="3"),
                                rx.cond(CallPage.costs.length() > 0,
                                        rx.table.root(rx.table.body(rx.foreach(CallPage.costs, lambda c: rx.table.row(
                                            rx.table.cell(c.component), rx.table.cell(c.amount)))), size="1",
                                            id="call-costs"),
                                        rx.text("No cost reported for this call yet.", size="2", color_scheme="gray")),
                            )),
                            rx.card(rx.vstack(
                                rx.heading("Recording", size="3"),
                                rx.cond(CallPage.recording_url != "",
                                        rx.link("Open the recording", href=CallPage.recording_url, is_external=True,
                                                id="recording-link"),
                                        rx.text("No recording for this call.", size="2", color_scheme="gray")),
                            )),
                            columns="2", spacing="3", width="100%",
                        ),
                        rx.card(rx.vstack(
                            rx.heading("Transcript", size="3"),
                            rx.cond(
                                CallPage.transcript.length() > 0,
                                rx.vstack(rx.foreach(CallPage.transcript, lambda l: rx.hstack(
                                    rx.badge(l.role, variant="soft"), rx.text(l.text, size="2"), align="start"))),
                                rx.cond(CallPage.transcript_text != "",
                                        rx.text(CallPage.transcript_text, size="2", white_space="pre-wrap"),
                                        rx.text("No transcript for this call.", size="2", color_scheme="gray")),
                            ),
                        ), width="100%", id="transcript"),
                        rx.card(rx.vstack(
                            rx.heading("Analysis", size="3"),
                            rx.cond(CallPage.analysis != "", rx.el.pre(CallPage.analysis, font_size="12px", id="call-analysis"),
                                    rx.text("No analysis for this call.", size="2", color_scheme="gray")),
                        ), width="100%"),
                        spacing="3", width="100%",
                    ),
                ),
            ),
        ),
    )
