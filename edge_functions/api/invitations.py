"""Invitations: admins and owners invite an e-mail address with a role; the invitee, signed in
with that address, accepts with the link's token. The link is answered once, at creation (only
its hash is stored); with SMTP settings it is also mailed."""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from edge_functions.api.deps import Caller, caller
from edge_functions.api.errors import ApiRoute, errors
from switchboard import invitations, orgs
from switchboard.access import token_scopes
from switchboard.errors import Forbidden
from switchboard.invitations import mail
from switchboard.models import MemberRole
from switchboard.settings import get_settings

router = APIRouter(route_class=ApiRoute, tags=["invitations"])
# Its own router, included before `router`: other methods on /invitations/accept answer 405
# before DELETE /invitations/{invitation_id} could take "accept" for an id.
accept_router = APIRouter(route_class=ApiRoute, tags=["invitations"])


class InvitationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=255, description="the invitee's address (matched case-insensitively)")
    role: MemberRole = Field("member", description="owners may invite owners; admins invite admins and members")


class InvitationOut(BaseModel):
    id: UUID
    email: str
    role: MemberRole
    invited_by: UUID | None = None
    created_at: datetime
    expires_at: datetime


class CreatedInvitationOut(BaseModel):
    id: UUID
    email: str
    role: MemberRole
    link: str = Field(description="the invitation page; shown once (only a hash of its token is kept)")
    expires_at: datetime
    mailed: bool = Field(description="whether the link was also sent by e-mail (SMTP settings)")
    mail_error: str | None = Field(None, description="why it was not mailed, when mail is configured and failed")


class InvitationList(BaseModel):
    items: list[InvitationOut]


class AcceptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200, description="the part of the link after /invite/")


class AcceptedOut(BaseModel):
    organization_id: UUID
    organization_name: str
    role: MemberRole


def _out(i: invitations.Invitation) -> InvitationOut:
    return InvitationOut(id=i.id, email=i.email, role=i.role, invited_by=i.invited_by, created_at=i.created_at,
                         expires_at=i.expires_at)


@router.post("/invitations", status_code=201, response_model=CreatedInvitationOut,
             responses=errors(401, 403, 404, 409, 422), summary="Invite an e-mail address with a role")
async def create_invitation(body: InvitationRequest, who: Caller = Depends(caller)) -> CreatedInvitationOut:
    """Scope: write, as an admin or owner (only owners invite owners). A pending invitation to the
    same address is replaced. The link expires in 7 days and works once."""
    async with who.session("write") as (conn, access):
        created = await invitations.create_invitation(conn, access.organization_id, body.email, body.role)
        org = await orgs.get_organization(conn, access.organization_id)
    inv = created.invitation
    link = invitations.link_for(get_settings().resolved_app_url(), created.token)
    problem = None
    if mail.mail_configured():
        problem = await mail.mail_invitation(
            to=inv.email, organization=org.name if org else "Switchboard", role=inv.role, link=link,
            invited_by=who.claims.email or None, expires=inv.expires_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    return CreatedInvitationOut(id=inv.id, email=inv.email, role=inv.role, link=link, expires_at=inv.expires_at,
                                mailed=mail.mail_configured() and problem is None, mail_error=problem)


@router.get("/invitations", response_model=InvitationList, responses=errors(401, 403, 404, 422),
            summary="Pending invitations")
async def list_invitations(who: Caller = Depends(caller)) -> InvitationList:
    """Scope: read. Pending ones only (not used, revoked or expired), newest first; never a link."""
    async with who.session("read") as (conn, access):
        return InvitationList(items=[_out(i) for i in await invitations.list_invitations(conn, access.organization_id)])


@accept_router.post("/invitations/accept", response_model=AcceptedOut, responses=errors(401, 403, 404, 409, 410, 422),
             summary="Accept an invitation as the signed-in invitee")
async def accept_invitation(body: AcceptRequest, who: Caller = Depends(caller)) -> AcceptedOut:
    """Any signed-in user's token (it need belong to no organisation yet), whose e-mail is the
    invited one; a token narrowed to scopes without write may not. 404: not a valid link; 410:
    expired, revoked or used; 403: the invitation is for another address; 409: already a member."""
    limit = token_scopes(who.claims)
    if limit is not None and "write" not in limit:
        raise Forbidden("this needs the 'write' scope; yours: " + (", ".join(sorted(limit)) or "none"))
    async with who.db.as_user(who.claims) as conn:
        joined = await invitations.accept_invitation(conn, body.token)
    return AcceptedOut(**joined.model_dump())


@router.delete("/invitations/{invitation_id}", status_code=204, responses=errors(401, 403, 404, 409, 422),
               summary="Revoke a pending invitation")
async def revoke_invitation(invitation_id: UUID, who: Caller = Depends(caller)) -> Response:
    """Scope: write, as an admin or owner (an owner's invitation: an owner). Its link stops working
    at once. 409: already used or revoked."""
    async with who.session("write") as (conn, access):
        await invitations.revoke_invitation(conn, access.organization_id, invitation_id)
    return Response(status_code=204)
