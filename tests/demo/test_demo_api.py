"""ridp.demo: the public API, determinism, errors, progress and the CLI."""

from __future__ import annotations

import doctest
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import ridp.demo
import ridp.demo.__main__ as demo_main
import ridp.demo._generate as demo_generate
from ridp.demo import DemoCity, generate_city
from ridp.demo._generate import COLUMNS, POPULATION_COLUMNS, _write_city


def _digests(city: DemoCity) -> dict[str, str]:
    paths = [city.requests_csv, city.neighbourhoods_geojson, city.population_csv, city.truth_json]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_same_rows_and_seed_give_byte_identical_files(tmp_path: Path) -> None:
    a = generate_city(tmp_path / "a", rows=20_000, seed=5)
    b = generate_city(tmp_path / "b", rows=20_000, seed=5)
    assert _digests(a) == _digests(b)
    c = generate_city(tmp_path / "c", rows=20_000, seed=6)
    assert _digests(c)["service_requests.csv"] != _digests(a)["service_requests.csv"]


def test_the_map_depends_on_the_seed_only(tmp_path: Path) -> None:
    small = generate_city(tmp_path / "small", rows=300, seed=5)
    large = generate_city(tmp_path / "large", rows=3_000, seed=5)
    assert small.neighbourhoods_geojson.read_bytes() == large.neighbourhoods_geojson.read_bytes()
    assert small.population_csv.read_bytes() == large.population_csv.read_bytes()


def test_demo_city_fields(city: DemoCity) -> None:
    assert city.rows == 50_000
    assert city.seed == json.loads(city.truth_json.read_text())["seed"]
    assert city.requests_csv == city.directory / "service_requests.csv"
    assert city.neighbourhoods_geojson == city.directory / "neighbourhoods.geojson"
    assert city.population_csv == city.directory / "population.csv"
    assert city.truth_json == city.directory / "truth.json"
    assert sorted(p.name for p in city.directory.iterdir()) == sorted(
        ["service_requests.csv", "neighbourhoods.geojson", "population.csv", "truth.json"]
    )
    with pytest.raises(AttributeError):
        city.rows = 3  # type: ignore[misc]


def test_row_count_and_header_are_exact(city: DemoCity, requests: pd.DataFrame, truth: dict) -> None:
    assert len(requests) == 50_000 == truth["rows"]["total"]
    assert list(requests.columns) == list(COLUMNS) == truth["columns"]
    assert len(COLUMNS) == 15
    with city.requests_csv.open("rb") as fh:
        assert sum(1 for _ in fh) == 50_001
    assert truth["rows"]["chunks"] > 1  # the shared city exercises chunk boundaries


@pytest.mark.parametrize("rows", [1, 2, 7, 999, 1_001])
def test_tiny_cities_have_exact_row_counts(tmp_path: Path, rows: int) -> None:
    city = generate_city(tmp_path, rows=rows, seed=3)
    df = pd.read_csv(city.requests_csv, dtype=str, keep_default_na=False)
    assert len(df) == rows
    truth = json.loads(city.truth_json.read_text())
    assert truth["rows"]["total"] == rows
    assert truth["messiness"]["counts"]["exact_duplicate_rows"] == rows // 1000


def test_progress_reports_every_chunk(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    _write_city(tmp_path, 10_000, 4, progress=lambda d, t: calls.append((d, t)), chunk_rows=2_000)
    assert len(calls) >= 4
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert all(t == 10_000 for _, t in calls)
    assert done[-1] == 10_000


def test_public_progress_single_chunk(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    generate_city(tmp_path, rows=1_234, seed=2, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1_234, 1_234)]


@pytest.mark.parametrize("rows", [0, -5])
def test_rows_below_one_are_rejected(tmp_path: Path, rows: int) -> None:
    with pytest.raises(ValueError, match="rows must be a positive integer"):
        generate_city(tmp_path, rows=rows)


def test_negative_seed_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        generate_city(tmp_path, rows=10, seed=-1)


def test_file_path_is_rejected(tmp_path: Path) -> None:
    target = tmp_path / "not_a_dir"
    target.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        generate_city(target, rows=10)


def test_missing_directory_is_created(tmp_path: Path) -> None:
    city = generate_city(tmp_path / "a" / "b", rows=50, seed=1)
    assert city.requests_csv.is_file()
    assert not (city.directory / "service_requests.csv.partial").exists()


def test_population_csv(city: DemoCity, truth: dict) -> None:
    pop = pd.read_csv(city.population_csv)
    assert list(pop.columns) == list(POPULATION_COLUMNS)
    assert len(pop) == 40 == truth["city"]["areas"]
    assert pop["area_id"].tolist() == [f"N{i:02d}" for i in range(1, 41)]
    assert pop["name"].is_unique
    assert int(pop["population"].sum()) == truth["city"]["total_population"]
    for col in ("population", "households", "median_household_income", "pct_nonwhite", "pct_poverty"):
        assert (pop[col] > 0).all()
        assert (pop[f"{col}_moe"] > 0).all()
        assert (pop[f"{col}_moe"] < pop[col]).all()
    assert (pop["households"] < pop["population"]).all()
    assert pop["pct_poverty"].between(0, 100).all() and pop["pct_nonwhite"].between(0, 100).all()


def test_names_agree_across_files(city: DemoCity, requests: pd.DataFrame, truth: dict) -> None:
    geo = json.loads(city.neighbourhoods_geojson.read_text())
    geo_names = {f["properties"]["area_id"]: f["properties"]["name"] for f in geo["features"]}
    pop = pd.read_csv(city.population_csv)
    assert geo_names == dict(zip(pop["area_id"], pop["name"], strict=True))
    assert geo_names == {a["area_id"]: a["name"] for a in truth["areas"]}
    pairs = requests[["area_id", "neighbourhood"]].drop_duplicates()
    stripped = pairs.assign(neighbourhood=pairs["neighbourhood"].str.strip()).drop_duplicates()
    assert dict(zip(stripped["area_id"], stripped["neighbourhood"], strict=True)) == geo_names


def test_cli_main_prints_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo_main.main([str(tmp_path), "--rows", "250", "--seed", "9"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        "service_requests.csv",
        "neighbourhoods.geojson",
        "population.csv",
        "truth.json",
    ]
    assert all(Path(line.split(": ", 1)[1]).is_file() for line in lines)


def test_cli_rejects_bad_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        demo_main.main([str(tmp_path), "--rows", "0"])
    assert exc.value.code == 2
    assert "rows must be a positive integer" in capsys.readouterr().err


def test_python_dash_m(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ridp.demo", str(tmp_path / "cli"), "--rows", "120", "--seed", "4"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert f"truth.json: {tmp_path / 'cli' / 'truth.json'}" in out.stdout
    assert len(pd.read_csv(tmp_path / "cli" / "service_requests.csv")) == 120


@pytest.mark.parametrize("module", [ridp.demo, demo_main, demo_generate])
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
