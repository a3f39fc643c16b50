"""Cities: adding and listing them."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils.text import slugify

from ridp.errors import FieldError, PermissionDeniedError
from ridp.workspace import audit
from ridp.workspace.models import City, Cohort, Programme, User
from ridp.workspace.people import cities_for, is_programme_admin

__all__ = ["add_city", "list_cities"]


def add_city(
    actor: User, name: str, *, slug: str | None = None, timezone: str = "UTC", cohort: str | None = None
) -> City:
    """Add a city to the programme (programme admins only).

    Examples
    --------
    ``add_city(admin, "Springfield", timezone="America/Chicago")`` makes the
    city ``springfield``.
    """
    if not is_programme_admin(actor):
        raise PermissionDeniedError("only a programme admin can add a city")
    if not name.strip():
        raise FieldError("name", "a city needs a name")
    slug_value = slugify(slug or name)
    if not slug_value:
        raise FieldError("slug", f"cannot make a short name from {name!r}; give --slug")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError("timezone", f"{timezone!r} is not a time zone", hint="e.g. America/New_York") from None
    if City.objects.filter(slug=slug_value).exists():
        raise FieldError("slug", f"a city {slug_value!r} exists already")
    programme = Programme.objects.order_by("id").first()
    assert programme is not None  # ensure_ready() ran
    with transaction.atomic():
        cohort_obj = None
        if cohort:
            cohort_obj, _ = Cohort.objects.get_or_create(
                programme=programme, name=cohort, defaults={"year": _year(cohort)}
            )
        city = City.objects.create(
            programme=programme, cohort=cohort_obj, name=name.strip(), slug=slug_value, timezone=timezone
        )
        audit.record("city.added", actor=actor, city=city, obj=city)
    return city


def _year(cohort: str) -> int:
    digits = "".join(ch for ch in cohort if ch.isdigit())
    return int(digits[:4]) if len(digits) >= 4 else 0


def list_cities(actor: User) -> list[City]:
    return cities_for(actor)
