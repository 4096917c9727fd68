"""The Reflex app: pages and routes."""

import reflex as rx

app = rx.App(theme=None)


def index() -> rx.Component:
    return rx.text("Switchboard")


app.add_page(index, route="/")
