"""How long the agent took to answer, in words: the call page's latency card (p50/p90 of each
part over the call's turns) and the dashboard's latency-and-cost table per platform. A part a
platform does not report reads "not reported", never 0."""

from __future__ import annotations

import dataclasses

import reflex as rx

from switchboard.spec import LATENCY_PARTS, CallLatency

PART_NAMES = {
    "e2e": "Answer (end of speech → first audio)",
    "stt": "Transcript (STT final)",
    "eou": "End of turn",
    "llm": "LLM first token",
    "tts": "TTS first audio",
    "overhead": "Orchestration",
}


def ms(value: float | None) -> str:
    return "not reported" if value is None else f"{round(value):,} ms"


@dataclasses.dataclass
class LatencyLine:
    part: str
    name: str
    p50: str
    p90: str


def call_lines(latency: CallLatency | None) -> list[LatencyLine]:
    """The call's parts that have a figure, answer first."""
    if latency is None:
        return []
    return [LatencyLine(part=p, name=PART_NAMES[p], p50=ms(stat.p50_ms), p90=ms(stat.p90_ms))
            for p in LATENCY_PARTS if (stat := getattr(latency, p)) is not None]


def turns_words(latency: CallLatency | None) -> str:
    if latency is None or not latency.turns:
        return ""
    return f"Over {latency.turns} {'turn' if latency.turns == 1 else 'turns'}: half the answers came within p50, nine in ten within p90."


def call_latency_card(lines, turns) -> rx.Component:
    """`lines`: a list[LatencyLine] state var; `turns`: its sentence."""
    return rx.card(rx.vstack(
        rx.heading("Latency", size="3", as_="h2"),
        rx.cond(
            lines.length() > 0,
            rx.vstack(
                rx.table.root(
                    rx.table.header(rx.table.row(rx.table.column_header_cell("Part"),
                                                 rx.table.column_header_cell("p50"), rx.table.column_header_cell("p90"))),
                    rx.table.body(rx.foreach(lines, lambda l: rx.table.row(
                        rx.table.row_header_cell(l.name), rx.table.cell(l.p50, id="latency-p50-" + l.part),
                        rx.table.cell(l.p90, id="latency-p90-" + l.part)))),
                    size="1", width="100%", id="call-latency"),
                rx.text(turns, size="1", color_scheme="gray"),
                width="100%"),
            rx.text("No latency measured or reported for this call.", size="2", color_scheme="gray", id="no-latency"),
        ),
        width="100%"), width="100%")


@dataclasses.dataclass
class PlatformLatencyRow:
    code: str
    name: str
    cost: str  # what the platform's calls cost per minute (switchboard.pricing's label)
    calls: str
    e2e_p50: str
    e2e_p90: str
    parts: str  # the average of the calls' p50 of each part, in one line


def platform_rows(latencies, prices) -> list[PlatformLatencyRow]:
    """analytics.latency_by_provider beside pricing.platform_prices, one row per platform with
    calls measured or priced in the period (fastest first, then the rest)."""
    from switchboard import pricing

    by_code = {p.provider_code: p for p in latencies}
    codes = [p.provider_code for p in latencies] + [c for c, p in prices.items() if p.measured is not None and c not in by_code]
    rows = []
    for code in codes:
        lat, price = by_code.get(code), prices.get(code)
        parts = [f"{PART_NAMES[p].split(' (')[0]} {ms(getattr(lat, f'{p}_avg_ms'))}" for p in LATENCY_PARTS[1:]
                 if lat is not None and getattr(lat, f"{p}_avg_ms") is not None]
        rows.append(PlatformLatencyRow(
            code=code, name=lat.provider_name if lat else price.name,
            cost=pricing.per_minute(price.measured) if price and price.measured is not None else "no priced calls",
            calls=f"{lat.calls:,}" if lat else "0",
            e2e_p50=ms(lat.e2e_p50_ms) if lat else "not reported", e2e_p90=ms(lat.e2e_p90_ms) if lat else "not reported",
            parts=" · ".join(parts) or "—",
        ))
    return rows


def platform_latency_section(rows, days) -> rx.Component:
    """`rows`: a list[PlatformLatencyRow] state var; `days`: the period shown."""
    return rx.card(
        rx.heading("Latency and cost per platform", size="3", as_="h2"),
        rx.text("How long each platform's agent took to answer (the median call's p50 and p90, end of the caller's "
                "speech to the agent's first audio; its parts averaged over the calls) beside what its calls cost, "
                "last ", days, " days.",
                size="1", color_scheme="gray"),
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Platform", "Cost / min", "Answer p50", "Answer p90", "Parts (average p50)", "Calls measured")])),
            rx.table.body(rx.foreach(rows, lambda r: rx.table.row(
                rx.table.row_header_cell(r.name), rx.table.cell(r.cost, id="latency-cost-" + r.code),
                rx.table.cell(r.e2e_p50, id="latency-e2e-p50-" + r.code),
                rx.table.cell(r.e2e_p90, id="latency-e2e-p90-" + r.code),
                rx.table.cell(r.parts, id="latency-parts-" + r.code), rx.table.cell(r.calls),
                id="latency-row-" + r.code))),
            size="1", width="100%",
        ), width="100%", overflow_x="auto"),
        width="100%", id="platform-latency",
    )
