"""Outbound calls in the app: "Call a number" on the agent page (a small dialog: the number, an
optional caller id and platform; the result or the reason in words) and "End call" on a live
call's page. Both go through the same core calls as the API (`switchboard.outbound`)."""

from __future__ import annotations

from uuid import UUID

import reflex as rx

from app.backend import database, platform_services
from app.components.layout import error, field_label
from app.state import Session
from switchboard import outbound
from switchboard.providers import registry

ROUTING = "routing"  # the select's value for "the agent's routing"


class _CoreCall(Session):
    """One way for this module's events to run a core call: its result, or the reason in words
    (`error`), or a redirect to sign in."""

    busy: bool = False
    error: str = ""

    async def _run(self, call):
        try:
            return await call(), None
        except Exception as exc:
            return None, self._failed(exc, into="error")
        finally:
            self.busy = False


class CallDialog(_CoreCall):
    open: bool = False
    to: str = ""
    from_number: str = ""
    platform: str = ROUTING
    result: str = ""
    call_id: str = ""

    @rx.event
    def set_open(self, value: bool):
        self.open = value
        if value:
            self.result, self.error, self.call_id = "", "", ""

    @rx.event
    def set_to(self, value: str):
        self.to = value

    @rx.event
    def set_from_number(self, value: str):
        self.from_number = value

    @rx.event
    def set_platform(self, value: str):
        self.platform = value

    @rx.event
    async def place(self, agent_id: str):
        self.busy, self.result, self.error, self.call_id = True, "", "", ""
        yield

        async def call():
            request = outbound.CallRequest(agent_id=UUID(agent_id), to=self.to.strip(),
                                           from_number=self.from_number.strip() or None,
                                           platform=None if self.platform == ROUTING else self.platform)
            platforms, breaker = await platform_services()
            return await outbound.place_call(await database(), self._claims(), self._org(), request,
                                             platforms=platforms, breaker=breaker)

        placed, redirect = await self._run(call)
        if placed is None:
            yield redirect
            return
        self.call_id = str(placed.id)
        fell_back = [a.provider for a in placed.attempts if not a.ok]
        via = registry.label(placed.platform or "")
        self.result = f"Calling {placed.to_number} from {placed.from_number} on {via}." + (
            f" ({', '.join(registry.label(p) for p in fell_back)} did not take it.)" if fell_back else "")


def call_a_number(agent_id) -> rx.Component:
    """The "Call a number" button and its dialog, for the agent `agent_id` (a state var)."""
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("phone-outgoing", size=16), "Call a number", variant="soft",
                                    id="call-a-number")),
        rx.dialog.content(
            rx.dialog.title("Call a number"),
            rx.dialog.description("The agent calls this number now.", size="2"),
            rx.vstack(
                field_label("Number to call", for_id="call-to", size="2"),
                rx.input(value=CallDialog.to, on_change=CallDialog.set_to, placeholder="+14155550123", id="call-to",
                         width="100%"),
                field_label("Call from (optional: your agent's number by default)", for_id="call-from", size="2"),
                rx.input(value=CallDialog.from_number, on_change=CallDialog.set_from_number, placeholder="+14155550100",
                         id="call-from", width="100%"),
                field_label("Platform", for_id="call-platform", size="2"),
                rx.el.select(
                    rx.el.option("The agent's routing", value=ROUTING),
                    *[rx.el.option(registry.label(p), value=p) for p in registry.codes()],
                    value=CallDialog.platform, on_change=CallDialog.set_platform, id="call-platform",
                ),
                rx.cond(CallDialog.error != "", rx.box(error(CallDialog.error), id="call-error", width="100%")),
                rx.cond(CallDialog.result != "",
                        rx.callout.root(rx.callout.text(CallDialog.result, " ",
                                                        rx.link("Open the call", href="/calls/" + CallDialog.call_id,
                                                                id="call-link")),
                                        color_scheme="green", id="call-result", width="100%")),
                rx.hstack(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", id="call-close")),
                    rx.button("Call", on_click=CallDialog.place(agent_id), loading=CallDialog.busy, id="call-place"),
                    justify="end", width="100%",
                ),
                spacing="2", width="100%",
            ),
        ),
        open=CallDialog.open, on_open_change=CallDialog.set_open,
    )


class EndCall(_CoreCall):
    note: str = ""

    @rx.event
    async def end(self, call_id: str):
        self.busy, self.note, self.error = True, "", ""
        yield

        async def end():
            platforms, _ = await platform_services()
            return await outbound.end_call(await database(), self._claims(), self._org(), UUID(call_id), platforms=platforms)

        ended, redirect = await self._run(end)
        if ended is None:
            yield redirect
            return
        self.note = f"{registry.label(ended.platform)} is ending the call; its status follows when the platform reports it."


def end_call_button(call_id, live) -> rx.Component:
    """"End call" for a live call (`live`, a state var), with its outcome in words."""
    return rx.cond(
        live,
        rx.vstack(
            rx.button(rx.icon("phone-off", size=16), "End call", color_scheme="red", on_click=EndCall.end(call_id),
                      loading=EndCall.busy, id="end-call"),
            rx.cond(EndCall.error != "", rx.box(error(EndCall.error), id="end-call-error", width="100%")),
            rx.cond(EndCall.note != "", rx.callout.root(rx.callout.text(EndCall.note), color_scheme="blue",
                                                        id="end-call-note")),
            width="100%",
        ),
    )


class DoNotCall(_CoreCall):
    """The organisation's do-not-call list: numbers no call may dial."""

    numbers: list[str] = []
    number: str = ""
    loaded: bool = False

    @rx.event
    def set_number(self, value: str):
        self.number = value

    async def _listed(self) -> list[str]:
        async with self._as_user() as conn:
            return [e.e164 for e in await outbound.list_numbers(conn, self._org())]

    @rx.event
    async def load(self):
        if not self.signed_in:
            return
        self.error = ""
        numbers, redirect = await self._run(self._listed)
        self.numbers, self.loaded = numbers or [], numbers is not None
        return redirect

    @rx.event
    async def add(self):
        self.busy, self.error = True, ""
        yield

        async def add():
            async with self._as_user() as conn:
                await outbound.add_number(conn, self._org(), self._claims().sub, self.number)
            return await self._listed()

        numbers, redirect = await self._run(add)
        if numbers is None:
            yield redirect
            return
        self.numbers, self.number = numbers, ""

    @rx.event
    async def remove(self, number: str):
        async def remove():
            async with self._as_user() as conn:
                await outbound.remove_number(conn, self._org(), number)
            return await self._listed()

        numbers, redirect = await self._run(remove)
        if numbers is None:
            return redirect
        self.numbers = numbers


def do_not_call_section() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Do-not-call list", size="3", as_="h2"),
            rx.text("Outbound calls to these numbers are refused.", size="2", color_scheme="gray"),
            rx.cond(DoNotCall.numbers.length() > 0,
                    rx.hstack(rx.foreach(DoNotCall.numbers, lambda n: rx.badge(
                        n, rx.icon_button(rx.icon("x", size=10), size="1", variant="ghost", aria_label="Remove " + n,
                                          on_click=DoNotCall.remove(n), class_name="dnc-remove"),
                        variant="soft", class_name="dnc-number")), wrap="wrap"),
                    rx.text("No numbers yet.", size="2", color_scheme="gray")),
            rx.form(
                rx.hstack(
                    field_label("Number", for_id="dnc-number", size="2"),
                    rx.input(value=DoNotCall.number, on_change=DoNotCall.set_number, placeholder="+14155550123",
                             id="dnc-number"),
                    rx.button("Add", type="submit", loading=DoNotCall.busy, id="dnc-add"),
                    align="center",
                ),
                on_submit=lambda _: DoNotCall.add(),
            ),
            rx.cond(DoNotCall.error != "", rx.box(error(DoNotCall.error), id="dnc-error", width="100%")),
            width="100%",
        ),
        width="100%", id="do-not-call", on_mount=DoNotCall.load,
    )
