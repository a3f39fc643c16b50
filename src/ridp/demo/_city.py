"""The seeded, size-independent part of the demo city: areas and people.

The city is a jittered ``GRID_ROWS x GRID_COLUMNS`` grid of convex
quadrilaterals.  Neighbouring cells share their vertices, so the polygons tile
the bounding box without gaps or overlaps.  Everything here depends on the seed
only, never on the number of rows, so one seed always gives the same city.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ridp.demo import _catalog as cat

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Interior vertices move by at most this fraction of a cell in x and y.
#: Below 1/(3*sqrt(2)) ~ 0.2357 every cell provably stays convex.
_JITTER = 0.15
#: Sampled points are pulled towards their cell's centroid by this factor so
#: that rounding to 6 decimals never pushes a point across an edge.
SHRINK = 0.995


@dataclass(frozen=True)
class Areas:
    """Neighbourhood geometry and planted per-area parameters.

    Attributes
    ----------
    area_ids, names : list of str
        ``"N01"``... and human-readable names, in grid order (row-major from
        the south-west corner).
    quads : ndarray, shape (n, 4, 2)
        Counter-clockwise (lon, lat) corners of each cell, rounded to 1e-6.
    population : ndarray of int64
        Residents per area (the ACS estimate used to drive volume).
    rate_multiplier : ndarray of float64
        Planted per-capita request-rate multiplier (hot spots are high).
    closure_multiplier : ndarray of float64
        Planted multiplier of days-to-close.
    hot_spot_ids, slow_ids, fast_ids : list of str
        Planted area ids.
    population_table : list of dict
        Rows of ``population.csv``.
    """

    area_ids: list[str]
    names: list[str]
    quads: FloatArray
    population: IntArray
    rate_multiplier: FloatArray
    closure_multiplier: FloatArray
    hot_spot_ids: list[str]
    slow_ids: list[str]
    fast_ids: list[str]
    population_table: list[dict[str, Any]]

    @property
    def count(self) -> int:
        """Number of areas."""
        return len(self.area_ids)


def _grid_vertices(rng: np.random.Generator) -> FloatArray:
    """Jittered grid vertices, shape ``(GRID_ROWS + 1, GRID_COLUMNS + 1, 2)``."""
    rows, cols = cat.GRID_ROWS, cat.GRID_COLUMNS
    jx = rng.uniform(-_JITTER, _JITTER, size=(rows + 1, cols + 1))
    jy = rng.uniform(-_JITTER, _JITTER, size=(rows + 1, cols + 1))
    # Keep the outer boundary on the bounding box: vertices on a vertical
    # edge only slide vertically, those on a horizontal edge horizontally.
    jx[:, 0] = jx[:, -1] = 0.0
    jy[0, :] = jy[-1, :] = 0.0
    gx = np.arange(cols + 1, dtype=np.float64)[None, :] + jx
    gy = np.arange(rows + 1, dtype=np.float64)[:, None] + jy
    min_lon, min_lat, max_lon, max_lat = cat.BBOX
    lon = min_lon + gx * (max_lon - min_lon) / cols
    lat = min_lat + gy * (max_lat - min_lat) / rows
    return np.asarray(np.round(np.stack([lon, lat], axis=-1), 6), dtype=np.float64)


def _quads(vertices: FloatArray) -> FloatArray:
    """Counter-clockwise quadrilaterals from a vertex grid, row-major."""
    v = vertices
    sw = v[:-1, :-1]
    se = v[:-1, 1:]
    ne = v[1:, 1:]
    nw = v[1:, :-1]
    return np.stack([sw, se, ne, nw], axis=2).reshape(-1, 4, 2)


def _uniform(rng: np.random.Generator, bounds: tuple[float, float], n: int) -> FloatArray:
    return np.asarray(rng.uniform(bounds[0], bounds[1], size=n), dtype=np.float64)


def _round_to(values: FloatArray, step: float) -> FloatArray:
    return np.round(values / step) * step


def build_areas(seed: int) -> Areas:
    """Build the areas (geometry, population and planted parameters).

    Parameters
    ----------
    seed : int
        Random seed; the city depends on nothing else.

    Returns
    -------
    Areas
        The neighbourhoods of the city.
    """
    rng = np.random.default_rng([seed, 0])
    quads = _quads(_grid_vertices(rng))
    n = quads.shape[0]
    names = list(cat.NEIGHBOURHOOD_NAMES[:n])
    order = rng.permutation(n)
    names = [names[i] for i in order]
    area_ids = [f"N{i + 1:02d}" for i in range(n)]

    # Population and demographics, driven by a latent deprivation score z.
    population = np.clip(rng.lognormal(np.log(16_000), 0.45, n), 3_000, 45_000)
    population = _round_to(population, 10.0).astype(np.int64)
    z = rng.normal(0.0, 1.0, n)
    hh_size = rng.uniform(2.0, 2.9, n)
    households = np.round(population / hh_size).astype(np.int64)
    income = _round_to(78_000 * np.exp(-0.35 * z + rng.normal(0, 0.08, n)), 10.0)
    pct_poverty = np.round(np.clip(14 + 7 * z + rng.normal(0, 2, n), 2, 48), 1)
    pct_nonwhite = np.round(np.clip(45 + 16 * z + rng.normal(0, 8, n), 5, 96), 1)

    # Closure multipliers: slow areas among the ten poorest, fast among the
    # ten richest (a planted equity gap), everyone else close to 1.
    by_poverty = np.argsort(-pct_poverty, kind="stable")
    slow = np.sort(rng.choice(by_poverty[:10], cat.SLOW_AREA_COUNT, replace=False))
    fast = np.sort(rng.choice(by_poverty[-10:], cat.FAST_AREA_COUNT, replace=False))
    closure = _uniform(rng, cat.NORMAL_MULTIPLIER_RANGE, n)
    closure[slow] = _uniform(rng, cat.SLOW_MULTIPLIER_RANGE, slow.size)
    closure[fast] = _uniform(rng, cat.FAST_MULTIPLIER_RANGE, fast.size)
    closure = np.round(closure, 4)

    # Hot spots: an L of three adjacent cells (east and north neighbours).
    r0 = int(rng.integers(0, cat.GRID_ROWS - 1))
    c0 = int(rng.integers(0, cat.GRID_COLUMNS - 1))
    hot = np.array(
        [r0 * cat.GRID_COLUMNS + c0, r0 * cat.GRID_COLUMNS + c0 + 1, (r0 + 1) * cat.GRID_COLUMNS + c0][
            : cat.HOT_SPOT_COUNT
        ]
    )
    rate = np.round(_uniform(rng, cat.BASE_RATE_MULTIPLIER_RANGE, n), 4)
    rate[hot] = cat.HOT_SPOT_RATE_MULTIPLIER

    table: list[dict[str, Any]] = []
    for i in range(n):
        table.append(
            {
                "area_id": area_ids[i],
                "name": names[i],
                "population": int(population[i]),
                "population_moe": round(population[i] * rng.uniform(0.05, 0.13)),
                "households": int(households[i]),
                "households_moe": round(households[i] * rng.uniform(0.06, 0.15)),
                "median_household_income": int(income[i]),
                "median_household_income_moe": int(_round_to(np.array([income[i] * rng.uniform(0.08, 0.2)]), 10.0)[0]),
                "pct_nonwhite": float(pct_nonwhite[i]),
                "pct_nonwhite_moe": round(float(pct_nonwhite[i] * rng.uniform(0.06, 0.14) + 1.0), 1),
                "pct_poverty": float(pct_poverty[i]),
                "pct_poverty_moe": round(float(pct_poverty[i] * rng.uniform(0.15, 0.35) + 0.5), 1),
            }
        )
    return Areas(
        area_ids=area_ids,
        names=names,
        quads=quads,
        population=population,
        rate_multiplier=rate,
        closure_multiplier=closure,
        hot_spot_ids=[area_ids[i] for i in hot],
        slow_ids=[area_ids[i] for i in slow],
        fast_ids=[area_ids[i] for i in fast],
        population_table=table,
    )


def geojson_text(areas: Areas) -> str:
    """Serialise the areas as a GeoJSON FeatureCollection (RFC 7946).

    Parameters
    ----------
    areas : Areas
        The neighbourhoods.

    Returns
    -------
    str
        Deterministic JSON text; rings are closed and counter-clockwise.
    """
    features = []
    for i in range(areas.count):
        ring = [[float(x), float(y)] for x, y in areas.quads[i]]
        ring.append(ring[0])
        features.append(
            {
                "type": "Feature",
                "id": areas.area_ids[i],
                "properties": {"area_id": areas.area_ids[i], "name": areas.names[i]},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    doc = {"type": "FeatureCollection", "name": "neighbourhoods", "features": features}
    return json.dumps(doc, indent=1) + "\n"


def triangle_tables(quads: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-area triangulation used to sample points uniformly in a cell.

    Parameters
    ----------
    quads : ndarray, shape (n, 4, 2)
        Convex, counter-clockwise quadrilaterals.

    Returns
    -------
    first_share : ndarray, shape (n,)
        Share of the area of triangle ``(v0, v1, v2)`` in the quadrilateral.
    triangles : ndarray, shape (n, 2, 3, 2)
        Triangles ``(v0, v1, v2)`` and ``(v0, v2, v3)`` of each cell.
    centroids : ndarray, shape (n, 2)
        Area centroid of each cell.
    """
    v0, v1, v2, v3 = (quads[:, k] for k in range(4))
    t1 = np.stack([v0, v1, v2], axis=1)
    t2 = np.stack([v0, v2, v3], axis=1)

    def _area(t: FloatArray) -> FloatArray:
        a, b, c = t[:, 0], t[:, 1], t[:, 2]
        cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
        return np.asarray(0.5 * cross, dtype=np.float64)

    a1, a2 = _area(t1), _area(t2)
    for k in range(4):  # every corner must turn left: the cell is convex
        corner = np.stack([quads[:, k], quads[:, (k + 1) % 4], quads[:, (k + 2) % 4]], 1)
        if np.any(_area(corner) <= 0):  # pragma: no cover - guarded by _JITTER
            raise RuntimeError("demo city grid produced a non-convex cell")
    c1, c2 = t1.mean(axis=1), t2.mean(axis=1)
    centroids = (c1 * a1[:, None] + c2 * a2[:, None]) / (a1 + a2)[:, None]
    return a1 / (a1 + a2), np.stack([t1, t2], axis=1), centroids
