"""The frame around every signed-in page (navigation, organisation switcher, user menu) and
the loading / empty / error states every page uses, in words.

One `<h1>` per page: the page's title (page_frame); the brand, card titles and stat values are
not headings of that level. From 768 px wide the navigation is a sidebar; below, a top bar
whose Menu button opens the same navigation in a drawer."""

from __future__ import annotations

import reflex as rx

from app.state import Session

NAV = [
    ("Dashboard", "/dashboard", "chart-line"),
    ("Agent", "/agent", "bot"),
    ("Calls", "/calls", "phone"),
    ("Platform health", "/health", "activity"),
    ("Members", "/members", "users"),
]


def field_label(*children, for_id, **text_props) -> rx.Component:
    """A form label linked to its control (<label for=…>; Radix Text's as_="label" drops the
    attribute), styled as text."""
    return rx.el.label(rx.text(*children, as_="span", **text_props), html_for=for_id)


def labelled_select(label: str, *, id: str, aria_label: str, choices, value, on_change) -> rx.Component:
    """A label and a select over `choices` ([value, words] pairs, a state var)."""
    return rx.fragment(
        field_label(label, for_id=id, size="2"),
        rx.select.root(
            rx.select.trigger(id=id, aria_label=aria_label),
            rx.select.content(rx.foreach(choices, lambda c: rx.select.item(c[1], value=c[0]))),
            value=value, on_change=on_change,
        ),
    )


def nav_link(label: str, href: str, icon: str, prefix: str = "nav-") -> rx.Component:
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
        id=f"{prefix}{label.lower().replace(' ', '-')}",
    )


def org_switcher(prefix: str = "") -> rx.Component:
    return rx.vstack(
        field_label("Organisation", for_id=f"{prefix}org-switcher", size="1", color_scheme="gray"),
        rx.select.root(
            rx.select.trigger(placeholder="Choose…", width="100%", id=f"{prefix}org-switcher"),
            rx.select.content(
                rx.foreach(Session.organizations, lambda o: rx.select.item(o["name"], value=o["id"])),
            ),
            value=Session.org_id,
            on_change=Session.switch_organization,
        ),
        rx.link(rx.text("+ New organisation", size="1"), href="/onboarding?new=1", id=f"{prefix}new-org-link"),
        spacing="1",
        width="100%",
    )


def brand() -> rx.Component:
    return rx.hstack(rx.icon("radio-tower", size=20), rx.text("Switchboard", size="4", weight="bold"), align="center")


def _nav_contents(prefix: str = "") -> list[rx.Component]:
    """The sidebar's contents; `prefix` keeps ids unique for the phone-sized drawer's copy."""
    return [
        brand(),
        org_switcher(prefix),
        rx.separator(),
        rx.el.nav(rx.vstack(*[nav_link(*n, prefix=f"{prefix}nav-") for n in NAV], spacing="1", width="100%"),
                  aria_label="Main", width="100%"),
        rx.spacer(),
        rx.separator(),
        rx.text(Session.email, size="1", color_scheme="gray", id=f"{prefix}user-email", word_break="break-all"),
        rx.cond(Session.role != "", rx.badge(Session.role, variant="soft", id=f"{prefix}user-role")),
        rx.button("Sign out", on_click=Session.sign_out, variant="soft", color_scheme="gray", size="1",
                  width="100%", id=f"{prefix}sign-out"),
    ]


def sidebar() -> rx.Component:
    return rx.vstack(
        *_nav_contents(),
        width="220px",
        min_width="220px",
        height="100vh",
        padding="1em",
        spacing="3",
        border_right=f"1px solid {rx.color('gray', 5)}",
        position="sticky",
        top="0",
        display=rx.breakpoints(initial="none", sm="flex"),
        id="sidebar",
    )


def top_bar() -> rx.Component:
    """Phone-sized screens: the brand and a Menu button opening the navigation in a drawer."""
    return rx.hstack(
        brand(),
        rx.spacer(),
        rx.drawer.root(
            rx.drawer.trigger(rx.button(rx.icon("menu", size=16), "Menu", variant="soft", size="2", id="nav-menu",
                                        aria_label="Open the navigation")),
            rx.drawer.overlay(z_index="50"),
            rx.drawer.portal(rx.drawer.content(
                rx.vstack(
                    rx.hstack(rx.spacer(), rx.drawer.close(rx.icon_button(rx.icon("x", size=16), variant="ghost",
                                                                          aria_label="Close the navigation",
                                                                          id="nav-menu-close")), width="100%"),
                    *_nav_contents("menu-"),
                    spacing="3", padding="1em", height="100%", width="100%",
                ),
                top="0", left="0", height="100%", width="min(280px, 85vw)", z_index="60",
                background=rx.color("gray", 1), id="nav-drawer",
            )),
            direction="left",
        ),
        align="center",
        width="100%",
        padding="0.75em 1em",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        display=rx.breakpoints(initial="flex", sm="none"),
        id="top-bar",
    )


def page_frame(title: str, *children: rx.Component, actions: rx.Component | None = None) -> rx.Component:
    """A signed-in page: sidebar (or top bar), title, content. Shows a loading line until the
    session is known."""
    return rx.flex(
        sidebar(),
        top_bar(),
        rx.el.main(
            rx.hstack(rx.heading(title, size="6", as_="h1", id="page-title"), rx.spacer(), actions or rx.fragment(),
                      align="center", width="100%", wrap="wrap"),
            rx.cond(
                Session.signed_in,
                rx.vstack(*children, spacing="4", width="100%", padding_top="1em"),
                loading("Checking your session…"),
            ),
            padding=rx.breakpoints(initial="1em", sm="1.5em"),
            width="100%",
            max_width="1200px",
            min_width="0",  # lets wide tables scroll inside the page instead of pushing it wider
        ),
        direction=rx.breakpoints(initial="column", sm="row"),
        align="start",
        width="100%",
    )


def centered_card(*children: rx.Component, width: str, padding: str, spacing: str, **props) -> rx.Component:
    """A page of one card in the middle of the screen (sign-in, sign-up, onboarding)."""
    return rx.center(
        rx.card(rx.vstack(*children, spacing=spacing, width="100%"), width=width,
                padding=rx.breakpoints(initial=padding, sm="2em")),
        min_height="100vh",
        padding="0.5em",
        **props,
    )


def section(title: str | tuple, *children: rx.Component, spacing: str | None = None, **props) -> rx.Component:
    """A section of a page: a full-width card, its `<h2>` title (a string, or the heading's
    children as a tuple) and `children` stacked in it."""
    heading = rx.heading(*(title if isinstance(title, tuple) else (title,)), size="4", as_="h2")
    stack = {"spacing": spacing} if spacing else {}
    return rx.card(rx.vstack(heading, *children, **stack, width="100%"), width="100%", **props)


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
            rx.text(value, size="7", weight="bold", id=id),
            rx.cond(hint is not None, rx.text(hint, size="1", color_scheme="gray")) if hint is not None else rx.fragment(),
            spacing="1",
        ),
        min_width="min(200px, 100%)",
    )
