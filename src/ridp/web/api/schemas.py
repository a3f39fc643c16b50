"""Response and request schemas shared by the API routers."""

from __future__ import annotations

from ninja import Schema


class Error(Schema):
    detail: object


class CitySchema(Schema):
    slug: str
    name: str
    timezone: str
    cohort: str | None


class MeSchema(Schema):
    username: str
    email: str
    programme_admin: bool
    cities: list[CitySchema]
