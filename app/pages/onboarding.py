"""Onboarding wizard (the new-user flow): organisation name → custom or cloned voice? →
what matters most → a recommendation with its reasons and per-minute price from the database →
optional phone number → creates the organisation, agent config and provider config in one
transaction as the user → the agent-config page."""

from __future__ import annotations

import reflex as rx

from app.backend import problem
from app.components.layout import centered_card, error, field_label, loading
from app.state import Session
from uuid import UUID

from switchboard import onboarding, orgconfig, pricing
from switchboard.providers.recommend import Needs, recommend_provider

PRIORITIES = [
    ("lowest_cost", "Lowest cost per minute"),
    ("easy_setup", "Easiest set-up"),
    ("customization", "Most customisation"),
    ("enterprise", "Enterprise features"),
]
STEPS = ["Organisation", "Voice", "Priorities", "Recommendation", "Phone number"]


class Onboarding(Session):
    step: int = 0
    org_name: str = ""
    custom_voice: str = ""  # "yes" | "no"
    priority: str = ""
    phone: str = ""
    # The recommendation, from the database's prices and capabilities.
    platform: str = ""
    platform_name: str = ""
    price_per_minute: str = ""  # "list price $0.0450/min" (switchboard.pricing's labels)
    measured_per_minute: str = ""  # "your calls $0.0409/min (last 30 days)" or "your calls: no calls yet"
    reasons: list[str] = []
    alternatives: list[dict[str, str]] = []
    error: str = ""
    busy: bool = False

    @rx.event
    def start(self):
        self.step, self.error, self.busy = 0, "", False
        self.org_name = self.custom_voice = self.priority = self.phone = self.platform = ""

    @rx.event
    def set_org_name(self, value: str):
        self.org_name = value

    @rx.event
    def set_custom_voice(self, value: str):
        self.custom_voice = value

    @rx.event
    def set_priority(self, value: str):
        self.priority = value

    @rx.event
    def set_phone(self, value: str):
        self.phone = value.strip()

    @rx.event
    def choose(self, code: str):
        for alt in self.alternatives:
            if alt["code"] == code:
                self.platform, self.platform_name, self.price_per_minute = code, alt["name"], alt["price"]
                self.measured_per_minute = alt["measured"]
                self.reasons = [alt["why"]]

    @rx.event
    def back(self):
        self.error = ""
        self.step = max(0, self.step - 1)

    @rx.event
    async def next(self):
        self.error = ""
        if self.step == 0 and not self.org_name.strip():
            self.error = "Give your organisation a name."
            return
        if self.step == 1 and self.custom_voice not in ("yes", "no"):
            self.error = "Choose whether you want a custom or cloned voice."
            return
        if self.step == 2:
            if not self.priority:
                self.error = "Choose what matters most to you."
                return
            self.busy = True
            yield
            try:
                await self._recommend()
            except Exception as exc:
                self.error, self.busy = problem(exc), False
                return
            self.busy = False
        self.step = min(self.step + 1, len(STEPS) - 1)

    async def _recommend(self):
        needs = Needs(
            has_custom_voice=self.custom_voice == "yes",
            wants_lowest_cost=self.priority == "lowest_cost",
            wants_easy_setup=self.priority == "easy_setup",
            wants_max_customization=self.priority == "customization",
            needs_enterprise=self.priority == "enterprise",
        )
        async with self._as_user() as conn:
            rec = await recommend_provider(conn, needs)
            platforms = await orgconfig.list_providers(conn, type="platform", enabled=True)
            # What your calls cost, when you already have an organisation with calls.
            prices = await pricing.platform_prices(conn, UUID(self.org_id) if self.org_id else None)
        by_code = {p.key: p for p in platforms}
        self.platform, self.platform_name = rec.code, rec.name
        self.price_per_minute = pricing.list_label(prices.get(rec.code))
        self.measured_per_minute = pricing.measured_label(prices.get(rec.code))
        self.reasons = list(rec.reasons)
        # The other platforms that still meet the hard needs (a custom voice, enterprise), best first.
        self.alternatives = [
            {"code": code, "name": by_code[code].name, "price": pricing.list_label(prices.get(code)),
             "measured": pricing.measured_label(prices.get(code)),
             "why": f"You chose {by_code[code].name}: {by_code[code].description or ''} "
                    f"({pricing.list_label(prices.get(code))}; {pricing.measured_label(prices.get(code))})."}
            for code in rec.alternatives if code in by_code
        ]

    @rx.event
    async def finish(self):
        self.error, self.busy = "", True
        yield
        try:
            async with self._as_user() as conn:
                done = await onboarding.set_up_organization(
                    conn, self.org_name, platform=self.platform, custom_voice=self.custom_voice == "yes",
                    phone_number=self.phone or None,
                )
        except Exception as exc:
            self.error, self.busy = problem(exc), False
            return
        self.org_id, self.role, self.busy = str(done.organization.id), "owner", False
        yield rx.redirect("/agent?welcome=1")


def _choice(value: str, label: str, current, on_click) -> rx.Component:
    # A real button inside (Radix Card asChild): reachable with Tab, chosen with Enter or Space.
    return rx.card(
        rx.el.button(
            rx.hstack(rx.cond(current == value, rx.icon("circle-check", color=rx.color("accent", 9)), rx.icon("circle")),
                      rx.text(label, size="3"), align="center"),
            type="button", aria_pressed=rx.cond(current == value, "true", "false"), text_align="left",
        ),
        as_child=True,
        on_click=on_click(value),
        cursor="pointer",
        width="100%",
        variant=rx.cond(current == value, "surface", "ghost"),
        id=f"choice-{value}",
    )


def _step_org() -> rx.Component:
    return rx.vstack(
        field_label("What is your organisation called?", for_id="org-name", size="4", weight="medium"),
        rx.input(value=Onboarding.org_name, on_change=Onboarding.set_org_name, placeholder="Acme Dental",
                 size="3", width="100%", id="org-name"),
        width="100%",
    )


def _step_voice() -> rx.Component:
    return rx.vstack(
        rx.text("Do you want a custom or cloned voice?", size="4", weight="medium"),
        rx.text("A custom voice is your own recorded or cloned voice; preset voices are ready-made.",
                size="2", color_scheme="gray"),
        _choice("yes", "Yes, my own custom or cloned voice", Onboarding.custom_voice, Onboarding.set_custom_voice),
        _choice("no", "No, a preset voice is fine", Onboarding.custom_voice, Onboarding.set_custom_voice),
        width="100%",
    )


def _step_priority() -> rx.Component:
    return rx.vstack(
        rx.text("What matters most to you?", size="4", weight="medium"),
        *[_choice(v, label, Onboarding.priority, Onboarding.set_priority) for v, label in PRIORITIES],
        width="100%",
    )


def _step_recommendation() -> rx.Component:
    return rx.vstack(
        rx.text("We recommend", size="2", color_scheme="gray"),
        rx.hstack(
            rx.heading(Onboarding.platform_name, size="7", as_="h2", id="recommended-platform"),
            rx.badge(Onboarding.price_per_minute, size="3", id="recommended-price"),
            rx.badge(Onboarding.measured_per_minute, size="3", color_scheme="gray", variant="soft",
                     id="recommended-measured"),
            align="center", wrap="wrap",
        ),
        rx.unordered_list(rx.foreach(Onboarding.reasons, lambda r: rx.list_item(r)), id="recommendation-reasons"),
        rx.text("Or pick another platform (you can switch any time without re-entering anything):",
                size="2", color_scheme="gray"),
        rx.hstack(
            rx.foreach(
                Onboarding.alternatives,
                lambda a: rx.button(a["name"], " · ", a["price"], " · ", a["measured"], variant="outline", size="1",
                                    on_click=Onboarding.choose(a["code"]), id="alt-" + a["code"]),
            ),
            wrap="wrap",
        ),
        width="100%",
        id="recommendation",
    )


def _step_phone() -> rx.Component:
    return rx.vstack(
        field_label("Connect a phone number (optional)", for_id="phone-number", size="4", weight="medium"),
        rx.text("A SignalWire number in international form (+, country code, number), like +14155550123. "
                "You can add one later.",
                size="2", color_scheme="gray"),
        rx.input(value=Onboarding.phone, on_change=Onboarding.set_phone, placeholder="+14155550123", size="3",
                 width="100%", id="phone-number"),
        width="100%",
    )


def onboarding_page() -> rx.Component:
    return centered_card(
        rx.hstack(rx.icon("radio-tower", size=22), rx.heading("Set up Switchboard", size="5", as_="h1", id="page-title"),
                  align="center"),
        rx.hstack(
            *[rx.badge(f"{i + 1}. {name}", variant=rx.cond(Onboarding.step == i, "solid", "soft"),
                       color_scheme=rx.cond(Onboarding.step >= i, "indigo", "gray"))
              for i, name in enumerate(STEPS)],
            wrap="wrap",
        ),
        rx.cond(Onboarding.error != "", error(Onboarding.error)),
        rx.match(
            Onboarding.step,
            (0, _step_org()),
            (1, _step_voice()),
            (2, _step_priority()),
            (3, _step_recommendation()),
            (4, _step_phone()),
            loading(),
        ),
        rx.cond(Onboarding.busy, loading("Working…")),
        rx.hstack(
            rx.cond(Onboarding.step > 0, rx.button("Back", variant="soft", on_click=Onboarding.back, id="back")),
            rx.spacer(),
            rx.cond(
                Onboarding.step < len(STEPS) - 1,
                rx.button("Next", on_click=Onboarding.next, disabled=Onboarding.busy, id="next"),
                rx.button("Create my agent", on_click=Onboarding.finish, disabled=Onboarding.busy, id="finish"),
            ),
            width="100%",
        ),
        width="min(560px, 100%)", padding="1em", spacing="4",
    )
