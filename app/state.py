"""Who is signed in and which organisation they are working in.

The access token (a Supabase-style JWT from `switchboard.auth`) lives in the browser's local
storage; every event verifies it and runs core functions as that user (`db.as_user(claims)`),
so row-level security decides what each page may see. Page states inherit from `Session`.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from uuid import UUID

import reflex as rx

from app.backend import database, problem
from switchboard import auth, orgs
from switchboard.tenancy import Claims

PUBLIC_ROUTES = ("/sign-in", "/sign-up")


class NotSignedIn(Exception):
    """The session has no valid token or no organisation: the page sends the user to sign in."""


class Session(rx.State):
    token: str = rx.LocalStorage("", name="sb_token", sync=True)
    org_id: str = rx.LocalStorage("", name="sb_org", sync=True)

    signed_in: bool = False
    email: str = ""
    organizations: list[dict[str, str]] = []
    role: str = ""

    # --- helpers for page states -----------------------------------------------------------
    def _claims(self) -> Claims:
        try:
            return auth.verify_token(self.token)
        except auth.AuthError as exc:
            raise NotSignedIn(str(exc)) from None

    def _org(self) -> UUID:
        if not self.org_id:
            raise NotSignedIn("no organisation selected")
        return UUID(self.org_id)

    @asynccontextmanager
    async def _as_user(self):
        """A transaction as the signed-in user (RLS applies)."""
        claims = self._claims()
        db = await database()
        async with db.as_user(claims) as conn:
            yield conn

    def _failed(self, exc: BaseException, *, into: str = "load_error", **reset):
        """How an event answers a failure: to the sign-in page when the session is gone,
        otherwise `reset` applied (so no earlier answer reads as this one's) and the error in
        words under `into` (`load_error` for a page's load; a component names its own field)."""
        if isinstance(exc, NotSignedIn):
            return rx.redirect("/sign-in")
        for name, value in reset.items():
            setattr(self, name, value)
        setattr(self, into, problem(exc))
        return None

    @rx.var
    def is_admin(self) -> bool:
        return self.role in ("owner", "admin")

    @rx.var
    def org_name(self) -> str:
        for o in self.organizations:
            if o["id"] == self.org_id:
                return o["name"]
        return ""

    # --- events ------------------------------------------------------------------------------
    @rx.event
    async def ensure_signed_in(self):
        """on_load of every private page: a valid token, the user's organisations, a current one."""
        try:
            claims = self._claims()
        except NotSignedIn:
            self.signed_in = False
            return rx.redirect("/sign-in")
        self.email = claims.email or ""
        try:
            db = await database()
            async with db.as_user(claims) as conn:
                mine = await orgs.list_my_organizations(conn)
        except auth.AuthError:  # banned or deleted since the token was issued
            self.token, self.org_id, self.signed_in = "", "", False
            return rx.redirect("/sign-in")
        except Exception as exc:  # the database is down: say so, stay on the page
            self.signed_in = False
            return rx.toast.error(problem(exc))
        self.organizations = [{"id": str(o.id), "name": o.name, "role": o.role} for o in mine]
        self.signed_in = True
        if not mine:
            self.org_id, self.role = "", ""
            if self.router.url.path != "/onboarding":
                return rx.redirect("/onboarding")
            return None
        current = next((o for o in self.organizations if o["id"] == self.org_id), self.organizations[0])
        self.org_id, self.role = current["id"], current["role"]
        return None

    @rx.event
    async def switch_organization(self, org_id: str):
        if any(o["id"] == org_id for o in self.organizations):
            self.org_id = org_id
            self.role = next(o["role"] for o in self.organizations if o["id"] == org_id)
            # Reload the page (a client-side redirect to the same route would not run its
            # on_load), so everything on it is read again for the other organisation.
            return rx.call_script("window.location.reload()")
        return rx.toast.error("You are not a member of that organisation.")

    @rx.event
    def sign_out(self):
        self.token = ""
        self.org_id = ""
        self.signed_in = False
        self.organizations = []
        self.email, self.role = "", ""
        return rx.redirect("/sign-in")

    @rx.event
    def go_home(self):
        return rx.redirect("/dashboard" if self.token else "/sign-in")


class AuthForm(Session):
    """Sign-in and sign-up. The password arrives in the submit event only; it is never a state
    var, so it is never sent back to the browser."""

    error: str = ""
    busy: bool = False

    @rx.event
    async def sign_in(self, form: dict):
        async for update in self._authenticate(form, create=False):
            yield update

    @rx.event
    async def sign_up(self, form: dict):
        if form.get("password") != form.get("password_again"):
            self.error = "The two passwords differ."
            return
        async for update in self._authenticate(form, create=True):
            yield update

    async def _authenticate(self, form: dict, *, create: bool):
        self.error, self.busy = "", True
        yield
        try:
            db = await database()
            action = auth.sign_up if create else auth.sign_in
            # Attempts are limited per account and per address (switchboard.ratelimit).
            session = await action(db, form.get("email", ""), form.get("password", ""),
                                   client=self.router.session.client_ip or None)
        except Exception as exc:
            self.error, self.busy = problem(exc), False
            return
        self.token = session.access_token
        self.org_id = ""
        self.busy = False
        yield rx.redirect("/onboarding" if create else "/dashboard")

    @rx.event
    def clear(self):
        self.error, self.busy = "", False
