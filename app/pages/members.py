"""Members and roles (owner, admin, member). Everyone sees who belongs; only owners and admins
add, change and remove members (the database enforces this too)."""

from __future__ import annotations

import dataclasses
from uuid import UUID

import reflex as rx

from app.backend import problem, when
from app.components.layout import field_label, error, loading, page_frame
from app.state import NotSignedIn, Session
from switchboard import orgs

ROLES = ["member", "admin", "owner"]


@dataclasses.dataclass
class MemberRow:
    user_id: str
    email: str
    role: str
    joined: str
    is_me: bool


class Members(Session):
    loaded: bool = False
    load_error: str = ""
    action_error: str = ""
    note: str = ""
    rows: list[MemberRow] = []

    @rx.event
    async def load(self):
        if not self.signed_in:
            return
        self.loaded, self.load_error, self.action_error, self.note = False, "", "", ""
        try:
            await self._fetch()
        except NotSignedIn:
            return rx.redirect("/sign-in")
        except Exception as exc:
            self.load_error = problem(exc)
        self.loaded = True
        return None

    async def _fetch(self) -> None:
        me = str(self._claims().user_id)
        async with self._as_user() as conn:
            members = await orgs.list_members(conn, self._org())
        self.rows = [MemberRow(user_id=str(m.user_id), email=m.email or "—", role=m.role, joined=when(m.created_at),
                               is_me=str(m.user_id) == me) for m in members]

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
    )
