"""Workspace fixtures: personas in two cities on the test database (SQLite or PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/workspace" in str(item.fspath):
            item.add_marker(pytest.mark.store)


@dataclass
class People:
    admin: object
    ana: object  # data analyst, Springfield
    sam: object  # senior leader, Springfield
    vera: object  # viewer, Springfield
    otto: object  # data analyst, Shelbyville (the other city)


@pytest.fixture
def people(db: None, home: Path) -> People:
    from ridp.workspace.cities import add_city
    from ridp.workspace.people import add_member
    from ridp.workspace.store import init_workspace

    admin = init_workspace("admin")
    add_city(admin, "Springfield", timezone="America/Chicago")
    add_city(admin, "Shelbyville", timezone="America/Chicago")
    from ridp.workspace.models import City

    spring, shelby = City.objects.get(slug="springfield"), City.objects.get(slug="shelbyville")
    ana = add_member(admin, "ana", "data_analyst", city=spring).user
    sam = add_member(admin, "sam", "senior_leader", city=spring).user
    vera = add_member(admin, "vera", "viewer", city=spring).user
    otto = add_member(admin, "otto", "data_analyst", city=shelby).user
    return People(admin, ana, sam, vera, otto)
