"""Places in the store: a boundary dataset from the catalog checked, the demo city's requests assigned to its
neighbourhoods once and kept, personal columns masked again when the stored rows are read, and the places
analyses (hot spots, service gaps, where resources go) run on the stored ids, answered again from the saved run,
with their maps."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ridp.errors import FieldError, PermissionDeniedError
from tests.workspace.test_project_team import Team, make_team


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from ridp.demo import generate_city

    return generate_city(tmp_path_factory.mktemp("demo"), rows=6_000, seed=11)


_PARSED: dict[tuple[str, str], tuple[bytes, Any]] = {}


@contextlib.contextmanager
def _parse_once() -> Iterator[None]:
    """Every test's team adds the same three files: each is parsed once per session (by the real ingest, in its
    limited child process) and its Parquet bytes reused, as the web tests' worlds do; the rest of ``add_file``
    (checksums, verifying the file, the version and its audit entry) runs each time. Ingest has its own tests."""
    from ridp.workspace import datasets

    real = datasets.parse_file

    def cached(source: Path, target: Path, **options: Any) -> Any:
        key = (
            hashlib.sha256(Path(source).read_bytes()).hexdigest(),
            repr(sorted((k, repr(v)) for k, v in options.items() if k not in ("progress", "should_stop"))),
        )
        if key not in _PARSED:
            outcome = real(source, target, **options)
            if outcome is None:
                return None
            _PARSED[key] = (Path(target).read_bytes(), outcome)
        data, outcome = _PARSED[key]
        Path(target).write_bytes(data)
        return outcome

    datasets.parse_file = cached  # type: ignore[assignment]
    try:
        yield
    finally:
        datasets.parse_file = real


_PROPOSED: dict[str, Any] = {}


@contextlib.contextmanager
def _propose_once() -> Iterator[None]:
    """The mapping proposed for the same rows is the same (``propose_mapping`` is a pure function of the sample
    and the time zone, and its answer frozen): worked out once per session, then reused; the mapping each test
    accepts is written to its own store as ever. Proposing has its own tests."""
    from ridp.workspace import mapping

    real = mapping.propose_mapping

    def cached(sample: pd.DataFrame, *, timezone: str = "UTC") -> Any:
        digest = hashlib.sha256(repr((list(sample.columns), [str(t) for t in sample.dtypes], timezone)).encode())
        digest.update(pd.util.hash_pandas_object(sample, index=True).to_numpy().tobytes())
        key = digest.hexdigest()
        if key not in _PROPOSED:
            _PROPOSED[key] = real(sample, timezone=timezone)
        return _PROPOSED[key]

    mapping.propose_mapping = cached  # type: ignore[assignment]
    try:
        yield
    finally:
        mapping.propose_mapping = real


@pytest.fixture
def team(people: Any, city: Any) -> Team:
    from ridp.workspace.datasets import add_file
    from ridp.workspace.mapping import map_dataset

    t = make_team(people)
    with _parse_once(), _propose_once():
        add_file(people.ana, city.requests_csv, city="springfield", name="service_requests")
        map_dataset(people.ana, "springfield", "service_requests", accept=True)
        add_file(people.ana, city.neighbourhoods_geojson, city="springfield", name="neighbourhoods")
        add_file(people.ana, city.population_csv, city="springfield", name="population")
    return t


def _clean_truth(city: Any) -> pd.DataFrame:
    """Every row whose coordinates the demo left clean, with its planted area (an independent reading)."""
    frame = pd.read_csv(city.requests_csv, dtype=str, keep_default_na=False)
    lat = pd.to_numeric(frame["latitude"], errors="coerce")
    lon = pd.to_numeric(frame["longitude"], errors="coerce")
    clean = lat.notna() & lon.notna() & (lat != 0) & (lat > 0)
    return frame[clean]


def test_boundaries_from_the_catalog_are_checked(team: Team, city: Any) -> None:
    from ridp.workspace.places import boundaries_of

    areas, version = boundaries_of(team.users["ana"], "springfield", "neighbourhoods")
    planted = json.loads(city.neighbourhoods_geojson.read_text())
    assert version.number == 1 and len(areas) == len(planted["features"]) == 40
    assert areas.id_field == "area_id" and not areas.problems  # the demo's grid tiles the city: no gap, no overlap
    with pytest.raises(FieldError, match="no geometry column"):
        boundaries_of(team.users["ana"], "springfield", "population")
    with pytest.raises(FieldError, match="has no column 'nope'"):
        boundaries_of(team.users["ana"], "springfield", "neighbourhoods", id_field="nope")


def test_points_are_assigned_once_and_reproduce_the_planted_areas(team: Team, city: Any) -> None:
    import pyarrow.parquet as pq

    from ridp.workspace.models import AreaAssignment, AuditEntry
    from ridp.workspace.places import assign, describe
    from ridp.workspace.store import home

    item = assign(team.users["ana"], "springfield", "service_requests", "neighbourhoods")
    again = assign(team.users["dan"], "springfield", "service_requests", "neighbourhoods")
    assert again.pk == item.pk and AreaAssignment.objects.count() == 1
    assert AuditEntry.objects.filter(action="places.assigned").count() == 1
    data = describe(item)
    assert data["rows"] == 6_000 and sum(data["counts"].values()) == 6_000 and data["column"] == "area_neighbourhoods"
    stored = pq.read_table(home() / item.file).to_pandas()
    assert len(stored) == 6_000 and "area_neighbourhoods" in stored.columns
    placed = stored[stored["area_neighbourhoods"].notna()]
    # the demo planted each request's area: the point-in-polygon answer agrees for every placed row
    assert (placed["area_neighbourhoods"] == placed["area_id"].str.strip()).all()
    truth = _clean_truth(city)
    assert data["counts"]["assigned"] + data["counts"]["swapped"] == len(placed)
    assert len(placed) >= len(truth) - data["counts"]["outside"]
    assert data["counts"]["missing"] + data["counts"]["zero"] > 0  # the demo plants both: counted, not dropped


def test_a_viewer_may_not_assign_and_sees_no_example_rows(team: Team) -> None:
    from ridp.workspace.places import assign

    with pytest.raises(PermissionDeniedError):
        assign(team.users["vera"], "springfield", "service_requests", "neighbourhoods")


def test_points_need_mapped_coordinates(team: Team, people: Any, tmp_path: Path) -> None:
    from ridp.workspace.datasets import add_file
    from ridp.workspace.places import assign

    path = tmp_path / "no_coords.csv"
    path.write_text("id,what\n1,a\n2,b\n", encoding="utf-8")
    add_file(people.ana, path, city="springfield", name="no_coords")
    with pytest.raises(FieldError, match="latitude and longitude"):
        assign(team.users["ana"], "springfield", "no_coords", "neighbourhoods")


def _places(t: Team, kind: str, who: str = "ana", **params: Any) -> tuple[Any, Any]:
    from ridp.workspace.analysis import analyze_now

    return analyze_now(t.users[who], "springfield", t.project.pk, "service_requests", kind, params)


PEOPLE = {"dataset": "population", "key": "area_id", "value": "population"}


def test_hot_spots_run_on_the_stored_ids_and_are_answered_again(team: Team, city: Any) -> None:
    from ridp.workspace.models import AreaAssignment
    from ridp.workspace.places import map_spec

    run, result = _places(team, "hot_spots", boundaries="neighbourhoods", population=PEOPLE)
    assert run.status == "done" and run.params["boundaries"] == {"dataset": "neighbourhoods", "version": 1,
                                                                 "id_field": None}  # fmt: skip
    assert AreaAssignment.objects.count() == 1  # assigned once, on the way
    again, _ = _places(team, "hot_spots", "dan", boundaries="neighbourhoods", population=PEOPLE)
    assert again.pk == run.pk
    frame = result.to_pandas()
    assert len(frame) == 40 and "z" in frame.columns
    spec = map_spec(team.users["vera"], run)  # a viewer reads the map: areas and figures, no rows
    assert "http" not in json.dumps({k: v for k, v in spec.items() if k != "$schema"})  # nothing fetched
    assert "N0" in json.dumps(spec)  # the areas are in it


def test_service_gaps_by_area_and_personal_breakdowns_refused(team: Team) -> None:
    run, result = _places(team, "service_gaps", boundaries="neighbourhoods", population=PEOPLE)
    assert run.status == "done" and len(result.to_pandas()) >= 30
    _, by_column = _places(team, "service_gaps", by="area_id")
    assert len(by_column.to_pandas()) >= 30
    with pytest.raises(FieldError, match="name the column of groups"):
        _places(team, "service_gaps")
    with pytest.raises(FieldError, match="is not an input of hot spots"):
        _places(team, "hot_spots", boundaries="neighbourhoods", reference="N01")
    with pytest.raises(FieldError, match="hot spots need the areas' polygons"):
        _places(team, "hot_spots", area_column="area_id")


def test_where_resources_go_from_the_census_table(team: Team) -> None:
    run, result = _places(team, "resource_scores", boundaries="neighbourhoods",
                          census={"dataset": "population", "key": "area_id", "baseline": "population"})  # fmt: skip
    assert run.status == "done"
    from ridp.workspace.places import map_spec, worst_first

    frame = result.to_pandas()
    assert len(frame) == 40 and abs(frame["event_share"].sum() - 1) < 1e-9
    ranked = worst_first(result)
    assert ranked["score"].abs().is_monotonic_decreasing
    assert "N0" in json.dumps(map_spec(team.users["ana"], run))
    with pytest.raises(FieldError, match="has no column 'nope'"):
        _places(team, "resource_scores", boundaries="neighbourhoods",
                census={"dataset": "population", "key": "area_id", "baseline": "nope"})  # fmt: skip
