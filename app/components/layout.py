"""The frame around every signed-in page (navigation, organisation switcher, user menu) and
the loading / empty / error states every page uses, in words."""

from __future__ import annotations

import reflex as rx

from app.state import Session

NAV = [
    ("Dashboard", "/dashboard", "chart-line"),
    ("Agent", "/agent", "bot"),
    ("Calls", "/calls", "phone"),
    ("Provider health", "/health", "activity"),
    ("Members", "/members", "users"),
]


def nav_link(label: str, href: str, icon: str) -> rx.Component:
    active = Session.router.url.path.startswith(href)
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), align="center", spacing="2"),
        href=href,
        underline="none",
        padding_x="0.75em",
        padding_y="0.5em",
        border_radius="6px",
        width="100%",
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 11)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        id=f"nav-{label.lower().replace(' ', '-')}",
    )


def org_switcher() -> rx.Component:
    return rx.vstack(
        rx.text("Organisation", size="1", color_scheme="gray"),
        rx.select.root(
            rx.select.trigger(placeholder="Choose…", width="100%", id="org-switcher"),
            rx.select.content(
                rx.foreach(Session.organizations, lambda o: rx.select.item(o["name"], value=o["id"])),
            ),
            value=Session.org_id,
            on_change=Session.switch_organization,
        ),
        rx.link(rx.text("+ New organisation", size="1"), href="/onboarding?new=1", id="new-org-link"),
        spacing="1",
        width="100%",
    )


def sidebar() -> rx.Component:
    return rx.vstack(
        rx.hstack(rx.icon("radio-tower", size=20), rx.heading("Switchboard", size="4"), align="center"),
        org_switcher(),
        rx.separator(),
        *[nav_link(*n) for n in NAV],
        rx.spacer(),
        rx.separator(),
        rx.text(Session.email, size="1", color_scheme="gray", id="user-email"),
        rx.cond(Session.role != "", rx.badge(Session.role, variant="soft", id="user-role")),
        rx.button("Sign out", on_click=Session.sign_out, variant="soft", color_scheme="gray", size="1",
                  width="100%", id="sign-out"),
        width="220px",
        min_width="220px",
        height="100vh",
        padding="1em",
        spacing="3",
        border_right=f"1px solid {rx.color('gray', 5)}",
        position="sticky",
        top="0",
    )


def page_frame(title: str, *children: rx.Component, actions: rx.Component | None = None) -> rx.Component:
    """A signed-in page: sidebar, title, content. Shows a loading line until the session is known."""
    return rx.hstack(
        sidebar(),
        rx.box(
            rx.hstack(rx.heading(title, size="6", id="page-title"), rx.spacer(), actions or rx.fragment(),
                      align="center", width="100%"),
            rx.cond(
                Session.signed_in,
                rx.vstack(*children, spacing="4", width="100%", padding_top="1em"),
                loading("Checking your session…"),
            ),
            padding="1.5em",
            width="100%",
            max_width="1200px",
            min_width="0",  # lets wide tables scroll inside the page instead of pushing it wider
        ),
        spacing="0",
        align="start",
        width="100%",
    )


def loading(words: str = "Loading…") -> rx.Component:
    return rx.hstack(rx.spinner(size="2"), rx.text(words, color_scheme="gray"), align="center", padding="1em",
                     class_name="loading-state")


def empty(words: str, action: rx.Component | None = None) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("inbox")),
        rx.callout.text(words),
        *( [action] if action is not None else [] ),
        color_scheme="gray", variant="surface", class_name="empty-state",
    )


def error(words) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.callout.text(words),
        color_scheme="red", role="alert", class_name="error-state",
    )


def stat(label: str, value, hint=None, id: str | None = None) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size="7", id=id),
            rx.cond(hint is not None, rx.text(hint, size="1", color_scheme="gray")) if hint is not None else rx.fragment(),
            spacing="1",
        ),
        min_width="200px",
    )
