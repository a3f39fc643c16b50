"""A city's team: its members, removing a role, and invitations by e-mail.

Anyone who sees the city sees its members; invitations (listing, sending,
withdrawing) and removing roles need ``team.manage``. An invitation's link is
e-mailed and returned once, in the answer to the request that made it; it is
never listed nor logged.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Status

from ridp.web.api.people import acting
from ridp.web.api.schemas import (
    READ,
    WRITE,
    CityPath,
    IdPath,
    InvitationCreated,
    InvitationIn,
    InvitationOut,
    MemberOut,
    answers,
)
from ridp.workspace import invitations, team
from ridp.workspace.models import Invitation

router = Router(tags=["team"])
log = logging.getLogger("ridp.web")


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.pk,
        email=invitation.email,
        role=invitation.role,
        invited_by=invitation.invited_by.username,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


@router.get(
    "/cities/{city}/members",
    response=answers({200: list[MemberOut]}, *READ),
    operation_id="list_members",
    summary="Everyone with a role in the city",
)
def members_list(request: HttpRequest, city: CityPath) -> list[MemberOut]:
    return [MemberOut(**vars(m)) for m in team.members(acting(request), city)]


@router.delete(
    "/cities/{city}/members/{membership_id}",
    response=answers({204: None}, *WRITE),
    operation_id="remove_member",
    summary="Take a role away (it stops working on that person's next request)",
)
def member_remove(request: HttpRequest, city: CityPath, membership_id: IdPath) -> Status[None]:
    team.remove(acting(request), city, membership_id)
    return Status(204, None)


@router.get(
    "/cities/{city}/invitations",
    response=answers({200: list[InvitationOut]}, 403, *READ),
    operation_id="list_invitations",
    summary="The city's open invitations",
)
def invitations_list(request: HttpRequest, city: CityPath) -> list[InvitationOut]:
    return [invitation_out(i) for i in invitations.pending(acting(request), city)]


def _send(request: HttpRequest, invitation: Invitation, link: str) -> bool:
    return invitations.send(invitation, link, inviter=acting(request))


@router.post(
    "/cities/{city}/invitations",
    response=answers({201: InvitationCreated}, *WRITE),
    operation_id="create_invitation",
    summary="Invite someone by e-mail to a role in the city (the link is returned this once)",
)
def invitation_create(request: HttpRequest, city: CityPath, payload: InvitationIn) -> Status[InvitationCreated]:
    invitation, token = invitations.invite(acting(request), city=city, role=payload.role, email=payload.email)
    link = request.build_absolute_uri(reverse("invitation_accept", kwargs={"token": token}))
    mailed = _send(request, invitation, link)
    return Status(201, InvitationCreated(**invitation_out(invitation).model_dump(), link=link, mailed=mailed))


@router.delete(
    "/cities/{city}/invitations/{invitation_id}",
    response=answers({204: None}, *WRITE),
    operation_id="revoke_invitation",
    summary="Withdraw an invitation: its link stops working",
)
def invitation_revoke(request: HttpRequest, city: CityPath, invitation_id: IdPath) -> Status[None]:
    invitations.revoke(acting(request), city, invitation_id)
    return Status(204, None)
