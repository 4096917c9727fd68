"""Sign-in and sign-up. Passwords travel in the form's submit event only."""

from __future__ import annotations

import reflex as rx

from app.components.layout import centered_card, error, field_label
from app.state import AuthForm


def _card(title: str, form: rx.Component, footer: rx.Component) -> rx.Component:
    return centered_card(
        rx.hstack(rx.icon("radio-tower", size=24), rx.text("Switchboard", size="5", weight="bold"), align="center"),
        rx.text("One voice agent, any voice-AI platform.", size="2", color_scheme="gray"),
        rx.heading(title, size="6", as_="h1", id="page-title", padding_top="0.5em"),
        rx.cond(AuthForm.error != "", error(AuthForm.error)),
        form,
        footer,
        width="min(400px, 100%)", padding="1.25em", spacing="3", on_mount=AuthForm.clear,
    )


def _field(label: str, name: str, kind: str = "text", placeholder: str = "") -> rx.Component:
    return rx.vstack(
        field_label(label, for_id=name, size="2", weight="medium"),
        rx.input(name=name, id=name, type=kind, placeholder=placeholder, required=True, width="100%", size="3"),
        spacing="1",
        width="100%",
    )


def _form(submit: str, on_submit, *fields: rx.Component) -> rx.Component:
    return rx.form(
        rx.vstack(
            *fields,
            rx.button(submit, type="submit", loading=AuthForm.busy, width="100%", size="3", id="submit"),
            spacing="3",
            width="100%",
        ),
        on_submit=on_submit,
        width="100%",
    )


def sign_in_page() -> rx.Component:
    return _card(
        "Sign in",
        _form("Sign in", AuthForm.sign_in,
              _field("E-mail", "email", "email", "you@example.com"), _field("Password", "password", "password")),
        rx.text("No account yet? ", rx.link("Create one", href="/sign-up", id="to-sign-up"), size="2"),
    )


def sign_up_page() -> rx.Component:
    return _card(
        "Create your account",
        _form("Create account", AuthForm.sign_up,
              _field("E-mail", "email", "email", "you@example.com"),
              _field("Password (at least 8 characters, hard to guess)", "password", "password"),
              _field("Password again", "password_again", "password")),
        rx.text("Already have an account? ", rx.link("Sign in", href="/sign-in", id="to-sign-in"), size="2"),
    )
