"""Members and roles (owner, admin, member). Everyone sees who belongs and who is invited; only
owners and admins add, invite, change and remove members (the database enforces this too). An
invitation's link is shown once, to copy (and mailed when SMTP is configured)."""

from __future__ import annotations

import dataclasses
from datetime import timezone
from uuid import UUID

import reflex as rx

from app.backend import problem, when
from app.components.layout import field_label, error, loading, page_frame
from app.state import Session
from switchboard import invitations, orgs
from switchboard.invitations import mail
from switchboard.settings import get_settings

ROLES = ["member", "admin", "owner"]


@dataclasses.dataclass
class MemberRow:
    user_id: str
    email: str
    role: str
    joined: str
    is_me: bool


@dataclasses.dataclass
class InviteRow:
    id: str
    email: str
    role: str
    expires: str


def utc(value):
    """A time in UTC, as the pages label it."""
    return value.astimezone(timezone.utc) if value is not None else None


class Members(Session):
    loaded: bool = False
    load_error: str = ""
    action_error: str = ""
    note: str = ""
    rows: list[MemberRow] = []
    invites: list[InviteRow] = []
    # The link of the invitation just made: the only time it can be shown (only its hash is kept).
    new_link: str = ""
    new_link_for: str = ""

    @rx.var
    def invite_roles(self) -> list[str]:
        """The roles the caller may give: owners any, admins admin or member."""
        return ROLES if self.role == "owner" else ["member", "admin"]

    @rx.event
    async def load(self):
        if not self.signed_in:
            return
        self.loaded, self.load_error, self.action_error, self.note = False, "", "", ""
        try:
            await self._fetch()
        except Exception as exc:
            failed = self._failed(exc)
            if failed is not None:
                return failed
        self.loaded = True
        return None

    async def _fetch(self) -> None:
        me = str(self._claims().user_id)
        async with self._as_user() as conn:
            members = await orgs.list_members(conn, self._org())
            pending = await invitations.list_invitations(conn, self._org())
        self.rows = [MemberRow(user_id=str(m.user_id), email=m.email or "—", role=m.role, joined=when(m.created_at),
                               is_me=str(m.user_id) == me) for m in members]
        self.invites = [InviteRow(id=str(i.id), email=i.email, role=i.role, expires=when(utc(i.expires_at))) for i in pending]

    async def _change(self, action, note: str):
        self.action_error, self.note = "", ""
        try:
            async with self._as_user() as conn:
                await action(conn)
            await self._fetch()
        except Exception as exc:
            self.action_error = problem(exc)
            return
        self.note = note

    @rx.event
    async def add(self, form: dict):
        email, role = (form.get("email") or "").strip(), form.get("role") or "member"
        if not email:
            self.action_error = "Enter the e-mail address of someone who has an account."
            return
        await self._change(lambda conn: orgs.add_member(conn, self._org(), email, role), f"{email} added as {role}.")
        if "sign up first" in self.action_error and self.is_admin:
            self.action_error += " Or invite them by e-mail below: they sign up through the link."

    @rx.event
    async def invite(self, form: dict):
        email, role = (form.get("email") or "").strip(), form.get("role") or "member"
        self.action_error, self.note, self.new_link, self.new_link_for = "", "", "", ""
        if not email:
            self.action_error = "Enter the e-mail address to invite."
            return
        try:
            async with self._as_user() as conn:
                created = await invitations.create_invitation(conn, self._org(), email, role)
            inv = created.invitation
            # The address the admin's browser is using is where the invitee will open the app.
            origin = str(self.router.url.origin)
            base = origin if origin.startswith(("http://", "https://")) else get_settings().resolved_app_url()
            link = invitations.link_for(base, created.token)
            await self._fetch()
        except Exception as exc:
            self.action_error = problem(exc)
            return
        self.new_link, self.new_link_for = link, inv.email
        note = f"{inv.email} is invited as {inv.role} until {when(utc(inv.expires_at))} UTC."
        if mail.mail_configured():
            why = await mail.mail_invitation(to=inv.email, organization=self.org_name or "Switchboard", role=inv.role,
                                             link=link, invited_by=self.email or None,
                                             expires=f"{when(utc(inv.expires_at))} UTC")
            note += " The link was e-mailed too." if why is None else f" It could not be e-mailed ({why}): copy the link."
        else:
            note += " Copy the link and send it to them."
        self.note = note

    @rx.event
    async def revoke(self, invitation_id: str):
        self.new_link, self.new_link_for = "", ""
        await self._change(lambda conn: invitations.revoke_invitation(conn, self._org(), UUID(invitation_id)),
                           "Invitation revoked: its link no longer works.")

    @rx.event
    def copy_link(self):
        return [rx.set_clipboard(self.new_link), rx.toast.success("Link copied.")]

    @rx.event
    async def set_role(self, user_id: str, role: str):
        await self._change(lambda conn: orgs.set_member_role(conn, self._org(), UUID(user_id), role), "Role changed.")

    @rx.event
    async def remove(self, user_id: str):
        await self._change(lambda conn: orgs.remove_member(conn, self._org(), UUID(user_id)), "Member removed.")


def member_row(m: MemberRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(m.email, rx.cond(m.is_me, rx.text(" (you)", as_="span", color_scheme="gray"))),
        rx.table.cell(rx.cond(
            Members.is_admin,
            rx.select.root(
                rx.select.trigger(aria_label="Role of " + m.email),
                rx.select.content(*[rx.select.item(r, value=r) for r in ROLES]),
                value=m.role, on_change=lambda r: Members.set_role(m.user_id, r), size="1",
            ),
            rx.badge(m.role),
        )),
        rx.table.cell(m.joined),
        rx.table.cell(rx.cond(Members.is_admin & ~m.is_me,
                              rx.button("Remove", size="1", color_scheme="red", variant="soft",
                                        on_click=Members.remove(m.user_id)))),
        class_name="member-row",
    )


def members_page() -> rx.Component:
    return page_frame(
        "Members",
        rx.cond(Members.load_error != "", error(Members.load_error)),
        rx.cond(Members.action_error != "", error(Members.action_error)),
        rx.cond(Members.note != "", rx.callout.root(rx.callout.text(Members.note), color_scheme="green")),
        rx.cond(
            ~Members.loaded,
            loading("Loading members…"),
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("E-mail", "Role", "Joined", "")])),
                rx.table.body(rx.foreach(Members.rows, member_row)),
                width="100%", id="members-table",
            ), width="100%", overflow_x="auto"),
        ),
        rx.cond(
            Members.is_admin,
            rx.card(rx.form(
                rx.text("Add someone who already has an account", size="2", weight="medium", padding_bottom="0.5em"),
                rx.hstack(
                    rx.vstack(field_label("E-mail", for_id="member-email", size="1", weight="medium"),
                              rx.input(name="email", placeholder="colleague@example.com", type="email",
                                       width="min(280px, 100%)", id="member-email"), spacing="1"),
                    rx.vstack(field_label("Role", for_id="member-role", size="1", weight="medium"),
                              rx.select(ROLES, name="role", default_value="member", id="member-role"), spacing="1"),
                    rx.button("Add member", type="submit", id="add-member"),
                    align="end", wrap="wrap",
                ),
                on_submit=Members.add, reset_on_submit=True,
            ), width="100%"),
            rx.text("Only owners and admins can add members, change roles and manage API keys.", size="2",
                    color_scheme="gray", id="admins-only"),
        ),
        rx.cond(Members.is_admin, invite_card()),
        rx.cond(Members.loaded & (Members.invites.length() > 0), invites_table()),
    )


def invite_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.heading("Invite by e-mail", size="3", as_="h2"),
        rx.text("For someone without an account yet (or with one): they sign up or sign in with this address "
                "through the link, which works once, for 7 days.", size="2", color_scheme="gray"),
        rx.form(
            rx.hstack(
                rx.vstack(field_label("E-mail", for_id="invite-email", size="1", weight="medium"),
                          rx.input(name="email", placeholder="new.colleague@example.com", type="email", width="280px",
                                   id="invite-email"), spacing="1"),
                rx.vstack(field_label("Role", for_id="invite-role", size="1", weight="medium"),
                          rx.select(Members.invite_roles, name="role", default_value="member", id="invite-role"),
                          spacing="1"),
                rx.button("Invite", type="submit", id="invite-submit"),
                align="end",
            ),
            on_submit=Members.invite, reset_on_submit=True,
        ),
        rx.cond(
            Members.new_link != "",
            rx.vstack(
                rx.text("Invitation link for ", rx.text(Members.new_link_for, as_="span", weight="bold"),
                        " (shown only now):", size="2"),
                rx.hstack(
                    rx.input(value=Members.new_link, read_only=True, width="100%", id="invite-link",
                             aria_label="Invitation link"),
                    rx.button(rx.icon("copy", size=14), "Copy", on_click=Members.copy_link, variant="soft",
                              id="copy-invite-link"),
                    width="100%", align="center",
                ),
                width="100%", spacing="1",
            ),
        ),
        spacing="2", width="100%",
    ), width="100%")


def invite_row(i: InviteRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(i.email),
        rx.table.cell(rx.badge(i.role)),
        rx.table.cell(i.expires),
        rx.table.cell(rx.cond(
            Members.is_admin & ((i.role != "owner") | (Members.role == "owner")),
            rx.button("Revoke", size="1", color_scheme="red", variant="soft", on_click=Members.revoke(i.id),
                      aria_label="Revoke the invitation of " + i.email),
        )),
        class_name="invite-row",
    )


def invites_table() -> rx.Component:
    return rx.vstack(
        rx.heading("Pending invitations", size="3", as_="h2"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("E-mail", "Role", "Expires (UTC)", "")])),
            rx.table.body(rx.foreach(Members.invites, invite_row)),
            width="100%", id="invites-table",
        ),
        width="100%", spacing="2",
    )
