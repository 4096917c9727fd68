"""The invitation page, `/invite/<token>`: what the invitation is for, then sign up (or sign in)
with the invited address and join the organisation with the role given, in one step. A link
that cannot be used (not valid, expired, revoked, used) says so in words. Passwords travel in
the form's submit event only, never in a state var."""

from __future__ import annotations

from datetime import timezone

import reflex as rx

from app.backend import database, problem, when
from app.components.layout import error
from app.state import Session
from switchboard import auth, invitations


def utc(value):
    """A time in UTC, as the pages label it."""
    return value.astimezone(timezone.utc) if value is not None else None


class InvitePage(Session):
    checked: bool = False
    problem_text: str = ""       # why the link cannot be used, in words
    organization: str = ""
    invited_email: str = ""
    invited_role: str = ""
    expires: str = ""
    signed_in_as: str = ""       # the account this browser is signed in with, if any
    has_account: bool = False    # shows the sign-in form instead of the sign-up one
    error: str = ""
    busy: bool = False

    def _invite_token(self) -> str:
        return self.router.url.path.rstrip("/").rsplit("/", 1)[-1]

    @rx.var
    def wrong_account(self) -> bool:
        return self.signed_in_as != "" and self.signed_in_as.lower() != self.invited_email.lower()

    @rx.event
    async def load(self):
        self.checked, self.problem_text, self.error, self.busy, self.has_account = False, "", "", False, False
        try:
            preview = await invitations.preview(await database(), self._invite_token())
        except Exception as exc:
            self.problem_text, self.checked = problem(exc), True
            return
        self.organization, self.invited_email, self.invited_role = preview.organization_name, preview.email, preview.role
        self.expires = when(utc(preview.expires_at))
        self.problem_text = {
            "used": "This invitation has already been used. If it was not you, ask for a new one.",
            "revoked": "This invitation was revoked: ask for a new one.",
            "expired": f"This invitation expired on {self.expires} UTC: ask for a new one.",
        }.get(preview.status, "")
        try:
            self.signed_in_as = (auth.verify_token(self.token).email or "") if self.token else ""
        except auth.AuthError:
            self.signed_in_as = ""
        self.checked = True

    @rx.event
    def show_sign_in(self, value: bool):
        self.has_account, self.error = value, ""

    @rx.event
    async def sign_up_and_join(self, form: dict):
        if form.get("password") != form.get("password_again"):
            self.error = "The two passwords differ."
            return
        async for update in self._join(form.get("password", ""), create=True):
            yield update

    @rx.event
    async def sign_in_and_join(self, form: dict):
        async for update in self._join(form.get("password", ""), create=False):
            yield update

    @rx.event
    async def join(self):
        """Already signed in with the invited address: accept with the current session."""
        async for update in self._join(None, create=False):
            yield update

    async def _join(self, password: str | None, *, create: bool):
        self.error, self.busy = "", True
        yield
        try:
            db = await database()
            if password is None:
                claims, token = auth.verify_token(self.token), self.token
            else:
                action = auth.sign_up if create else auth.sign_in
                session = await action(db, self.invited_email, password)
                claims, token = session.claims, session.access_token
                self.token, self.org_id, self.signed_in_as = token, "", session.email
            async with db.as_user(claims) as conn:
                joined = await invitations.accept_invitation(conn, self._invite_token())
        except Exception as exc:
            self.error, self.busy = problem(exc), False
            return
        self.org_id, self.busy = str(joined.organization_id), False
        yield rx.toast.success(f"Welcome to {joined.organization_name}: you are {joined.role}.")
        yield rx.redirect("/dashboard")

    @rx.event
    def sign_out_here(self):
        self.token, self.org_id, self.signed_in_as, self.signed_in = "", "", "", False


def _password(label: str, name: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(name=name, id=name, type="password", required=True, width="100%", size="3"),
        spacing="1", width="100%",
    )


def _address() -> rx.Component:
    return rx.vstack(
        rx.text("E-mail", as_="label", html_for="invite-address", size="2", weight="medium"),
        rx.input(value=InvitePage.invited_email, id="invite-address", read_only=True, width="100%", size="3"),
        spacing="1", width="100%",
    )


def _join_form(submit: str, on_submit, passwords: list[rx.Component], *, other: str, switch: str,
               to_sign_in: bool, switch_id: str) -> rx.Component:
    """The address, the password field(s), the submit button and the way to the other form."""
    return rx.form(
        rx.vstack(
            _address(),
            *passwords,
            rx.button(submit, type="submit", loading=InvitePage.busy, width="100%", size="3", id="submit"),
            rx.text(other, rx.button(switch, type="button", variant="ghost", size="2",
                                     on_click=InvitePage.show_sign_in(to_sign_in), id=switch_id), size="2"),
            spacing="3", width="100%",
        ),
        on_submit=on_submit, width="100%",
    )


def _sign_up_form() -> rx.Component:
    return _join_form("Create account and join", InvitePage.sign_up_and_join,
                      [_password("Password", "password"), _password("Password again", "password_again")],
                      other="Already have an account with this address? ", switch="Sign in instead",
                      to_sign_in=True, switch_id="to-sign-in")


def _sign_in_form() -> rx.Component:
    return _join_form("Sign in and join", InvitePage.sign_in_and_join, [_password("Password", "password")],
                      other="No account yet? ", switch="Create one", to_sign_in=False, switch_id="to-sign-up")


def _usable() -> rx.Component:
    return rx.vstack(
        rx.text("You are invited to join ", rx.text(InvitePage.organization, as_="span", weight="bold"),
                " as ", rx.text(InvitePage.invited_role, as_="span", weight="bold", id="invite-role-given"),
                ". The invitation is for ", rx.text(InvitePage.invited_email, as_="span", weight="bold"),
                " and works once, until ", InvitePage.expires, " UTC.", size="3", id="invite-summary"),
        rx.cond(InvitePage.error != "", error(InvitePage.error)),
        rx.cond(
            InvitePage.signed_in_as == "",
            rx.cond(InvitePage.has_account, _sign_in_form(), _sign_up_form()),
            rx.cond(
                InvitePage.wrong_account,
                rx.vstack(
                    error("This invitation is for " + InvitePage.invited_email + " — sign in with that address. "
                          "You are signed in as " + InvitePage.signed_in_as + "."),
                    rx.button("Sign out and continue", on_click=InvitePage.sign_out_here, variant="soft", width="100%",
                              id="invite-sign-out"),
                    width="100%",
                ),
                rx.button("Join " + InvitePage.organization, on_click=InvitePage.join, loading=InvitePage.busy,
                          width="100%", size="3", id="submit"),
            ),
        ),
        spacing="3", width="100%",
    )


def invite_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(rx.icon("radio-tower", size=24), rx.heading("Switchboard", size="5"), align="center"),
                rx.heading("Join an organisation", size="6", id="page-title", padding_top="0.5em"),
                rx.cond(
                    ~InvitePage.checked,
                    rx.hstack(rx.spinner(size="2"), rx.text("Checking the invitation…", color_scheme="gray"),
                              class_name="loading-state"),
                    rx.cond(
                        InvitePage.problem_text != "",
                        rx.vstack(
                            rx.box(error(InvitePage.problem_text), id="invite-problem", width="100%"),
                            rx.text(rx.link("Sign in", href="/sign-in"), " or ", rx.link("create an account", href="/sign-up"),
                                    size="2"),
                            width="100%",
                        ),
                        _usable(),
                    ),
                ),
                spacing="3", width="100%",
            ),
            width="440px", padding="2em",
        ),
        height="100vh",
    )
