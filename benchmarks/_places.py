"""The analysis benchmark's places part: every request assigned to one of ~200 polygons, ridp against geopandas.

The polygons (:func:`write_polygons`): each of the demo city's 40 neighbourhood
quadrilaterals (``neighbourhoods.geojson``, seed-fixed) cut into
:data:`STRIPS` strips from west to east, the cuts joining points at equal
fractions along the quad's south and north edges. Neighbouring quads share their
vertices, so the cut points on a shared edge are the same numbers and the 200
polygons still tile the city without gaps or overlaps. The ids are the quad's
with the strip's number (``N07-3``), written to ``places-200.geojson`` in the
benchmark's work folder.

The contenders, each a fresh process (``python _places.py NAME PARQUET GEOJSON OUT``):

``ridp``
    ``ridp.engine.connect("duckdb://:memory:", allowed_directories=...)`` +
    ``load_parquet`` (as the cube's ridp contender reads the requests),
    ``Boundaries.from_file(GEOJSON)``, ``assign_areas(table, boundaries,
    lat="latitude", lon="longitude", column="place_id")`` and
    ``result.table.to_parquet(OUT)``: the stored job, every input column and
    the new ids. (The demo table has an ``area_id`` column already, the
    neighbourhood's, so the new one is ``place_id``.)
``geopandas``
    ``pyarrow.parquet`` reads the two coordinate columns, numpy applies ridp's
    rules (below), ``gpd.points_from_xy`` + ``gpd.read_file(GEOJSON)`` +
    ``gpd.sjoin(points, polygons, predicate="within", how="left")``, and
    pyarrow writes the ids, one per input row in input order, to ``OUT``. It
    stores less than ridp (one column, not sixteen), which favours it.

ridp's rules, which the reference follows so that the counts can be compared:
a row without a latitude or longitude is ``missing``; (0, 0) is ``zero``; a
point inside the polygons' bounding box is looked up; a point whose exchanged
coordinates are inside it is ``swapped`` and looked up exchanged (the demo
plants such rows); anything else is ``invalid`` (beyond ±90/±180) or
``outside``, and so is a looked-up point in no polygon's interior.

The last line a contender prints is JSON: ``rows``, ``import_s``, ``work_s``
(from after the imports to the file written), ``phases`` (seconds per step),
``counts`` (per status) and ``per_area`` (rows per polygon id). After each run
:func:`verify` reads the written file back in a child of its own (untimed) and
checks it holds every input row and the per-area counts the contender reported;
:func:`compare` then checks ridp's counts against geopandas'.

Only the standard library is imported at the top: the benchmark process
(``analysis.py``) imports this module and must stay small.

Examples
--------
>>> strips([(0.0, 0.0), (5.0, 0.0), (5.0, 1.0), (0.0, 1.0)], 5)[1]
[[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0], [1.0, 0.0]]
>>> compare({"per_area": {"A": 2}, "counts": {"zero": 1}}, {"per_area": {"A": 2}, "counts": {"zero": 1}})
[]
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import BenchError, aligned, fmt_ratio, ridp_env, run_child, verdict
from _harness import Run, Runs, describe_exit, measure, median

__all__ = [
    "GOAL_PEAK_GB",
    "GOAL_SPEEDUP",
    "PLACE_SPECS",
    "STRIPS",
    "PlaceContender",
    "PlacesPart",
    "compare",
    "run_places",
    "strips",
    "write_polygons",
]

SCRIPT = Path(__file__).resolve()
#: Strips per neighbourhood: 40 quads x 5 = 200 polygons.
STRIPS = 5
#: The new column (the demo's table has its own ``area_id``, the neighbourhood's).
COLUMN = "place_id"
STATUSES = ("assigned", "swapped", "missing", "zero", "invalid", "outside")
GOAL_SPEEDUP = 5.0  # geopandas' wall time at least this many times ridp's
GOAL_PEAK_GB = 3.0
REFERENCE = "geopandas"


@dataclass(frozen=True)
class PlaceSpec:
    key: str
    label: str


PLACE_SPECS = (
    PlaceSpec("ridp-places", "ridp assign_areas, stored"),
    PlaceSpec("geopandas", "geopandas sjoin(within) + to_parquet"),
)
#: The contender's name in this script's command line.
_RUNNER_NAME = {"ridp-places": "ridp", "geopandas": "geopandas"}


@dataclass
class PlaceContender(Runs):
    spec: PlaceSpec
    skipped: str | None = None

    @property
    def peak_rss_gb(self) -> float:
        return max(r.peak_rss_kib for r in self.ok_runs) * 1024 / 1e9

    @property
    def facts(self) -> dict[str, Any]:
        """What its last successful run reported (:func:`check` makes every run agree)."""
        return self.ok_runs[-1].extra


# --- the polygons -----------------------------------------------------------------------------------------------


def strips(corners: Sequence[tuple[float, float]], n: int) -> list[list[list[float]]]:
    """A convex quad ``(sw, se, ne, nw)`` cut into ``n`` strips from west to east: ``n`` closed rings.

    Cut ``k`` joins the points at ``k/n`` along the south edge (sw to se) and the
    north edge (nw to ne); the end cuts are the quad's own corners. Coordinates are
    rounded to 6 decimals, as the demo's, so a cut point on an edge two quads
    share is the same number in both.
    """
    sw, se, ne, nw = corners

    def along(a: tuple[float, float], b: tuple[float, float], k: int) -> list[float]:
        if k == 0:
            return [a[0], a[1]]
        if k == n:
            return [b[0], b[1]]
        return [round(a[0] + (b[0] - a[0]) * k / n, 6), round(a[1] + (b[1] - a[1]) * k / n, 6)]

    south = [along(sw, se, k) for k in range(n + 1)]
    north = [along(nw, ne, k) for k in range(n + 1)]
    return [[south[k], south[k + 1], north[k + 1], north[k], south[k]] for k in range(n)]


def write_polygons(neighbourhoods: Path, folder: Path, n: int = STRIPS) -> Path:
    """Cut every neighbourhood of ``neighbourhoods.geojson`` into ``n`` strips; write them to ``folder``."""
    document = json.loads(neighbourhoods.read_text(encoding="utf-8"))
    features = []
    for feature in document["features"]:
        ring = feature["geometry"]["coordinates"][0]
        if len(ring) != 5 or ring[0] != ring[-1]:
            raise ValueError(f"{feature['properties']['area_id']} is not a quadrilateral; the demo city changed")
        corners = [(float(x), float(y)) for x, y in ring[:4]]
        area, name = feature["properties"]["area_id"], feature["properties"]["name"]
        for k, part in enumerate(strips(corners, n), start=1):
            features.append(
                {
                    "type": "Feature",
                    "properties": {"area_id": f"{area}-{k}", "name": f"{name} {k}"},
                    "geometry": {"type": "Polygon", "coordinates": [part]},
                }
            )
    path = folder / f"places-{len(features)}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "name": "places", "features": features}) + "\n")
    return path


# --- the contenders (in their own processes) --------------------------------------------------------------------


def run_ridp(parquet: Path, polygons: Path, out: Path) -> dict[str, Any]:
    """ridp's stored job. ``assign_areas(..., write=OUT)`` stores the rows from the one computation that counts
    them; where ``assign_areas`` has no ``write`` (an older ridp), ``result.table.to_parquet(OUT)`` stores them."""
    import inspect

    from ridp.analysis.assign import assign_areas
    from ridp.analysis.boundaries import Boundaries
    from ridp.engine import connect, load_parquet

    imported = time.perf_counter()
    con = connect("duckdb://:memory:", allowed_directories=[parquet.parent, out.parent])
    table = load_parquet(con, parquet, "service_requests")
    connected = time.perf_counter()
    boundaries = Boundaries.from_file(polygons)
    checked = time.perf_counter()
    options: dict[str, Any] = {"lat": "latitude", "lon": "longitude", "column": COLUMN}
    options["id_column"] = "service_request_id"
    in_one = "write" in inspect.signature(assign_areas).parameters
    if in_one:
        options["write"] = out
    result = assign_areas(table, boundaries, **options)
    assigned = time.perf_counter()
    if not in_one:
        assert result.table is not None
        result.table.to_parquet(out)
    written = time.perf_counter()
    phases = {"connect_s": connected - imported, "boundaries_s": checked - connected}
    if in_one:
        phases["assign_and_write_s"] = written - checked
    else:
        phases |= {"assign_s": assigned - checked, "write_s": written - assigned}
    return {
        "imported": imported,
        "rows": result.rows,
        "stored_by": "assign_areas(write=...)" if in_one else "result.table.to_parquet",
        "phases": phases,
        "counts": dict(result.counts),
        "per_area": {a: n for a, n in result.per_area.items() if n},
        "polygons": len(boundaries),
        "boundary_problems": [p.message for p in boundaries.problems],
    }


def run_geopandas(parquet: Path, polygons: Path, out: Path) -> dict[str, Any]:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    imported = time.perf_counter()
    coords = pq.read_table(parquet, columns=["latitude", "longitude"])
    lat = coords.column("latitude").to_numpy().astype("float64")
    lon = coords.column("longitude").to_numpy().astype("float64")
    del coords
    read = time.perf_counter()
    areas = gpd.read_file(polygons, engine="pyogrio")[["area_id", "geometry"]].rename(columns={"area_id": COLUMN})
    west, south, east, north = (float(v) for v in areas.total_bounds)

    # ridp's rules (the module text), so that every count can be compared.
    def inside(x: Any, y: Any) -> Any:
        return (x >= west) & (x <= east) & (y >= south) & (y <= north)

    missing = np.isnan(lat) | np.isnan(lon)
    zero = ~missing & (lat == 0) & (lon == 0)
    candidate = ~missing & ~zero & inside(lon, lat)
    swapped = ~missing & ~zero & ~candidate & inside(lat, lon)
    invalid = ~missing & ~zero & ~candidate & ~swapped & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    x, y = np.where(swapped, lat, lon), np.where(swapped, lon, lat)
    ruled = time.perf_counter()

    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=areas.crs)
    pointed = time.perf_counter()
    joined = gpd.sjoin(points, areas, predicate="within", how="left")
    joined_at = time.perf_counter()
    doubled = int(joined.index.duplicated().sum())  # a point in two polygons' interiors: none in a tiling
    ids = joined[COLUMN][~joined.index.duplicated()].reindex(pd.RangeIndex(len(points)))
    pq.write_table(pa.table({COLUMN: pa.array(ids, pa.string(), from_pandas=True)}), out)
    written = time.perf_counter()

    found = ids.notna().to_numpy()
    per_area = {str(k): int(v) for k, v in ids.value_counts().items()}
    looked_up = candidate | swapped
    counts = {
        "assigned": int((candidate & found).sum()),
        "swapped": int((swapped & found).sum()),
        "missing": int(missing.sum()),
        "zero": int(zero.sum()),
        "invalid": int(invalid.sum()),
        "outside": int((looked_up & ~found).sum() + (~missing & ~zero & ~looked_up & ~invalid).sum()),
    }
    return {
        "imported": imported,
        "rows": len(lat),
        "phases": {
            "read_s": read - imported,
            "rules_s": ruled - read,
            "points_s": pointed - ruled,
            "sjoin_s": joined_at - pointed,
            "write_s": written - joined_at,
        },
        "counts": counts,
        "per_area": per_area,
        "polygons": len(areas),
        "in_two_polygons": doubled,
    }


RUNNERS: dict[str, Callable[[Path, Path, Path], dict[str, Any]]] = {"ridp": run_ridp, "geopandas": run_geopandas}


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in RUNNERS:
        print(f"usage: _places.py {{{','.join(RUNNERS)}}} PARQUET GEOJSON OUT", file=sys.stderr)
        return 2
    start = time.perf_counter()
    facts = RUNNERS[argv[0]](Path(argv[1]), Path(argv[2]), Path(argv[3]))
    done = time.perf_counter()
    imported = facts.pop("imported")
    print(json.dumps({"import_s": imported - start, "work_s": done - imported, **facts}, default=str))
    return 0


# --- the part, run from analysis.py -----------------------------------------------------------------------------

#: Reads a written file back (rows, columns, rows per id): ``python -c VERIFY PARQUET COLUMN``.
VERIFY = """\
import json, sys
import duckdb
path, column = sys.argv[1].replace("'", "''"), sys.argv[2].replace('"', '""')
con = duckdb.connect()
source = f"read_parquet('{path}')"
rows = con.sql(f"SELECT count(*) FROM {source}").fetchone()[0]
columns = con.sql(f"SELECT * FROM {source} LIMIT 0").columns
per_area = dict(con.sql(f'SELECT "{column}", count(*) FROM {source} WHERE "{column}" IS NOT NULL GROUP BY 1').fetchall())
print(json.dumps({"rows": rows, "columns": columns, "per_area": per_area}))
"""


def verify(out: Path) -> dict[str, Any]:
    """What the written file holds (read in a child: this process stays small)."""
    return run_child(VERIFY, str(out), COLUMN, what=f"reading {out.name} back")


def compare(facts: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """How one contender's counts differ from another's (per area, then per status); [] when they agree."""
    mine, theirs = facts["per_area"], reference["per_area"]
    differences = [
        f"{area}: {mine.get(area, 0):,} vs {theirs.get(area, 0):,}"
        for area in sorted(set(mine) | set(theirs))
        if mine.get(area, 0) != theirs.get(area, 0)
    ]
    differences += [
        f"{status} rows: {facts['counts'].get(status, 0):,} vs {reference['counts'].get(status, 0):,}"
        for status in STATUSES
        if facts["counts"].get(status, 0) != reference["counts"].get(status, 0)
    ]
    return differences


def check(c: PlaceContender, run: Run, out: Path, rows: int) -> str | None:
    """Why this run failed, or None: its own report, then the file it wrote, then its earlier runs."""
    if not run.ok:
        return describe_exit(run.exit_code)
    if "per_area" not in run.extra or "counts" not in run.extra:
        return "it printed no result line"
    if int(run.extra["rows"]) != rows or sum(run.extra["counts"].values()) != rows:
        return f"it reported {run.extra['rows']:,} rows ({sum(run.extra['counts'].values()):,} counted), not {rows:,}"
    if not out.is_file():
        return f"it wrote no {out.name}"
    try:
        stored = verify(out)
    except BenchError as exc:
        return str(exc)
    run.extra["stored"] = {"rows": stored["rows"], "columns": len(stored["columns"]), "bytes": out.stat().st_size}
    if stored["rows"] != rows:
        return f"its file holds {stored['rows']:,} rows, not {rows:,}"
    if stored["per_area"] != run.extra["per_area"]:
        return "its file's rows per area differ from what it reported"
    if c.measured and (differences := compare(run.extra, c.facts)):
        return f"its counts differ from its own earlier run: {'; '.join(differences[:5])}"
    return None


def run_places(
    contenders: Sequence[PlaceContender],
    parquet: Path,
    neighbourhoods: Path,
    rows: int,
    repeat: int,
    scratch: Path,
) -> PlacesPart:
    """Write the polygons to ``scratch`` and run each contender ``repeat`` times, interleaved, each a fresh process.

    Every run's file is read back and checked (:func:`check`), then removed.
    Nothing runs when ``contenders`` is empty.
    """
    if not contenders:
        return PlacesPart(contenders, None, 0)
    polygons = write_polygons(neighbourhoods, scratch)
    for k in range(repeat):
        for c in contenders:
            if c.skipped:
                continue
            home = Path(tempfile.mkdtemp(prefix="ridp-home-", dir=scratch))  # a fresh, empty workspace
            out = scratch / f"{c.spec.key}-{k}.parquet"
            try:
                run = measure(
                    [sys.executable, str(SCRIPT), _RUNNER_NAME[c.spec.key], str(parquet), str(polygons), str(out)],
                    env=ridp_env(home),
                    cwd=scratch,
                )
                if run.ok:
                    try:
                        run.extra = json.loads(run.stdout.strip().splitlines()[-1])
                    except (IndexError, json.JSONDecodeError):
                        run.extra = {}
                c.record(c.spec.key, k, repeat, run, check(c, run, out, rows))
            finally:
                shutil.rmtree(home, ignore_errors=True)
                out.unlink(missing_ok=True)
    return PlacesPart(contenders, polygons.name, polygon_count(polygons))


@dataclass
class PlacesPart:
    """The part's contenders once they ran, with the polygons they ran on."""

    contenders: Sequence[PlaceContender]
    polygons_file: str | None
    polygons: int

    @property
    def agrees(self) -> dict[str, list[str] | None]:
        return agreement(self.contenders)

    @property
    def goals(self) -> dict[str, Any]:
        return goals(self.contenders)

    @property
    def mismatch(self) -> bool:
        return any(self.agrees.values())

    def report(self, rows: int, repeat: int) -> None:
        report(self.contenders, self.goals, self.agrees, rows, self.polygons, repeat)

    def payload(self) -> dict[str, Any]:
        return payload(self.contenders, self.goals, self.agrees, self.polygons_file, self.polygons)


def agreement(contenders: Sequence[PlaceContender]) -> dict[str, list[str] | None]:
    """Per measured contender but the reference: how its counts differ from geopandas' (None: not checkable)."""
    by_key = {c.spec.key: c for c in contenders}
    reference = by_key.get(REFERENCE)
    checkable = reference is not None and reference.measured
    return {
        c.spec.key: (compare(c.facts, reference.facts) if checkable and reference is not None else None)
        for c in contenders
        if c.measured and c.spec.key != REFERENCE
    }


def goals(contenders: Sequence[PlaceContender]) -> dict[str, Any]:
    """The goal lines (one is left out when a contender it needs was not measured)."""
    by_key = {c.spec.key: c for c in contenders if c.measured}
    ridp, reference = by_key.get("ridp-places"), by_key.get(REFERENCE)
    found: dict[str, Any] = {}
    if ridp is None:
        return found
    if reference is not None:
        speedup = reference.median_wall_s / ridp.median_wall_s
        found["places_speedup"] = {
            "line": "geopandas ÷ ridp (places: point-in-polygon assignment, stored)",
            "value": speedup,
            "goal": f">= {GOAL_SPEEDUP:g}",
            "pass": speedup >= GOAL_SPEEDUP,
        }
    found["places_peak_rss"] = {
        "line": "ridp peak RSS (places, GB)",
        "value": ridp.peak_rss_gb,
        "goal": f"<= {GOAL_PEAK_GB:g} GB",
        "pass": ridp.peak_rss_gb <= GOAL_PEAK_GB,
    }
    return found


def _phases(c: PlaceContender) -> str:
    """The child's own split of its work: the median of each step over the runs."""
    phases = c.extra("phases")
    if not phases:
        return ""
    return ", ".join(f"{name[:-2]} {median([p[name] for p in phases]):.2f}" for name in phases[0])


def report(
    contenders: Sequence[PlaceContender],
    found: dict[str, Any],
    agrees: dict[str, list[str] | None],
    rows: int,
    polygons: int,
    repeat: int,
) -> None:
    by_key = {c.spec.key: c for c in contenders}
    ridp = by_key.get("ridp-places")
    print()
    print(
        f"analysis benchmark, places: {rows:,} requests assigned to {polygons} polygons and stored, "
        f"median of {repeat} fresh process(es) each"
    )
    header = ("contender", "median s", "min-max s", "work s", "peak RSS GB", "placed", "per area", "ridp/this")
    lines: list[Sequence[str]] = [header]
    notes: dict[int, str] = {}
    for c in contenders:
        label = c.spec.label + (f" ({c.failed}/{len(c.runs)} runs FAILED)" if c.failed else "")
        if c.skipped or not c.measured:
            notes[len(lines)] = c.skipped or "FAILED in every run"
            lines.append((label, *[""] * (len(header) - 1)))
            continue
        walls = [r.wall_s for r in c.ok_runs]
        counts = c.facts["counts"]
        differences = agrees.get(c.spec.key)
        cell = (
            "reference"
            if c.spec.key == REFERENCE
            else "DIFFERS"
            if differences
            else "same"
            if differences == []
            else "not checked"
        )
        vs = (
            fmt_ratio(ridp.median_wall_s / c.median_wall_s)
            if ridp is not None and ridp.measured and c is not ridp
            else "-"
        )
        lines.append(
            (
                label,
                f"{c.median_wall_s:.2f}",
                f"{min(walls):.2f}-{max(walls):.2f}",
                f"{median(c.extra('work_s')):.2f}",
                f"{c.peak_rss_gb:.2f}",
                f"{counts.get('assigned', 0) + counts.get('swapped', 0):,}",
                cell,
                vs,
            )
        )
    print(aligned(lines, notes))
    print("placed: rows in a polygon (swapped coordinates included); per area: rows per polygon against geopandas'.")
    for c in contenders:
        if c.measured:
            print(f"{c.spec.label}, seconds per step (median): {_phases(c)}")
    if ridp is not None and ridp.measured:
        stored = ridp.facts.get("stored", {})
        print(
            f"ridp stored {stored.get('columns', '?')} columns (the input's and {COLUMN}) with "
            f"{ridp.facts.get('stored_by', '?')}; geopandas only {COLUMN}."
        )
    for key, differences in agrees.items():
        if differences:
            print("!" * 100)
            print(f"PLACES MISMATCH: {key}'s counts DIFFER from geopandas' ({len(differences)} difference(s)):")
            for line in differences[:20]:
                print(f"  {line}")
            print("!" * 100)
        elif differences is None:
            print(f"{key}: counts not checked (geopandas was not measured)")
    if ridp is not None and ridp.measured and (reference := by_key.get(REFERENCE)) and reference.measured:
        speedup = reference.median_wall_s / ridp.median_wall_s
        plain = f"ridp {speedup:.2f}x faster" if speedup >= 1 else f"ridp {1 / speedup:.2f}x slower"
        print(
            f"places row: ridp {ridp.median_wall_s:.2f} s / {ridp.peak_rss_gb:.2f} GB, geopandas "
            f"{reference.median_wall_s:.2f} s / {reference.peak_rss_gb:.2f} GB, geopandas ÷ ridp {speedup:.2f}x "
            f"({plain})"
        )
    for name, g in found.items():
        value = f"{g['value']:.2f} GB" if name.endswith("peak_rss") else fmt_ratio(g["value"])
        print(f"goal {g['line']} {g['goal']}: {value} -> {verdict(bool(g['pass']))}")


def payload(
    contenders: Sequence[PlaceContender],
    found: dict[str, Any],
    agrees: dict[str, list[str] | None],
    polygons: str | None,
    count: int,
) -> dict[str, Any]:
    """The places part of ``analysis-<rows>.json``, every run included."""
    return {
        "polygons": {"count": count, "strips_per_neighbourhood": STRIPS, "file": polygons},
        "goals": found,
        "count_differences_from_geopandas": agrees,
        "contenders": {
            c.spec.key: {
                "label": c.spec.label,
                "skipped": c.skipped,
                "failed_runs": c.failed,
                "median_wall_s": c.median_wall_s if c.measured else None,
                "peak_rss_gb": c.peak_rss_gb if c.measured else None,
                "runs": [
                    {
                        "wall_s": r.wall_s,
                        "peak_rss_kib": r.peak_rss_kib,
                        "tree_rss_kib": r.tree_rss_kib,
                        "exit_code": r.exit_code,
                        "failure": failure,
                        "child": r.extra,
                        "wrapper": r.wrapper,
                        "stderr": r.stderr[-4000:] if failure else None,
                    }
                    for r, failure in zip(c.runs, c.failures, strict=True)
                ],
            }
            for c in contenders
        },
    }


def polygon_count(path: Path) -> int:
    return len(json.loads(path.read_text())["features"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
