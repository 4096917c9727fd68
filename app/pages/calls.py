"""Calls: a filterable, searchable list paginated by keyset (fast at 1,000,000 calls: each page
is an index range scan, never an OFFSET) with its count and a streamed CSV export, and a call
page with transcript, recording player, analysis fields, cost breakdown, latency per part,
platform and A/B arm.

Times are shown in the browser's own time zone (asked of Intl on load; UTC when it gives
none), to the second, the zone named."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, time
from typing import Any
from uuid import UUID

import reflex as rx

from app.backend import export_ticket, seconds, usd, when_local, zone
from app.components.latency import LatencyLine, call_latency_card, call_lines, turns_words
from app.components.layout import field_label, empty, error, loading, page_frame
from app.components.outbound import do_not_call_section, end_call_button
from app.state import Session
from switchboard import calls
from switchboard.errors import NotFound
from switchboard.models import CallFilters
from switchboard.outbound.calls import LIVE_STATUSES
from switchboard.providers import registry

PAGE_SIZE = 25
ANY = "any"
BROWSER_ZONE = "Intl.DateTimeFormat().resolvedOptions().timeZone"


class LocalTime(Session):
    """The reader's time zone (IANA name from the browser); "" until the browser has said."""

    tz: str = ""

    def _zone_name(self) -> str:
        return self.tz if zone(self.tz).__class__.__name__ == "ZoneInfo" else "UTC"


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


def count_words(n: int | None, capped: bool) -> str:
    if n is None:
        return "Many calls (too many to count quickly)"
    return f"{n:,}+ calls" if capped else ("1 call" if n == 1 else f"{n:,} calls")


class CallList(LocalTime):
    rows: list[CallRow] = []
    loaded: bool = False
    load_error: str = ""
    total: str = ""
    q: str = ""
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
            try:
                d = datetime.strptime(value, "%Y-%m-%d").date()
            except ValueError:
                raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
            return datetime.combine(d, time.max if end else time.min, tzinfo=zone(self.tz))  # the reader's days

        return CallFilters(
            provider=None if self.provider == ANY else self.provider,
            status=None if self.status == ANY else self.status,
            direction=None if self.direction == ANY else self.direction,
            number=self.number or None,
            started_from=day(self.day_from, False),
            started_to=day(self.day_to, True),
            q=self.q or None,
        )

    @rx.event
    async def load(self):
        if not self.signed_in:
            return
        self.cursors, self.cursor = [], ""
        # Ask the browser for its zone; the list is read once it answers (got_zone).
        return rx.call_script(BROWSER_ZONE, callback=CallList.got_zone)

    @rx.event
    async def got_zone(self, name: Any):
        self.tz = name if isinstance(name, str) else ""
        async for update in self._fetch(count=True):
            yield update

    async def _fetch(self, count: bool = False):
        self.loaded, self.load_error = False, ""
        yield
        try:
            filters = self._filters()
            async with self._as_user() as conn:
                page = await calls.list_calls(conn, self._org(), filters, cursor=self.cursor or None, limit=PAGE_SIZE)
                if count:
                    self.total = count_words(*await calls.count_calls(conn, self._org(), filters))
        except Exception as exc:
            yield self._failed(exc, rows=[], total="", next_cursor="", cursors=[], cursor="", loaded=True)
            return
        self.rows = [CallRow(
            id=str(c.id), started=when_local(c.started_at, self.tz), provider=c.provider or "—", direction=c.direction,
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
        self.q = (form.get("q") or "").strip()
        self.cursors, self.cursor = [], ""
        async for update in self._fetch(count=True):
            yield update

    @rx.event
    async def export(self):
        """A download of the filtered list as CSV: a one-export ticket, then the browser fetches
        /export/calls.csv (streamed by the back end, see app.backend.calls_csv)."""
        try:
            filters = self._filters()
            async with self._as_user() as conn:  # the filters are checked here, before the download
                await calls.count_calls(conn, self._org(), filters, cap=0)
            ticket = export_ticket(self._claims(), self._org(), filters)
        except Exception as exc:
            return self._failed(exc, rows=[], total="", next_cursor="")
        url = "/export/calls.csv?ticket=" + ticket
        return rx.call_script(
            "(() => { const a = document.createElement('a'); a.href = " + json.dumps(url) + "; "
            "a.download = ''; document.body.appendChild(a); a.click(); a.remove(); })()")

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


def _label(text: str, for_id: str) -> rx.Component:
    return field_label(text, for_id=for_id, size="1", weight="medium")


def _select(name: str, label: str, options: list[str], value) -> rx.Component:
    return rx.vstack(
        _label(label, f"filter-{name}"),
        rx.select([ANY, *options], name=name, default_value=value, size="2", id=f"filter-{name}"),
        spacing="1",
    )


def _field(label: str, for_id: str, control: rx.Component, **props) -> rx.Component:
    return rx.vstack(_label(label, for_id), control, spacing="1", **props)


def filters_bar() -> rx.Component:
    return rx.form(
        rx.flex(
            _field("Search", "filter-q", rx.input(
                name="q", type="search", placeholder="Words said, a call id or a number", width="100%",
                id="filter-q", max_length=200), width="min(320px, 100%)"),
            _select("provider", "Platform", list(registry.codes()), CallList.provider),
            _select("status", "Status", ["registered", "ongoing", "ended", "error", "not_connected"], CallList.status),
            _select("direction", "Direction", ["inbound", "outbound", "web", "chat"], CallList.direction),
            _field("Number", "filter-number", rx.input(name="number", placeholder="+1555… or its last digits",
                                                       width="160px", id="filter-number")),
            _field("From (your day)", "filter-day-from", rx.input(name="day_from", type="date", id="filter-day-from")),
            _field("To (your day)", "filter-day-to", rx.input(name="day_to", type="date", id="filter-day-to")),
            rx.button("Filter", type="submit", id="apply-filters"),
            align="end", wrap="wrap", gap="3", width="100%",
        ),
        on_submit=CallList.apply,
        width="100%",
    )


def _call_card(c: CallRow, status_color: dict) -> rx.Component:
    """A call as a stacked card (phone-sized screens: the table's nine columns do not fit)."""
    return rx.link(rx.card(rx.vstack(
        rx.hstack(rx.text(c.started, size="2", weight="medium"), rx.spacer(),
                  rx.badge(c.status, color_scheme=rx.match(c.status, *status_color.items(), "gray")), width="100%"),
        rx.text(c.provider, " · ", c.direction, " · ", c.duration, " · ", c.cost, size="1", color_scheme="gray"),
        rx.text(c.from_number, " → ", c.to_number, size="1", color_scheme="gray"),
        spacing="1", width="100%"),
    width="100%"), href="/calls/" + c.id, underline="none", width="100%", class_name="call-card")


def calls_page() -> rx.Component:
    status_color = {"ended": "green", "ongoing": "blue", "error": "red", "not_connected": "gray", "registered": "amber"}
    table = rx.box(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
            "Started", "Platform", "Direction", "From", "To", "Status", "Duration", "Cost", "Arm")])),
        rx.table.body(rx.foreach(CallList.rows, lambda c: rx.table.row(
            rx.table.cell(rx.link(c.started, href="/calls/" + c.id), white_space="nowrap"),
            rx.table.cell(c.provider), rx.table.cell(c.direction), rx.table.cell(c.from_number),
            rx.table.cell(c.to_number),
            rx.table.cell(rx.badge(c.status, color_scheme=rx.match(c.status, *status_color.items(), "gray"))),
            rx.table.cell(c.duration), rx.table.cell(c.cost), rx.table.cell(c.arm),
            cursor="pointer", on_click=CallList.open_call(c.id), class_name="call-row",
        ))),
        width="100%", size="1", id="calls-table",
    ), width="100%", overflow_x="auto", display=rx.breakpoints(initial="none", sm="block"))
    cards = rx.vstack(rx.foreach(CallList.rows, lambda c: _call_card(c, status_color)), width="100%", spacing="2",
                      display=rx.breakpoints(initial="flex", sm="none"), id="calls-cards")
    return page_frame(
        "Calls",
        filters_bar(),
        rx.cond(
            CallList.load_error != "",
            error(CallList.load_error),  # only the error: no stale rows under it
            rx.cond(
                ~CallList.loaded,
                loading("Loading calls…"),
                rx.vstack(
                    rx.hstack(
                        rx.text(CallList.total, size="2", weight="medium", id="calls-total"),
                        rx.text("Times in ", rx.cond(CallList.tz != "", CallList.tz, "UTC"), size="1",
                                color_scheme="gray", id="calls-zone"),
                        rx.spacer(),
                        rx.button(rx.icon("download", size=14), "Export CSV", on_click=CallList.export, variant="soft",
                                  size="1", id="export-csv"),
                        align="center", width="100%", wrap="wrap",
                    ),
                    rx.cond(
                        CallList.rows.length() == 0,
                        empty("No calls match. Clear the filters, or wait for the first call to come in."),
                        rx.fragment(table, cards),
                    ),
                    width="100%", spacing="2",
                ),
            ),
        ),
        rx.hstack(
            rx.button("← Previous", on_click=CallList.previous_page, disabled=CallList.cursors.length() == 0,
                      variant="soft", id="prev-page"),
            rx.button("Next →", on_click=CallList.next_page, disabled=CallList.next_cursor == "", variant="soft",
                      id="next-page"),
        ),
        do_not_call_section(),
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


@dataclasses.dataclass
class Field:
    label: str
    value: str


_SUMMARY_KEYS = ("summary", "call_summary")
_SENTIMENT_KEYS = ("sentiment", "user_sentiment")
_SUCCESS_KEYS = ("successful", "call_successful", "success", "successEvaluation")
_CUSTOM_KEYS = ("data", "custom", "custom_analysis_data", "structuredData", "structured_data")


def _words(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _label_of(key: str) -> str:
    spaced = "".join(" " + ch.lower() if ch.isupper() else ch for ch in str(key)).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:]


def analysis_fields(analysis: Any, sentiment: str | None, successful: bool | None) -> tuple[str, str, str, list[Field]]:
    """(summary, sentiment, success, custom fields) from any platform's analysis: Retell's
    call_analysis, Vapi's summary / structuredData / successEvaluation, SignalWire's answer."""
    a = analysis if isinstance(analysis, dict) else {}

    def first(keys):
        return next((a[k] for k in keys if a.get(k) not in (None, "")), None)

    summary = first(_SUMMARY_KEYS)
    feeling = first(_SENTIMENT_KEYS) or sentiment
    success = first(_SUCCESS_KEYS)
    success = successful if success is None else success
    custom: list[Field] = []
    for key in _CUSTOM_KEYS:
        if isinstance(a.get(key), dict):
            custom += [Field(_label_of(k), _words(v)) for k, v in sorted(a[key].items())]
    known = {*_SUMMARY_KEYS, *_SENTIMENT_KEYS, *_SUCCESS_KEYS, *_CUSTOM_KEYS}
    custom += [Field(_label_of(k), _words(v)) for k, v in sorted(a.items()) if k not in known]
    success_words = ("successful" if success else "not successful") if isinstance(success, bool) else _words(success)
    return (_words(summary), _words(feeling), success_words, custom)


def playable(url: str | None) -> str:
    """The recording URL if a browser may play it here: http(s) only (never javascript:, data:…)."""
    text = (url or "").strip()
    return text if text.lower().startswith(("https://", "http://")) and len(text) < 4096 else ""


class CallPage(LocalTime):
    loaded: bool = False
    load_error: str = ""
    found: bool = False
    call_id: str = ""
    provider_call_id: str = ""
    live: bool = False  # registered or ongoing: "End call" is offered
    info: list[Field] = []
    transcript: list[Line] = []
    transcript_text: str = ""
    recording_url: str = ""
    recording_other: str = ""  # a recording reference that is not an http(s) URL: shown, never linked
    summary: str = ""
    sentiment: str = ""
    success: str = ""
    custom: list[Field] = []
    has_analysis: bool = False
    costs: list[CostLine] = []
    latency: list[LatencyLine] = []
    latency_turns: str = ""

    @rx.event
    async def load(self):
        if not self.signed_in:
            return
        self.loaded, self.load_error, self.found = False, "", False
        return rx.call_script(BROWSER_ZONE, callback=CallPage.got_zone)

    @rx.event
    async def got_zone(self, name: Any):
        self.tz = name if isinstance(name, str) else ""
        call_id = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            cid = UUID(call_id)
        except ValueError:
            self.loaded = True
            return None
        try:
            async with self._as_user() as conn:
                c = await calls.get_call(conn, self._org(), cid)
        except NotFound:
            self.loaded = True
            return None
        except Exception as exc:
            return self._failed(exc, loaded=True)
        self.loaded = True
        self.found = True
        self.call_id, self.provider_call_id = str(c.id), c.provider_call_id or ""
        self.live = c.status in LIVE_STATUSES and bool(c.provider_call_id)
        self.info = [Field(k, v) for k, v in {
            "Platform": c.provider or "—", "A/B arm": c.experiment_arm or "—", "Direction": c.direction,
            "From": c.from_number or "—", "To": c.to_number or "—", "Status": c.status,
            "Started": when_local(c.started_at, self.tz), "Ended": when_local(c.ended_at, self.tz),
            "Duration": seconds(c.duration_seconds),
            "Outcome": {True: "successful", False: "not successful", None: "—"}[c.successful],
            "Sentiment": c.sentiment or "—", "Disconnection": c.disconnection_reason or "—",
        }.items()]
        self.transcript = [Line(role=str(t.get("role", "")), text=str(t.get("content", t.get("text", ""))))
                           for t in (c.transcript_object or []) if isinstance(t, dict)]
        self.transcript_text = c.transcript or ""
        self.recording_url = playable(c.recording_url)
        self.recording_other = (c.recording_url or "") if not self.recording_url else ""
        self.has_analysis = bool(c.analysis)
        self.summary, self.sentiment, self.success, self.custom = analysis_fields(c.analysis, c.sentiment, c.successful)
        u = c.usage
        self.costs = [] if u is None else [
            CostLine(component=name, amount=usd(getattr(u, field), 4)) for name, field in (
                ("STT", "stt_cost"), ("LLM", "llm_cost"), ("TTS", "tts_cost"), ("Platform", "platform_cost"),
                ("Telephony", "telephony_cost"), ("Total", "cost_amount"))
        ]
        self.latency, self.latency_turns = call_lines(c.latency), turns_words(c.latency)
        return None


def _id_line(label: str, value, id: str) -> rx.Component:
    """A long identifier: wraps anywhere inside its own column, with a copy button."""
    return rx.vstack(
        rx.text(label, size="1", color_scheme="gray"),
        rx.hstack(
            rx.code(value, size="1", word_break="break-all", id=id),
            rx.icon_button(rx.icon("copy", size=12), size="1", variant="ghost", aria_label=f"Copy the {label.lower()}",
                           on_click=[rx.set_clipboard(value), rx.toast(f"{label} copied")], id=f"copy-{id}"),
            align="start", spacing="1", width="100%",
        ),
        spacing="0", min_width="0", width="100%",
    )


def _dl_item(label, value, **props) -> rx.Component:
    return rx.box(rx.el.dt(rx.text(label, size="1", color_scheme="gray")),
                  rx.el.dd(rx.text(value, size="2", white_space="pre-wrap", word_break="break-word"), margin="0"),
                  min_width="0", class_name="analysis-field", **props)


def _card(title: str, *children, **props) -> rx.Component:
    return rx.card(rx.vstack(rx.heading(title, size="3", as_="h2"), *children, width="100%"), width="100%", **props)


def call_page() -> rx.Component:
    two = rx.breakpoints(initial="1", sm="2")
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
                            _id_line("Call id", CallPage.call_id, "call-id"),
                            rx.cond(CallPage.provider_call_id != "",
                                    _id_line("Platform call id", CallPage.provider_call_id, "provider-call-id"),
                                    rx.vstack(rx.text("Platform call id", size="1", color_scheme="gray"),
                                              rx.text("—", size="2"), spacing="0")),
                            columns=two, spacing="3", width="100%",
                        ),
                        end_call_button(CallPage.call_id, CallPage.live),
                        rx.grid(
                            rx.foreach(CallPage.info, lambda f: rx.vstack(
                                rx.text(f.label, size="1", color_scheme="gray"),
                                rx.text(f.value, size="2", word_break="break-word"), spacing="0", min_width="0")),
                            columns=rx.breakpoints(initial="2", sm="3", md="4"), spacing="3", width="100%",
                            id="call-info",
                        ),
                        rx.grid(
                            _card("Cost",
                                  rx.cond(CallPage.costs.length() > 0,
                                          rx.table.root(rx.table.body(rx.foreach(CallPage.costs, lambda c: rx.table.row(
                                              rx.table.cell(c.component), rx.table.cell(c.amount)))), size="1",
                                              id="call-costs"),
                                          rx.text("No cost reported for this call yet.", size="2", color_scheme="gray"))),
                            _card("Recording",
                                  rx.cond(
                                      CallPage.recording_url != "",
                                      rx.vstack(
                                          rx.el.audio(src=CallPage.recording_url, controls=True, preload="none",
                                                      width="100%", id="recording-player",
                                                      aria_label="Recording of the call"),
                                          rx.link("Open the recording", href=CallPage.recording_url, is_external=True,
                                                  id="recording-link", size="1"),
                                          width="100%"),
                                      rx.cond(CallPage.recording_other != "",
                                              rx.text("The recording is not at a web address this page can play: ",
                                                      rx.code(CallPage.recording_other, word_break="break-all"),
                                                      size="2", color_scheme="gray", id="recording-unplayable"),
                                              rx.text("No recording for this call.", size="2", color_scheme="gray")))),
                            columns=two, spacing="3", width="100%",
                        ),
                        call_latency_card(CallPage.latency, CallPage.latency_turns),
                        _card("Analysis",
                              rx.cond(
                                  CallPage.has_analysis,
                                  rx.el.dl(
                                      _dl_item("Summary", CallPage.summary, grid_column="1 / -1"),
                                      _dl_item("Sentiment", CallPage.sentiment),
                                      _dl_item("Success", CallPage.success),
                                      rx.foreach(CallPage.custom, lambda f: _dl_item(f.label, f.value)),
                                      display="grid", grid_template_columns="repeat(auto-fill, minmax(160px, 1fr))",
                                      gap="12px", margin="0", width="100%", id="call-analysis",
                                  ),
                                  rx.text("No analysis for this call.", size="2", color_scheme="gray"))),
                        _card("Transcript",
                              rx.cond(
                                  CallPage.transcript.length() > 0,
                                  rx.vstack(rx.foreach(CallPage.transcript, lambda l: rx.hstack(
                                      rx.badge(l.role, variant="soft"), rx.text(l.text, size="2"), align="start"))),
                                  rx.cond(CallPage.transcript_text != "",
                                          rx.text(CallPage.transcript_text, size="2", white_space="pre-wrap"),
                                          rx.text("No transcript for this call.", size="2", color_scheme="gray")),
                              ), id="transcript"),
                        spacing="3", width="100%",
                    ),
                ),
            ),
        ),
    )
