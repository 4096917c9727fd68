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
app.add_page(onboarding_page, route="/onboarding", title="Set up · Switchboard",
             on_load=[Session.ensure_signed_in, Onboarding.start])
app.add_page(dashboard_page, route="/dashboard", title="Costs · Switchboard",
             on_load=[Session.ensure_signed_in, Dashboard.load])
app.add_page(agent_page, route="/agent", title="Agent · Switchboard",
             on_load=[Session.ensure_signed_in, AgentConfig.load])
app.add_page(calls_page, route="/calls", title="Calls · Switchboard",
             on_load=[Session.ensure_signed_in, CallList.load])
app.add_page(call_page, route="/calls/[call_id]", title="Call · Switchboard",
             on_load=[Session.ensure_signed_in, CallPage.load])
app.add_page(health_page, route="/health", title="Platform health · Switchboard",
             on_load=[Session.ensure_signed_in, Health.load])
app.add_page(members_page, route="/members", title="Members · Switchboard",
             on_load=[Session.ensure_signed_in, Members.load])
