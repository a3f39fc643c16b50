"""The acting person and the cities they can see."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from ridp.web.api.schemas import READ, CityPath, CitySchema, MeSchema, answers
from ridp.workspace.access import city_for, is_programme_admin, visible_cities
from ridp.workspace.models import City, User

router = Router(tags=["people"])


def acting(request: HttpRequest) -> User:
    """The person the request authenticated as (session or personal token)."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def city_out(city: City) -> CitySchema:
    return CitySchema(
        slug=city.slug, name=city.name, timezone=city.timezone, cohort=city.cohort.name if city.cohort else None
    )


@router.get(
    "/me", response=answers({200: MeSchema}), operation_id="me", summary="Who you are and the cities you can see"
)
def me(request: HttpRequest) -> MeSchema:
    user = acting(request)
    return MeSchema(
        username=user.username,
        email=user.email,
        programme_admin=is_programme_admin(user),
        cities=[city_out(c) for c in visible_cities(user)],
    )


@router.get(
    "/cities", response=answers({200: list[CitySchema]}), operation_id="list_cities", summary="The cities you can see"
)
def cities(request: HttpRequest) -> list[CitySchema]:
    return [city_out(c) for c in visible_cities(acting(request))]


@router.get("/cities/{city}", response=answers({200: CitySchema}, *READ), operation_id="get_city", summary="One city")
def city(request: HttpRequest, city: CityPath) -> CitySchema:
    return city_out(city_for(acting(request), city))
