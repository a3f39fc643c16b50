"""The acting person and the cities they can see."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from ridp.web.api.schemas import CitySchema, Error, MeSchema
from ridp.workspace.access import city_for, is_programme_admin, visible_cities
from ridp.workspace.models import City, User

router = Router(tags=["people"])


def acting(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def city_out(city: City) -> CitySchema:
    return CitySchema(
        slug=city.slug, name=city.name, timezone=city.timezone, cohort=city.cohort.name if city.cohort else None
    )


@router.get("/me", response={200: MeSchema, 401: Error}, summary="Who you are and the cities you can see")
def me(request: HttpRequest) -> MeSchema:
    user = acting(request)
    return MeSchema(
        username=user.username,
        email=user.email,
        programme_admin=is_programme_admin(user),
        cities=[city_out(c) for c in visible_cities(user)],
    )


@router.get("/cities", response={200: list[CitySchema], 401: Error}, summary="The cities you can see")
def cities(request: HttpRequest) -> list[CitySchema]:
    return [city_out(c) for c in visible_cities(acting(request))]


@router.get("/cities/{city}", response={200: CitySchema, 401: Error, 404: Error}, summary="One city")
def city(request: HttpRequest, city: str) -> CitySchema:
    return city_out(city_for(acting(request), city))
