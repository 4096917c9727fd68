"""Platform health over the last 24 hours (or 1 hour, 7 days): success rate, latency and
circuit-breaker state per platform (from provider_health_minutely and provider_circuits,
written by the router), and the LiveKit worker's STT/LLM/TTS vendors with the remaining quota
their vendors publish for the organisation (switchboard.health_report.vendor_health)."""

from __future__ import annotations

import dataclasses

import reflex as rx

from app.components.layout import empty, error, loading, page_frame
from app.state import Session
from switchboard import health_report

CIRCUIT_WORDS = {
    "closed": "closed: taking calls",
    "open": "open: skipped until it recovers",
    "half_open": "half-open: trying one call",
}


@dataclasses.dataclass
class HealthRow:
    code: str
    name: str
    attempts: str
    success_rate: str
    avg_latency: str
    max_latency: str
    circuit: str
    circuit_words: str


@dataclasses.dataclass
class VendorRow:
    key: str
    name: str
    service: str
    attempts: str
    success_rate: str
    avg_latency: str
    quota: str  # "" when the vendor publishes none


SERVICE_WORDS = {"stt": "Speech to text", "llm": "Language model", "tts": "Text to speech"}


WINDOW_WORDS = {"1 h": "the last hour", "24 h": "the last 24 hours", "7 d": "the last 7 days"}


class Health(Session):
    loaded: bool = False
    load_error: str = ""
    rows: list[HealthRow] = []
    vendors: list[VendorRow] = []
    window: str = "24 h"  # one of health_report.WINDOWS

    @rx.var
    def window_words(self) -> str:
        return WINDOW_WORDS.get(self.window, self.window)

    @rx.event
    async def set_window(self, window: str | list[str]):
        window = window if isinstance(window, str) else window[0]
        if window in health_report.WINDOWS and window != self.window:
            self.window = window
            async for update in self.load():
                yield update

    @rx.event
    async def load(self):
        if not self.signed_in:
            return
        self.loaded, self.load_error = False, ""
        yield
        try:
            async with self._as_user() as conn:
                report = await health_report.platform_health(conn, hours=health_report.WINDOWS[self.window])
                vendors = await health_report.vendor_health(conn, hours=health_report.WINDOWS[self.window])
        except Exception as exc:
            yield self._failed(exc, loaded=True)
            return
        words = WINDOW_WORDS[self.window]
        self.rows = [HealthRow(
            code=r.code, name=r.name,
            attempts=f"{r.attempts:,} attempts in {words}" if r.attempts else f"No traffic in {words}",
            success_rate="—" if r.success_rate is None else f"{r.success_rate:.1%}",
            avg_latency="—" if r.avg_latency_ms is None else f"{r.avg_latency_ms:.0f} ms",
            max_latency="—" if r.max_latency_ms is None else f"{r.max_latency_ms:.0f} ms",
            circuit=r.circuit, circuit_words=CIRCUIT_WORDS.get(r.circuit, r.circuit),
        ) for r in report]
        self.vendors = [VendorRow(
            key=v.key, name=v.name, service=SERVICE_WORDS.get(v.type, v.type),
            attempts=f"{v.attempts:,} attempts in {words}" if v.attempts else f"No calls used it in {words}",
            success_rate="—" if v.success_rate is None else f"{v.success_rate:.1%}",
            avg_latency="—" if v.avg_latency_ms is None else f"{v.avg_latency_ms:.0f} ms",
            quota=v.quota_words(),
        ) for v in vendors]
        self.loaded = True


def window_control() -> rx.Component:
    return rx.segmented_control.root(
        *[rx.segmented_control.item(label, value=label, id="window-" + label.replace(" ", ""))
          for label in health_report.WINDOWS],
        value=Health.window, on_change=Health.set_window, id="window", aria_label="Time window",
    )


def health_page() -> rx.Component:
    colors = {"closed": "green", "open": "red", "half_open": "amber"}
    return page_frame(
        "Platform health",
        rx.text("Hand-offs, webhooks and API calls to each platform over ", Health.window_words, ".", size="2",
                color_scheme="gray"),
        rx.cond(Health.load_error != "", error(Health.load_error)),
        rx.cond(
            ~Health.loaded,
            loading("Reading the platforms' health…"),
            rx.cond(
                Health.rows.length() == 0,
                empty("No platforms are offered by this installation."),
                rx.grid(rx.foreach(Health.rows, lambda r: rx.card(rx.vstack(
                    rx.hstack(rx.heading(r.name, size="4", as_="h2"), rx.spacer(),
                              rx.badge(r.circuit_words, color_scheme=rx.match(r.circuit, *colors.items(), "gray"),
                                       id="circuit-" + r.code), width="100%"),
                    rx.hstack(
                        rx.vstack(rx.text("Success rate", size="1", color_scheme="gray"),
                                  rx.text(r.success_rate, size="6", weight="bold"), spacing="0"),
                        rx.vstack(rx.text("Avg latency", size="1", color_scheme="gray"),
                                  rx.text(r.avg_latency, size="6", weight="bold"), spacing="0"),
                        rx.vstack(rx.text("Max latency", size="1", color_scheme="gray"),
                                  rx.text(r.max_latency, size="6", weight="bold"), spacing="0"),
                        spacing="6", wrap="wrap",
                    ),
                    rx.text(r.attempts, size="1", color_scheme="gray"),
                ), id="health-" + r.code)), columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%"),
            ),
        ),
        rx.cond(Health.loaded & (Health.vendors.length() > 0), vendor_section()),
        rx.button("Refresh", on_click=Health.load, variant="soft"),
        actions=window_control(),
    )


def vendor_section() -> rx.Component:
    return rx.vstack(
        rx.heading("Vendors", size="5", as_="h2"),
        rx.text("Speech-to-text, language-model and text-to-speech vendors of the LiveKit worker, with the "
                "quota left where the vendor publishes it.", size="2", color_scheme="gray"),
        rx.grid(rx.foreach(Health.vendors, lambda v: rx.card(rx.vstack(
            rx.hstack(rx.heading(v.name, size="3", as_="h3"), rx.spacer(), rx.badge(v.service, color_scheme="gray"),
                      width="100%"),
            rx.hstack(
                rx.vstack(rx.text("Success rate", size="1", color_scheme="gray"),
                          rx.text(v.success_rate, size="5", weight="bold"), spacing="0"),
                rx.vstack(rx.text("Time to first output", size="1", color_scheme="gray"),
                          rx.text(v.avg_latency, size="5", weight="bold"), spacing="0"),
                spacing="6", wrap="wrap",
            ),
            rx.cond(v.quota != "", rx.text(v.quota, size="2", id="quota-" + v.key)),
            rx.text(v.attempts, size="1", color_scheme="gray"),
        ), id="vendor-" + v.key)), columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%"),
        width="100%", spacing="2",
    )
