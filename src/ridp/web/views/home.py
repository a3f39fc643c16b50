"""The home page (the cities a person can see) and a city's overview."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone as django_timezone
from django.views.decorators.http import require_GET

from ridp.workspace.access import city_for, visible_cities
from ridp.workspace.agreements import list_agreements
from ridp.workspace.datasets import list_datasets
from ridp.workspace.models import Agreement, User
from ridp.workspace.projects import list_projects

#: Agreements ending within this many days are flagged on the city's pages.
EXPIRY_WARNING_DAYS = 60


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def expiring(agreements: list[Agreement]) -> list[Agreement]:
    """Active or signed agreements that end within :data:`EXPIRY_WARNING_DAYS`."""
    today = django_timezone.now().date()
    soon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    live = (Agreement.Status.ACTIVE, Agreement.Status.SIGNED)
    return [a for a in agreements if a.status in live and today <= a.expires_on <= soon]


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "ridp/home.html", {"cities": visible_cities(_user(request))})


@login_required
@require_GET
def city(request: HttpRequest, city: str) -> HttpResponse:
    user = _user(request)
    city_obj = city_for(user, city)
    datasets = list_datasets(user, city)
    agreements = list_agreements(user, city)
    context = {
        "city": city_obj,
        "projects": list_projects(user, city),
        "datasets": datasets,
        "agreements": agreements,
        "expiring": expiring(agreements),
        "needs_agreement": [d for d in datasets if d.needs_agreement],
        "warning_days": EXPIRY_WARNING_DAYS,
    }
    return render(request, "ridp/city.html", context)
