"""The agent page's "Call in browser": our server gives short-lived credentials for the chosen
platform (`switchboard.webcalls`), and the platform's own browser SDK, bundled with the app
(`assets/webcall.js`, npm packages below), starts the call. No secret key reaches the page."""

from __future__ import annotations

import json
from uuid import UUID

import reflex as rx

from app.backend import database, platforms
from app.components.layout import labelled_select, section
from app.state import Session
from switchboard import webcalls
from switchboard.providers import registry
from switchboard.providers.resilience import platform_name

# The platforms' official browser SDKs (npm, pinned in each platform's descriptor); Reflex installs
# them with the app's build.
SDKS = [d.browser_sdk for d in registry.descriptors() if d.browser_sdk]
JS_MODULE = "$/public/webcall.js"


class WebCallBridge(rx.el.Div):
    """Where the call's media elements go; installs `window.switchboardWebCall` on mount."""

    lib_dependencies: list[str] = SDKS

    def add_imports(self):
        return {JS_MODULE: [rx.ImportVar(tag="installWebCall")], "react": [rx.ImportVar(tag="useEffect")]}

    def add_hooks(self):
        return ["useEffect(() => { installWebCall(window); }, []);"]


class WebCall(Session):
    platform: str = ""
    state: str = ""  # "" | connecting | in call | failed | ended
    error: str = ""
    busy: bool = False

    @rx.var
    def choices(self) -> list[list[str]]:
        return [[code, platform_name(code)] for code in registry.codes()]

    @rx.event
    def set_platform(self, code: str):
        self.platform = code

    @rx.event
    async def call(self, agent_id: str, active: str):
        """A browser call to the agent `agent_id` on the chosen platform (else its active one)."""
        code = self.platform or active
        self.error, self.state, self.busy = "", "connecting", True
        yield
        try:
            credentials = await webcalls.start_web_call(await database(), self._claims(), self._org(), UUID(agent_id),
                                                        code, await platforms())
        except Exception as exc:
            self.busy = False
            yield self._failed(exc, into="error", state="")
            return
        payload = json.dumps(credentials.model_dump(mode="json"))
        yield rx.call_script(f"window.switchboardWebCall.start({payload})", callback=WebCall.started)

    @rx.event
    def started(self, result: dict):
        self.busy = False
        self.state = str((result or {}).get("state") or "failed")
        if not (result or {}).get("ok"):
            self.error = ("The call could not be connected: allow the microphone, check your network, "
                          "and try again (the browser console has the platform's own message).")

    @rx.event
    def hang_up(self):
        return rx.call_script("window.switchboardWebCall.end()", callback=WebCall.ended)

    @rx.event
    def ended(self, result: dict):
        self.state, self.busy = "ended", False


def web_call_card(agent_id: rx.Var, active: rx.Var) -> rx.Component:
    """The card: platform, Call in browser / Hang up, the call's state in words."""
    return section(
        "Call in browser",
        rx.text("Talk to the agent from this browser with your microphone, through the platform's own web-call "
                "service.", size="2", color_scheme="gray"),
        rx.hstack(
            labelled_select("Platform", id="web-call-platform", aria_label="Platform for the browser call",
                            choices=WebCall.choices, value=rx.cond(WebCall.platform != "", WebCall.platform, active),
                            on_change=WebCall.set_platform),
            rx.cond(
                WebCall.state == "in call",
                rx.button(rx.icon("phone-off"), "Hang up", color_scheme="red", on_click=WebCall.hang_up,
                          id="web-call-hang-up"),
                rx.button(rx.icon("phone"), "Call in browser", on_click=WebCall.call(agent_id, active), loading=WebCall.busy,
                          id="web-call-start"),
            ),
            align="center", spacing="3", wrap="wrap",
        ),
        rx.cond(WebCall.state != "", rx.text("Call: ", rx.el.span(WebCall.state, id="web-call-state"), size="2")),
        rx.cond(WebCall.error != "", rx.callout.root(rx.callout.text(WebCall.error), color_scheme="red",
                                                     id="web-call-error", width="100%")),
        rx.el.span("", id="web-call-sdk-state", hidden=True),
        WebCallBridge.create(id="web-call-media"),
        spacing="2", id="web-call-section",
    )
