"""Cost dashboard (plotly): spend this month and its trend, cost per platform per day, the
STT / LLM / TTS / platform / telephony breakdown, cost per minute per platform beside its answer
latency (p50/p90 and parts, from the latency histogram), the A/B
comparison of the agent's arms with a significance test and verdict, and savings found in the
organisation's own calls. Figures come from the daily rollup, so the page costs the same at
1,000,000 calls as at 1,000."""

from __future__ import annotations

import dataclasses

import plotly.graph_objects as go
import plotly.io as pio
import reflex as rx

from app.backend import problem, usd
from app.components.latency import PlatformLatencyRow, platform_latency_section, platform_rows
from app.components.layout import empty, error, loading, page_frame, section, stat
from app.state import Session
from switchboard import analytics, experiments, pricing, savings
from switchboard.providers import registry

COMPONENT_NAMES = {"stt": "STT", "llm": "LLM", "tts": "TTS", "platform": "Platform", "telephony": "Telephony"}


def _color(code: str) -> str:
    return registry.descriptor(code).color if code in registry.PLATFORMS else "#888"


# Static charts: no mode bar over the titles, no zoom to get lost in.
PLOT_CONFIG = {"displayModeBar": False, "responsive": True}
# Plotly's white and dark templates, chosen in the browser by the app's colour mode.
CHART_THEME = rx.color_mode_cond(light=pio.templates["plotly_white"], dark=pio.templates["plotly_dark"]).to(go.layout.Template)


def _layout(fig: go.Figure, title: str) -> go.Figure:
    # No colours of our own: the chart's template follows the app's colour mode (CHART_THEME),
    # and a transparent background lets the card's show through in light and dark alike.
    fig.update_layout(title=dict(text=title, font=dict(size=14)), autosize=True, margin=dict(l=48, r=12, t=44, b=30),
                      height=300, plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)",
                      legend=dict(orientation="h", y=-0.15), font=dict(size=11), bargap=0.25)
    fig.update_xaxes(showgrid=False)
    fig.update_yaxes(tickprefix="$")
    return fig


def _chart(figure, chart_id: str) -> rx.Component:
    return rx.plotly.basic(data=figure, config=PLOT_CONFIG, id=chart_id, template=CHART_THEME, width="100%")


@dataclasses.dataclass
class ArmRow:
    arm: str
    calls: str
    cost_per_minute: str
    duration: str
    success: str
    positive: str


@dataclasses.dataclass
class TestRow:
    measure: str
    test: str
    p_value: str
    result: str


@dataclasses.dataclass
class PriceRow:
    code: str
    name: str
    list_price: str  # switchboard.pricing's labels, as on the onboarding and agent pages
    measured: str


@dataclasses.dataclass
class SavingRow:
    sentence: str
    saving: str


PERIODS = ["7", "30", "90"]
COMPARE_BY = {"platform": "Platforms", "version": "Versions"}


class Dashboard(Session):
    days: str = "30"  # the charts' period, one of PERIODS
    charts_days: str = ""  # the period the charts show (differs from `days` while they update)
    extras_days: str = ""  # the period the A/B comparison and savings were computed for
    loaded: bool = False
    extras_loaded: bool = False
    load_error: str = ""
    has_usage: bool = False

    spend_month: str = ""
    spend_trend: str = ""
    calls_month: str = ""
    minutes_month: str = ""
    avg_cost_per_minute: str = ""

    per_day: go.Figure = go.Figure()
    components: go.Figure = go.Figure()
    per_minute: go.Figure = go.Figure()
    prices: list[PriceRow] = []
    latency_rows: list[PlatformLatencyRow] = []

    arms: list[ArmRow] = []
    tests: list[TestRow] = []
    verdict: str = ""
    compare_by: str = "platform"  # the A/B comparison's arms: one of COMPARE_BY
    comparing: bool = False  # the comparison is being recomputed for another choice
    savings: list[SavingRow] = []

    @rx.event
    async def load(self):
        if not self.signed_in:
            return
        self.loaded, self.extras_loaded, self.load_error = False, False, ""
        yield
        try:
            async with self._as_user() as conn:
                month = await analytics.spend_this_month(conn, self._org())
                charts = await self._chart_data(conn)
        except Exception as exc:
            yield self._failed(exc)
            return
        self._show_month(month)
        self._show_charts(*charts)
        self.has_usage = month.calls_this_month > 0 or bool(charts[0].providers)
        self.loaded = True
        # The per-call analyses come second, in the background, so the page is usable at once.
        yield Dashboard.load_extras

    @rx.event
    async def set_period(self, days: str | list[str]):
        days = days[0] if isinstance(days, list) and days else days
        if days not in PERIODS or days == self.days:
            return
        self.days, self.extras_loaded = days, False
        yield  # the switch shows the new period at once; the charts follow
        try:
            async with self._as_user() as conn:
                charts = await self._chart_data(conn)
        except Exception as exc:
            self.load_error = problem(exc)
            return
        self._show_charts(*charts)
        yield Dashboard.load_extras

    async def _chart_data(self, conn):
        org, days = self._org(), int(self.days)
        return (await analytics.cost_per_provider_per_day(conn, org, days=days),
                await analytics.component_breakdown(conn, org, days=days),
                await pricing.platform_prices(conn, org, days=days),
                await analytics.latency_by_provider(conn, org, days=days))

    def _show_month(self, month) -> None:
        self.spend_month = usd(month.this_month)
        self.calls_month = f"{month.calls_this_month:,}"
        self.minutes_month = f"{month.minutes_this_month:,.0f}"
        self.avg_cost_per_minute = (pricing.per_minute(month.this_month / month.minutes_this_month)
                                    if month.minutes_this_month else "—")
        if month.change_vs_last_month_pct is not None:
            change = month.change_vs_last_month_pct
            self.spend_trend = (f"{'▲' if change >= 0 else '▼'} {abs(change):.0f} % against the same days of last "
                                f"month ({usd(month.last_month_to_date)})")
        else:
            self.spend_trend = "No spend in the same days of last month to compare with."

    def _show_charts(self, daily, breakdown, cpm, latencies) -> None:
        self.charts_days = self.days
        period = f"last {self.days} days"
        self.per_day = self._per_day(daily, period)
        parts = list(breakdown.components)
        self.components = _layout(go.Figure(go.Bar(
            x=[COMPONENT_NAMES[c.component] for c in parts], y=[c.cost for c in parts], marker_color="#6366f1",
            text=[f"{usd(c.cost)} ({c.share:.0%})" for c in parts], textposition="outside", textangle=0,
            cliponaxis=False,
        )), f"Where the money goes ({period})")
        # What your calls cost per minute, per platform, and every platform's list price beside it.
        used = sorted((p for p in cpm.values() if p.measured is not None), key=lambda p: (p.measured, p.code))
        self.per_minute = _layout(go.Figure(go.Bar(
            x=[p.name for p in used], y=[float(p.measured) for p in used],
            marker_color=[_color(p.code) for p in used],
            text=[pricing.per_minute(p.measured) for p in used], textposition="outside", textangle=0, cliponaxis=False,
        )), f"What your calls cost per minute, per platform ({period})")
        self.prices = [PriceRow(code=p.code, name=p.name, list_price=pricing.list_label(p),
                                measured=pricing.measured_label(p)) for p in cpm.values()]
        self.latency_rows = platform_rows(latencies, cpm)  # latency per platform beside its cost

    @rx.event(background=True)
    async def load_extras(self):
        """A/B comparison and savings: they read the period's calls, so they run without holding
        the page's state (every control stays responsive meanwhile)."""
        days = self.days
        try:
            async with self._as_user() as conn:
                org = self._org()
                comparison = await experiments.compare_arms(conn, org, days=int(days), by=self.compare_by)
                found = await savings.recommendations(conn, org, days=int(days))
        except Exception as exc:
            async with self:
                self.verdict, self.arms, self.tests, self.savings = problem(exc), [], [], []
                self.extras_days, self.extras_loaded = days, True
            return
        async with self:
            if self.days == days:  # the period did not change meanwhile
                self._show_extras(comparison, found, int(days))

    def _show_extras(self, comparison, found, days: int) -> None:
        self._show_comparison(comparison)
        self.savings = [SavingRow(sentence=s.sentence, saving=usd(s.saving)) for s in found]
        self.extras_days = str(days)
        self.extras_loaded = True

    @rx.event
    def set_compare_by(self, value: str | list[str]):
        value = value[0] if isinstance(value, list) and value else value
        if value not in COMPARE_BY or value == self.compare_by:
            return
        self.compare_by, self.comparing = value, True
        return Dashboard.load_comparison

    @rx.event(background=True)
    async def load_comparison(self):
        """The A/B comparison alone, for the other choice of arms (platforms or versions)."""
        days, by = self.days, self.compare_by
        try:
            async with self._as_user() as conn:
                comparison = await experiments.compare_arms(conn, self._org(), days=int(days), by=by)
        except Exception as exc:
            async with self:
                self.verdict, self.arms, self.tests, self.comparing = problem(exc), [], [], False
            return
        async with self:
            if (self.days, self.compare_by) == (days, by):
                self._show_comparison(comparison)
                self.comparing = False

    def _show_comparison(self, comparison) -> None:
        self.arms = [ArmRow(
            arm=registry.label(a.arm), calls=f"{a.calls:,}", cost_per_minute=usd(a.cost_per_minute, 4),
            duration=f"{a.avg_duration_seconds:.0f} s" if a.avg_duration_seconds is not None else "—",
            success=f"{a.success_rate:.0%}" if a.success_rate is not None else "—",
            positive=f"{a.positive_rate:.0%}" if a.positive_rate is not None else "—",
        ) for a in comparison.arms]
        self.tests = [TestRow(
            measure=t.measure.capitalize(), test=t.test,
            p_value="—" if t.p_value is None else "< 0.0001" if t.p_value < 0.0001 else f"{t.p_value:.4f}",
            result=(f"{registry.label(t.better_arm)} is better" if t.significant and t.better_arm else
                    "significant difference" if t.significant else
                    "no significant difference" if t.p_value is not None else t.note),
        ) for t in comparison.tests]
        self.verdict = comparison.verdict

    @staticmethod
    def _per_day(series, period: str) -> go.Figure:
        fig = go.Figure()
        for p in series.providers:
            fig.add_trace(go.Bar(x=[pt.day.isoformat() for pt in p.points], y=[pt.cost for pt in p.points],
                                 name=p.provider_name, marker_color=_color(p.provider_code)))
        fig.update_layout(barmode="stack")
        return _layout(fig, f"Cost per platform per day ({period})")


def compare_by_control() -> rx.Component:
    """Compare by: platform (the traffic split's arms) | version (the agent versions that served the calls)."""
    return rx.hstack(
        rx.text("Compare by", size="2", color_scheme="gray", id="compare-by-label"),
        rx.segmented_control.root(
            *[rx.segmented_control.item(label, value=by, id=f"compare-by-{by}") for by, label in COMPARE_BY.items()],
            value=Dashboard.compare_by, on_change=Dashboard.set_compare_by, id="compare-by", size="1",
            custom_attrs={"aria-labelledby": "compare-by-label"},
        ),
        align="center",
    )


def ab_section() -> rx.Component:
    return section(
        ("A/B comparison", rx.cond(Dashboard.extras_loaded, ", last " + Dashboard.extras_days + " days", "")),
        compare_by_control(),
        rx.cond(
            ~Dashboard.extras_loaded | Dashboard.comparing,
            loading("Comparing arms…"),
            rx.vstack(
                rx.cond(Dashboard.arms.length() > 0, rx.box(rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        rx.cond(Dashboard.compare_by == "version", "Version", "Arm"), "Calls", "Cost / min",
                        "Avg duration", "Success", "Positive sentiment")])),
                    rx.table.body(rx.foreach(Dashboard.arms, lambda a: rx.table.row(
                        rx.table.cell(a.arm), rx.table.cell(a.calls), rx.table.cell(a.cost_per_minute),
                        rx.table.cell(a.duration), rx.table.cell(a.success), rx.table.cell(a.positive)))),
                    width="100%", size="1", id="ab-table",
                ), width="100%", overflow_x="auto")),
                rx.cond(Dashboard.tests.length() > 0, rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Measure", "Test", "p", "Result")])),
                    rx.table.body(rx.foreach(Dashboard.tests, lambda t: rx.table.row(
                        rx.table.cell(t.measure), rx.table.cell(t.test), rx.table.cell(t.p_value),
                        rx.table.cell(t.result)))),
                    width="100%", size="1",
                )),
                rx.callout.root(rx.callout.icon(rx.icon("scale")), rx.callout.text(Dashboard.verdict),
                                id="ab-verdict"),
                width="100%",
            ),
        ),
    )


def prices_section() -> rx.Component:
    return rx.card(
        rx.heading("Price per minute", size="3", as_="h2"),
        rx.text("Each platform's list price, and what your own calls on it cost in the period.",
                size="1", color_scheme="gray"),
        rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell("Platform"),
                                         rx.table.column_header_cell("List price"),
                                         rx.table.column_header_cell("Your calls"))),
            rx.table.body(rx.foreach(Dashboard.prices, lambda p: rx.table.row(
                rx.table.row_header_cell(p.name), rx.table.cell(p.list_price, id="list-price-" + p.code),
                rx.table.cell(p.measured, id="measured-price-" + p.code), id="price-row-" + p.code))),
            size="1", width="100%",
        ),
        width="100%", id="prices",
    )


def savings_section() -> rx.Component:
    return section(
        "Ways to save",
        rx.cond(
            ~Dashboard.extras_loaded,
            loading("Looking for savings in your calls…"),
            rx.cond(
                Dashboard.savings.length() > 0,
                rx.vstack(rx.foreach(Dashboard.savings, lambda s: rx.callout.root(
                    rx.callout.icon(rx.icon("piggy-bank")), rx.callout.text(s.sentence), color_scheme="green",
                    class_name="saving")), width="100%"),
                rx.text("Your calls already run on the cheapest platform that fits your agents.",
                        size="2", color_scheme="gray", id="no-savings"),
            ),
        ),
    )


def period_control() -> rx.Component:
    return rx.segmented_control.root(
        *[rx.segmented_control.item(f"{d} days", value=d, id=f"period-{d}") for d in PERIODS],
        value=Dashboard.days, on_change=Dashboard.set_period, id="period",
    )


def dashboard_page() -> rx.Component:
    return page_frame(
        "Costs",
        rx.cond(
            Dashboard.load_error != "",
            error(Dashboard.load_error),
            rx.cond(
                ~Dashboard.loaded,
                loading("Adding up your costs…"),
                rx.cond(
                    ~Dashboard.has_usage,
                    empty("No calls with costs yet. Once calls come in, their costs appear here per platform and "
                          "per component."),
                    rx.vstack(
                        rx.hstack(
                            stat("Spend this month", Dashboard.spend_month, Dashboard.spend_trend, id="spend-month"),
                            stat("Calls this month", Dashboard.calls_month, id="calls-month"),
                            stat("Minutes this month", Dashboard.minutes_month, id="minutes-month"),
                            stat("Average per minute (your calls, this month)", Dashboard.avg_cost_per_minute, id="avg-cpm"),
                            wrap="wrap", spacing="3",
                        ),
                        rx.vstack(
                            rx.card(_chart(Dashboard.per_day, "chart-per-day"), width="100%"),
                            rx.grid(
                                rx.card(_chart(Dashboard.components, "chart-components")),
                                rx.card(_chart(Dashboard.per_minute, "chart-per-minute")),
                                columns=rx.breakpoints(initial="1", md="2"), spacing="3", width="100%",
                            ),
                            prices_section(),
                            platform_latency_section(Dashboard.latency_rows, Dashboard.charts_days),
                            # dimmed while the charts are recomputed for a new period
                            opacity=rx.cond(Dashboard.charts_days == Dashboard.days, "1", "0.5"),
                            transition="opacity 0.2s", spacing="4", width="100%",
                        ),
                        ab_section(),
                        savings_section(),
                        spacing="4", width="100%", id="dashboard-ready",
                    ),
                ),
            ),
        ),
        actions=rx.cond(Dashboard.loaded & Dashboard.has_usage, period_control()),
    )
