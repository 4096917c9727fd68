"""The admin app: routes, and the on-load events that check the session before each page."""

import reflex as rx

from app.backend import export_api
from app.pages.agent import AgentConfig, agent_page
from app.pages.auth import sign_in_page, sign_up_page
from app.pages.calls import CallList, CallPage, call_page, calls_page
from app.pages.dashboard import Dashboard, dashboard_page
from app.pages.health import Health, health_page
from app.pages.invite import InvitePage, invite_page
from app.pages.members import Members, members_page
from app.pages.onboarding import Onboarding, onboarding_page
from app.state import Session


def index() -> rx.Component:
    return rx.center(rx.spinner(), height="100vh")


app = rx.App(toaster=rx.toast.provider(), api_transformer=export_api())
app.add_page(index, route="/", title="Switchboard", on_load=Session.go_home)
app.add_page(sign_in_page, route="/sign-in", title="Sign in · Switchboard")
app.add_page(sign_up_page, route="/sign-up", title="Sign up · Switchboard")
app.add_page(invite_page, route="/invite/[invite_token]", title="Invitation · Switchboard", on_load=InvitePage.load)

# The signed-in pages: each checks the session first, then loads its own state.
PRIVATE_PAGES = [
    (onboarding_page, "/onboarding", "Set up", Onboarding.start),
    (dashboard_page, "/dashboard", "Costs", Dashboard.load),
    (agent_page, "/agent", "Agent", AgentConfig.load),
    (calls_page, "/calls", "Calls", CallList.load),
    (call_page, "/calls/[call_id]", "Call", CallPage.load),
    (health_page, "/health", "Platform health", Health.load),
    (members_page, "/members", "Members", Members.load),
]
for page, route, title, load in PRIVATE_PAGES:
    app.add_page(page, route=route, title=f"{title} · Switchboard", on_load=[Session.ensure_signed_in, load])
