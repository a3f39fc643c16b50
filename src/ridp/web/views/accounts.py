"""Logging in and out, the second factor, invitations, and a person's own account page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ridp.errors import FieldError, NotFoundError
from ridp.web import accounts
from ridp.web.forms import AcceptInvitationForm, CodeForm, LoginForm, TokenForm
from ridp.web.middleware import VERIFIED
from ridp.workspace import audit, invitations, tokens
from ridp.workspace.models import User


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        wait = accounts.paused_for(username, accounts.client_ip(request))
        if wait:
            form.add_error(
                None, _("Too many failed attempts. Try again in %(minutes)d minutes.") % {"minutes": (wait + 59) // 60}
            )
        else:
            user = accounts.check_password(request, username, form.cleaned_data["password"])
            if user is None:
                form.add_error(None, _("That username and password do not match an active account."))
            else:
                next_url = _safe_next(request)
                accounts.start_session(request, user)
                if not request.session.get(VERIFIED):
                    request.session["ridp_next"] = next_url
                    return redirect(
                        "two_factor_verify" if accounts.two_factor_state(user) == "enrolled" else "two_factor_setup"
                    )
                return HttpResponseRedirect(next_url)
    return render(request, "ridp/accounts/login.html", {"form": form, "next": request.GET.get("next", "")})


def _after_two_factor(request: HttpRequest) -> HttpResponse:
    target = str(request.session.pop("ridp_next", "") or reverse("home"))
    return HttpResponseRedirect(target)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.session.get(VERIFIED):
        return redirect("home")
    if accounts.two_factor_state(user) != "enrolled":
        return redirect("two_factor_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if accounts.paused_for(user.username, accounts.client_ip(request)):
            logout(request)
            messages.error(request, _("Too many wrong codes. Try again in 15 minutes."))
            return redirect("login")
        if accounts.verify_code(request, user, form.cleaned_data["code"]):
            return _after_two_factor(request)
        form.add_error("code", _("That code is not right, or was already used. Enter the newest code."))
    return render(request, "ridp/accounts/two_factor_verify.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    state = accounts.two_factor_state(user)
    if state == "enrolled":
        return redirect("home" if request.session.get(VERIFIED) else "two_factor_verify")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if accounts.paused_for(user.username, accounts.client_ip(request)):
            logout(request)
            messages.error(request, _("Too many wrong codes. Try again in 15 minutes."))
            return redirect("login")
        if accounts.confirm_device(request, user, form.cleaned_data["code"]):
            messages.success(request, _("Two-factor login is on. You will be asked for a code each time you log in."))
            return _after_two_factor(request)
        form.add_error("code", _("That code is not right. Check the time on your phone and enter the newest code."))
    secret = accounts.pending_secret(request)
    context = {
        "form": form,
        "qr": accounts.qr_data_uri(user.username, secret),
        "secret": secret,
        "required": state == "setup_required",
    }
    return render(request, "ridp/accounts/two_factor_setup.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if isinstance(request.user, User):
        audit.record("auth.logout", actor=request.user)
    logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("login")


@login_required
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    accounts.logout_everywhere(_user(request))
    logout(request)
    messages.info(request, _("You are logged out on every device."))
    return redirect("login")


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = {
        "tokens": tokens.list_tokens(user),
        "token_form": TokenForm(),
        "two_factor": accounts.two_factor_state(user),
        "new_token": request.session.pop("ridp_new_token", None),
    }
    return render(request, "ridp/accounts/account.html", context)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    user = _user(request)
    if form.is_valid():
        try:
            _, raw = tokens.create(user, form.cleaned_data["name"], days=form.cleaned_data["days"])
        except FieldError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
        else:
            # Shown once, on the next page; only its hash is kept.
            request.session["ridp_new_token"] = raw
            return redirect("account")
    context = {"tokens": tokens.list_tokens(user), "token_form": form, "two_factor": accounts.two_factor_state(user)}
    return render(request, "ridp/accounts/account.html", context, status=400)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    tokens.revoke(_user(request), token_id)
    messages.success(request, _("The token is revoked; scripts using it stop working now."))
    return redirect("account")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitations.valid_invitation(token)
    except NotFoundError:
        return render(request, "ridp/accounts/invitation_invalid.html", status=404)
    signed_in = request.user if isinstance(request.user, User) and request.user.is_authenticated else None
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and (signed_in is not None or form.is_valid()):
        try:
            if signed_in is not None:
                user = invitations.accept(token, user=signed_in)
            else:
                user = invitations.accept(
                    token, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
                )
        except FieldError as exc:
            if signed_in is not None:
                messages.error(request, exc.reason)
            else:
                form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
        else:
            if signed_in is None:
                accounts.start_session(request, user)
            messages.success(
                request, _("Welcome. You have joined as %(role)s.") % {"role": invitation.get_role_display()}
            )
            if not request.session.get(VERIFIED):
                return redirect("two_factor_setup")
            return redirect("home")
    context = {"form": form, "invitation": invitation, "signed_in": signed_in}
    return render(request, "ridp/accounts/invitation_accept.html", context)
