"""``ridp places``, as an analyst runs it on San Francisco's real cases: the tract polygons checked, the cases
assigned to tracts once (and the cases without coordinates matched by address first), hot spots and service
gaps with their maps, and where the requests go against the 2014 ACS population.

Every ``ridp places`` command runs as its own process, as a person runs it. The workspace they run in (the
city, its people, the datasets and their mappings, the project) is made once per module by the same ``ridp``
commands run one after the other in a single process (each command of the shell is tested as a process in
``tests/cli/test_cli.py`` and the other CLI tests), and each test works on its own copy of that folder: a
``ridp`` process costs seconds to start, and the setup was 17 of the 28 these tests started.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from tests.cli.processes import IN_ONE_PROCESS, Ridp, environment

SF = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "city" / "san_francisco"


@pytest.fixture(scope="module")
def sf_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with San Francisco, sam, ana and vera, the cases (mapped), the tracts, the ACS population,
    the first 2,000 cases without coordinates (mapped) and a project."""
    folder = tmp_path_factory.mktemp("places-cli")
    nogeo = folder / "nogeo.csv"
    frame = pd.read_csv(SF / "cases_sample_10000(no-geo).csv", dtype=str).drop(columns=["Point"]).head(2_000)
    frame.to_csv(nogeo, index=False)
    steps: list[tuple[str, list[str]]] = [
        ("", ["init"]),
        ("", ["city", "add", "San Francisco", "--slug", "sf", "--timezone", "America/Los_Angeles"]),
        *[("", ["member", name, "--role", role, "--city", "sf", "--email", f"{name}@sf.gov"])
          for name, role in (("sam", "senior_leader"), ("ana", "data_analyst"), ("vera", "viewer"))],
        ("ana", ["data", "add", str(SF / "cases_sample.csv"), "--city", "sf", "--name", "cases"]),
        ("ana", ["data", "map", "cases", "--city", "sf", "--accept"]),
        ("ana", ["data", "add", str(SF / "city_analysis_neighbor.geojson"), "--city", "sf", "--name", "tracts"]),
        ("ana", ["data", "add", str(_acs_population(folder / "acs.csv")), "--city", "sf", "--name", "acs"]),
        ("ana", ["data", "add", str(nogeo), "--city", "sf", "--name", "nogeo"]),
        ("ana", ["data", "map", "nogeo", "--city", "sf", "--accept"]),
        ("sam", ["project", "start", "--city", "sf", "--title", "Cleaner streets", "--problem", "p", "--why", "w",
                 "--service-change", "s"]),
    ]  # fmt: skip
    home = folder / "home"
    made = subprocess.run([sys.executable, "-c", IN_ONE_PROCESS, json.dumps(steps)], env=environment(home),
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    return home


@pytest.fixture
def ridp(sf_workspace: Path, tmp_path: Path) -> Ridp:
    """``ridp(*args, user=..., ok=True)``: one ``ridp`` process on this test's own copy of the workspace."""
    home = tmp_path / "home"
    shutil.copytree(sf_workspace, home)
    base = environment(home)

    def run(*args: str, user: str = "", ok: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(base, RIDP_USER=user) if user else base
        result = subprocess.run(
            [sys.executable, "-m", "ridp.cli", *args], env=env, capture_output=True, text=True, timeout=300
        )
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    return run


def _acs_population(path: Path) -> Path:
    """B01003 (total population) as a plain table keyed by the 11-digit tract GEOID (the polygons' geoid)."""
    frame = pd.read_csv(SF / "ACS_14_5YR_B01003_with_ann.csv", skiprows=[1], dtype=str)
    out = pd.DataFrame({"geoid": frame["GEO.id2"].str.zfill(11), "population": frame["HD01_VD01"],
                        "population_moe": frame["HD02_VD01"]})  # fmt: skip
    out.to_csv(path, index=False)
    return path


def test_places_on_san_franciscos_cases_and_tracts(ridp: Ridp, tmp_path: Path) -> None:
    checked = ridp("places", "boundaries", "tracts", "--city", "sf", "--json", user="ana").stdout
    check = json.loads(checked)
    assert check["areas"] == 195 and check["id_field"] == "geoid"

    assigned = json.loads(ridp("places", "assign", "cases", "tracts", "--city", "sf", "--json", user="ana").stdout)
    # an independent count: shapely's point-in-polygon over the same points and polygons, each point given to
    # the first polygon of the file that contains it (contains_xy: the same predicate as Polygon.contains(Point),
    # over all points at once rather than one Point object at a time)
    geo = json.loads((SF / "city_analysis_neighbor.geojson").read_text())
    polys = [shapely.geometry.shape(f["geometry"]) for f in geo["features"]]
    ids = [f["properties"]["geoid"] for f in geo["features"]]
    cases = pd.read_csv(SF / "cases_sample.csv")
    has = cases["Lat"].notna() & cases["Long"].notna()
    x, y = cases.loc[has, "Long"].to_numpy(), cases.loc[has, "Lat"].to_numpy()
    first = np.full(len(x), None, dtype=object)
    for i, p in zip(ids, polys, strict=True):
        first[(first == None) & shapely.contains_xy(p, x, y)] = i  # noqa: E711
    expected = dict(Counter(a for a in first.tolist() if a is not None))
    got = {k: v for k, v in assigned["per_area"].items() if v}
    assert got == expected and assigned["rows"] == len(cases)
    assert assigned["counts"]["missing"] == int((~has).sum())
    shown = ridp("places", "assign", "cases", "tracts", "--city", "sf", user="ana").stdout
    assert "placed" in shown and "Coordinates" in shown  # the same assignment, kept and shown again
    assert "1" in ridp("places", "assignments", "cases", "--city", "sf", user="ana").stdout

    hot_map = tmp_path / "hot.svg"
    hot = ridp("places", "hot-spots", "1", "cases", "--city", "sf", "--boundaries", "tracts",
               "--population", "acs:geoid:population", "--svg", str(hot_map), user="ana").stdout  # fmt: skip
    assert "Gi*" in hot and "Benjamini" in hot and hot_map.read_text().startswith("<svg")

    rows = tmp_path / "gaps.csv"
    gaps = ridp("places", "gaps", "1", "cases", "--city", "sf", "--boundaries", "tracts", "--csv", str(rows),
                "--svg", str(tmp_path / "gaps.svg"), user="ana").stdout  # fmt: skip
    assert "run 2 of cases v1" in gaps and "Worst-served first" in gaps
    table = list(csv.DictReader(io.StringIO(rows.read_text(encoding="utf-8"), newline="")))
    # every placed case is in its tract's row but the 55 closed before they were opened (set aside, and said)
    placed = assigned["counts"]["assigned"] + assigned["counts"]["swapped"]
    assert sum(int(r["requests"]) for r in table) == placed - 55 and "closed before" in gaps

    scores = ridp("places", "scores", "1", "cases", "--city", "sf", "--boundaries", "tracts",
                  "--census", "acs:geoid:population", user="ana").stdout  # fmt: skip
    assert "run 3 of cases v1" in scores and "significant" in scores

    denied = ridp("places", "assign", "cases", "tracts", "--city", "sf", user="vera", ok=False)
    assert denied.returncode == 1 and "Traceback" not in denied.stderr
    wrong = ridp("places", "hot-spots", "1", "cases", "--city", "sf", "--boundaries", "acs", user="ana", ok=False)
    assert wrong.returncode == 1 and "no geometry column" in wrong.stderr


def test_cases_without_coordinates_are_matched_by_address_then_assigned(ridp: Ridp) -> None:
    # nogeo: the first 2,000 rows of the no-geo export; the address points are the geocoded cases themselves
    refused = ridp("places", "assign", "nogeo", "tracts", "--city", "sf", user="ana", ok=False)
    assert "no mapped latitude and longitude" in refused.stderr
    out = ridp("places", "assign", "nogeo", "tracts", "--city", "sf", "--addresses", "cases:Address:Lat:Long",
               "--json", user="ana").stdout  # fmt: skip
    data = json.loads(out)
    matched = data["addresses"]
    assert matched["needing"] == 2_000 and 0 < matched["matched"] < 2_000 and matched["examples"]
    placed = data["counts"]["assigned"] + data["counts"]["swapped"]
    assert placed <= matched["matched"] and placed > 0.9 * matched["matched"]
    assert data["counts"]["missing"] == 2_000 - matched["matched"]  # the unmatched stay without coordinates
