"""A city's team: who holds which role, invitations by e-mail, and removing a role.

Anyone who can see the city sees its team; inviting, withdrawing invitations and
removing roles need ``team.manage`` (the workspace functions check it, and audit
refusals). The invitation's token travels only in the e-mail: it is never shown
on a page nor logged.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ridp.errors import FieldError
from ridp.web.forms_agreements import InviteForm, show_error
from ridp.workspace import invitations, team
from ridp.workspace.access import allowed, city_for, is_programme_admin, require, visible_cities
from ridp.workspace.models import Invitation, User

log = logging.getLogger("ridp.web")


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _page(
    request: HttpRequest, city: str, form: InviteForm | None = None, *, error: str = "", status: int = 200
) -> HttpResponse:
    user = _user(request)
    city_obj = city_for(user, city)
    can_manage = allowed(user, city_obj, "team.manage")
    admin = is_programme_admin(user)
    context = {
        "city": city_obj,
        "members": team.members(user, city),
        "invitations": invitations.pending(user, city) if can_manage else [],
        "can_manage": can_manage,
        "is_admin": admin,
        "form": form or InviteForm(programme_admin=admin),
        "error": error,
        "valid_days": invitations.VALID_DAYS,
    }
    return render(request, "ridp/team/team.html", context, status=status)


@login_required
@require_GET
def team_page(request: HttpRequest, city: str) -> HttpResponse:
    return _page(request, city)


def _send(request: HttpRequest, invitation: Invitation, token: str) -> bool:
    link = request.build_absolute_uri(reverse("invitation_accept", kwargs={"token": token}))
    return invitations.send(invitation, link, inviter=_user(request))


@login_required
@require_POST
def team_invite(request: HttpRequest, city: str) -> HttpResponse:
    user = _user(request)
    require(user, city_for(user, city), "team.manage")
    form = InviteForm(request.POST, programme_admin=is_programme_admin(user))
    if form.is_valid():
        try:
            invitation, token = invitations.invite(user, city=city, **form.cleaned_data)
        except FieldError as exc:
            show_error(form, exc)
        else:
            if _send(request, invitation, token):
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            else:
                messages.error(
                    request,
                    _("The e-mail to %(email)s could not be sent. Withdraw the invitation and try again later.")
                    % {"email": invitation.email},
                )
            return redirect("team", city=city)
    return _page(request, city, form, status=400)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, city: str, invitation_id: int) -> HttpResponse:
    invitation = invitations.revoke(_user(request), city, invitation_id)
    messages.success(
        request, _("The invitation to %(email)s is withdrawn; its link no longer works.") % {"email": invitation.email}
    )
    return redirect("team", city=city)


@login_required
@require_POST
def member_remove(request: HttpRequest, city: str, membership_id: int) -> HttpResponse:
    user = _user(request)
    try:
        team.remove(user, city, membership_id)
    except FieldError as exc:
        return _page(request, city, error=exc.reason, status=400)
    messages.success(request, _("The role is removed. It stops working on that person's next request."))
    if not any(c.slug == city for c in visible_cities(user)):
        return redirect("home")  # they removed their own last role in the city
    return redirect("team", city=city)


urlpatterns: list[URLPattern] = [
    path("", team_page, name="team"),
    path("invite/", team_invite, name="team_invite"),
    path("invitations/<int:invitation_id>/revoke/", invitation_revoke, name="invitation_revoke"),
    path("members/<int:membership_id>/remove/", member_remove, name="member_remove"),
]
