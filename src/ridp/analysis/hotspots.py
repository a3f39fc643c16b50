"""Hot spots: where requests cluster among neighbouring areas, by Getis-Ord Gi* (PROGRAM.md §6, places).

``ridp.analysis.hotspots.hot_spots(table, area="area_id", boundaries=b, population=people)`` counts the
requests of each area on the engine (one Ibis group-by on the area-id column), turns the counts into a rate
(requests per 1,000 residents when populations are given, else requests per km²), and asks of every area:
is the rate of this area *and its neighbours* higher (a hot spot) or lower (a cold spot) than chance would
place there?

How the answer is reached
-------------------------
* **Neighbours** come from the polygons: libpysal's ``Queen`` (areas sharing at least one boundary point)
  or ``Rook`` (areas sharing an edge) contiguity, read from shared vertices, with the area ids kept. The
  weights are binary and every area is its own neighbour (Gi*, ``esda.G_Local(..., star=True)``).
* **z** is esda's ``Zs``: the Gi* statistic standardised with its expectation and variance under
  normality (Getis & Ord 1992; Ord & Getis 1995).
* **p** is two-sided. By default (``inference="normal"``, the convention of Getis & Ord and of ArcGIS's
  Hot Spot Analysis) it comes from the normal distribution of z (twice esda's ``p_norm``). With
  ``inference="permutation"`` it comes from esda's conditional permutations (the area's own value held, the others shuffled; ``permutations`` draws, seeded): twice
  the smaller tail share of the permuted Gi* values at or beyond the observed one,
  ``(k + 1) / (permutations + 1)``, at most 1. esda's own ``p_sim`` is one-sided and folds ties wrongly
  when few distinct draws exist (five boroughs, say: an area whose Gi* is the smallest possible gets
  0.001); counting both tails from its draws avoids that.

  The two differ most for a small cluster among few areas. The permutation p of an area whose
  neighbourhood holds the city's few high values is about the chance that a random neighbourhood draws
  those same values: with 3 high areas of 40 and 8 neighbours that is a few per cent however many
  requests there are, so no such area passes a correction over 40 tests. The normal p follows z, which
  grows with the contrast (z ≈ 3.2 for three areas at twice the rate among 40). ``summary()`` says which
  was used.
* **The correction for testing every area** is stated in the result: Benjamini-Hochberg false-discovery
  rate over the areas tested (default), Bonferroni (family-wise), or none; both through statsmodels'
  ``multipletests``. An area is *hot* when its corrected p is at most ``alpha`` and z > 0, *cold* when z < 0,
  else *not significant*.
* **Islands** (areas that touch no other area) are kept in the data, so they count in the city's mean and
  spread as esda counts them, and esda's z for them is their own value standardised (their only neighbour
  is themselves). No permutation can test them (there is nothing to shuffle; esda gives every island the
  smallest p), so they get no p, are left out of the correction, and are classed *no neighbours*.
* Areas without a population (when populations are given) are left out of the statistic and classed
  *no data*; requests with no area id, or an id the boundaries do not hold, are counted and shown.

Part of the analytical core: Ibis for the count, then numpy/esda on the per-area table; never Django.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ridp.analysis._values import plain as _plain
from ridp.analysis.boundaries import Boundaries, _id_text
from ridp.analysis.service import LeftOut
from ridp.errors import FieldError

__all__ = ["CLASSES", "COLUMNS", "CORRECTIONS", "HotSpots", "hot_spots"]

Correction = Literal["fdr", "bonferroni", "none"]
Contiguity = Literal["queen", "rook"]
Inference = Literal["permutation", "normal"]
CORRECTIONS: Final[tuple[str, ...]] = ("fdr", "bonferroni", "none")
INFERENCES: Final[tuple[str, ...]] = ("permutation", "normal")
#: The class of each area, in the order a map legend shows them.
CLASSES: Final[tuple[str, ...]] = ("hot", "cold", "not significant", "no neighbours", "no data")
EXAMPLES: Final = 5
MIN_AREAS: Final = 3
MIN_PERMUTATIONS: Final = 99
MAX_PERMUTATIONS: Final = 99_999
PER_RESIDENTS: Final = 1000.0

#: The columns of :meth:`HotSpots.to_pandas`, and what each holds.
COLUMNS: Final[dict[str, str]] = {
    "area_id": "the area's id in the boundaries",
    "name": "the area's name",
    "requests": "requests whose area id is this area's",
    "residents": "people living in the area (empty when no population was given or known)",
    "area_km2": "the area's size in km² (geodesic)",
    "rate": "requests per 1,000 residents, or per km² when no population is given (see rate_unit)",
    "ratio_to_city": "the area's rate divided by the city's (all requests over all residents or km² analysed)",
    "neighbours": "areas that touch this one under the contiguity used (itself not counted)",
    "z": "Gi* z-score (esda Zs): above 0, the area and its neighbours have more than the city's share",
    "p": "two-sided p-value, from permutations or the normal approximation (empty for areas without neighbours)",
    "p_corrected": "p after the correction for testing every area (Benjamini-Hochberg or Bonferroni)",
    "class": "hot, cold, not significant, no neighbours (an island: not tested) or no data",
}
_CORRECTION_TEXT: Final = {
    "fdr": "Benjamini-Hochberg false-discovery rate",
    "bonferroni": "Bonferroni family-wise error rate",
    "none": "no correction for testing every area",
}


#: The fields of :class:`HotSpots` that are plain JSON values.
_SCALARS: Final = (
    "area", "areas_name", "rate_unit", "weights", "correction", "alpha", "inference", "permutations", "seed",
    "rows_read", "rows_analysed", "city_rate", "components", "method",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class HotSpots:
    """Gi* hot and cold spots per area, with the method, the correction and what was left out.

    ``to_pandas()`` gives one row per area of the boundaries (:data:`COLUMNS`); ``hot`` and ``cold`` the
    ids; ``summary()`` the plain-language findings; ``map()`` a choropleth; ``to_dict()`` JSON.
    """

    area: str
    areas_name: str
    rate_unit: str
    weights: Contiguity
    correction: Correction
    alpha: float
    inference: Inference
    permutations: int
    seed: int
    rows_read: int
    rows_analysed: int
    city_rate: float
    islands: tuple[str, ...]
    components: int
    left_out: tuple[LeftOut, ...]
    notes: tuple[str, ...]
    method: str
    _frame: pd.DataFrame
    _boundaries: Boundaries | None = field(default=None, repr=False)

    def to_pandas(self) -> pd.DataFrame:
        """One row per area (a copy: the result itself never changes)."""
        return self._frame.copy()

    def __len__(self) -> int:
        return len(self._frame)

    @property
    def hot(self) -> tuple[str, ...]:
        """Ids of the hot spots, the strongest (highest z) first."""
        return self._ids("hot", ascending=False)

    @property
    def cold(self) -> tuple[str, ...]:
        """Ids of the cold spots, the strongest (lowest z) first."""
        return self._ids("cold", ascending=True)

    @property
    def tested(self) -> int:
        """How many areas were tested (and corrected over): those with data and neighbours."""
        return int(self._frame["p"].notna().sum())

    def _ids(self, kind: str, *, ascending: bool) -> tuple[str, ...]:
        rows = self._frame[self._frame["class"] == kind].sort_values("z", ascending=ascending, kind="stable")
        return tuple(str(a) for a in rows["area_id"])

    def row(self, area_id: str) -> dict[str, Any]:
        """The row of one area, as plain Python values."""
        found = self._frame[self._frame["area_id"] == area_id]
        if len(found) != 1:
            raise KeyError(f"{area_id!r} is not an area of {self.areas_name}")
        return {str(k): _plain(v) for k, v in found.iloc[0].items()}

    @property
    def level(self) -> str:
        """The significance level in words: "a 5% false-discovery rate"."""
        pct = f"{100 * self.alpha:g}%"
        if self.correction == "fdr":
            return f"a {pct} false-discovery rate"
        if self.correction == "bonferroni":
            return f"a {pct} family-wise level (Bonferroni over {self.tested} areas)"
        return f"p ≤ {self.alpha:g} (no correction for testing every area)"

    def describe(self, area_id: str) -> str:
        """One area in words: ``N07 Harbour (z = 4.1, 2.0× the city rate, 812 requests, 41,000 residents)``."""
        r = self.row(area_id)
        label = r["area_id"] if r["name"] in (None, "", r["area_id"]) else f"{r['area_id']} {r['name']}"
        parts = []
        if r["z"] is not None:
            parts.append(f"z = {r['z']:.1f}")
        if r["ratio_to_city"] is not None:
            parts.append(f"{r['ratio_to_city']:.1f}× the city rate")
        parts.append(f"{r['requests']:,} requests")
        if r["residents"] is not None:
            parts.append(f"{r['residents']:,.0f} residents")
        return f"{label} ({', '.join(parts)})"

    def summary(self) -> str:
        lines = [
            f"Hot spots of {self.rate_unit} across {len(self)} areas of {self.areas_name} (by {self.area!r}): "
            f"{self.rows_analysed:,} of {self.rows_read:,} requests analysed; the city rate is "
            f"{self.city_rate:,.2f} {self.rate_unit}."
        ]
        for kind, word in (("hot", "hot spot"), ("cold", "cold spot")):
            ids = self.hot if kind == "hot" else self.cold
            if ids:
                shown = "; ".join(self.describe(a) for a in ids[:EXAMPLES])
                more = f"; and {len(ids) - EXAMPLES} more" if len(ids) > EXAMPLES else ""
                lines.append(f"{len(ids)} {word}{'s' if len(ids) != 1 else ''} at {self.level}: {shown}{more}.")
            else:
                lines.append(f"No {word} at {self.level} among the {self.tested} areas tested.")
        if self.islands:
            lines.append(
                f"{len(self.islands)} area(s) touch no other area and were not tested: {', '.join(self.islands[:EXAMPLES])}"
                + (" …" if len(self.islands) > EXAMPLES else "")
                + "."
            )
        for item in self.left_out:
            lines.append(
                f"Left out: {item.count:,} {item.reason}"
                + (f" (e.g. {', '.join(item.examples)})" if item.examples else "")
            )
        lines += [f"Note: {n}" for n in self.notes]
        lines.append(self.method)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        records = [{k: _plain(v) for k, v in row.items()} for row in self._frame.to_dict(orient="records")]
        return {
            "kind": "hot_spots",
            **{k: getattr(self, k) for k in _SCALARS},
            "islands": list(self.islands),
            "left_out": [x.to_dict() for x in self.left_out],
            "notes": list(self.notes),
            "columns": list(self._frame.columns),
            "rows": records,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HotSpots:
        """The result read back from :meth:`to_dict` (without the polygons: give them to :meth:`map`)."""
        return cls(
            **{k: data[k] for k in _SCALARS},
            islands=tuple(str(a) for a in data["islands"]),
            left_out=tuple(LeftOut(x["reason"], int(x["count"]), tuple(x["examples"])) for x in data["left_out"]),
            notes=tuple(str(n) for n in data["notes"]),
            _frame=pd.DataFrame(list(data["rows"]), columns=list(data["columns"])),
        )

    def map(self, boundaries: Boundaries | None = None, *, show: str = "class") -> Any:
        """A choropleth of the result (Altair): ``class`` (hot / cold / not significant, the default), ``z``
        (diverging, centred on 0), ``rate`` or ``ratio_to_city`` (diverging, centred on 1).

        The polygons are those the analysis used; a result read back from JSON needs ``boundaries``.
        """
        from ridp.analysis.maps import choropleth, hot_spot_map

        areas = boundaries if boundaries is not None else self._boundaries
        if areas is None:
            raise FieldError("boundaries", "give the boundaries: a result read back from JSON holds no polygons")
        if show == "class":
            return hot_spot_map(self, areas)
        if show not in ("z", "rate", "ratio_to_city"):
            raise FieldError("show", f"{show!r} is class, z, rate or ratio_to_city")
        frame = self._frame.rename(columns={show: "value"})[["area_id", "value", "requests", "residents"]]
        frame = frame[frame["value"].notna()]
        if frame["residents"].isna().all():
            frame = frame.drop(columns="residents")
        titles = {"z": "Gi* z-score", "rate": self.rate_unit.capitalize(), "ratio_to_city": "Rate ÷ city rate"}
        return choropleth(
            areas,
            frame,
            title=f"{titles[show]} by area, {self.areas_name}",
            legend_title=titles[show],
            scheme="viridis" if show == "rate" else "blueorange",
            diverging=show != "rate",
            midpoint=1.0 if show == "ratio_to_city" else 0.0,
            label_format=",.2f",
            description=self.summary().split("\n", 1)[0],
        )


def _check_options(
    weights: str, permutations: int, alpha: float, correction: str, inference: str, seed: int, population: object
) -> None:
    if inference not in INFERENCES:
        raise FieldError("inference", f"{inference!r} is permutation or normal")
    if weights not in ("queen", "rook"):
        raise FieldError("weights", f"{weights!r} is queen (areas touching at a point) or rook (sharing an edge)")
    if correction not in CORRECTIONS:
        raise FieldError("correction", f"{correction!r} is fdr, bonferroni or none")
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)):
        raise FieldError("permutations", f"{permutations!r} is not a whole number")
    if not MIN_PERMUTATIONS <= permutations <= MAX_PERMUTATIONS:
        raise FieldError("permutations", f"{permutations} is not between {MIN_PERMUTATIONS} and {MAX_PERMUTATIONS:,}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha <= 0.5:
        raise FieldError("alpha", f"{alpha!r} is not a level between 0 and 0.5 (0.05 is usual)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise FieldError("seed", f"{seed!r} is not a whole number from 0 to 2³²-1")
    if population is not None and not isinstance(population, Mapping):
        raise FieldError("population", "is a mapping of area id to residents")


def _matcher(ids: tuple[str, ...]) -> tuple[set[str], dict[str, str]]:
    """Exact ids, and ids by their case-folded text when that is still unique."""
    folded: dict[str, list[str]] = {}
    for a in ids:
        folded.setdefault(a.strip().casefold(), []).append(a)
    return set(ids), {k: v[0] for k, v in folded.items() if len(v) == 1}


def _match(value: object, exact: set[str], folded: dict[str, str]) -> tuple[str | None, bool]:
    """(area id or None, whether it matched only when case and spaces were ignored)."""
    key = _id_text(value)
    if key in exact:
        return key, False
    loose = folded.get(key.casefold())
    return loose, loose is not None


def _is_blank(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _count(table: ir.Table, area: str) -> pd.DataFrame:
    """Requests per distinct value of the area column, counted on the engine."""
    grouped = table.group_by(area_value=table[area]).aggregate(requests=table.count())
    frame: pd.DataFrame = grouped.to_pandas()
    frame["requests"] = frame["requests"].astype("int64")
    return frame


def _residents(
    population: Mapping[str, float] | None, ids: tuple[str, ...], notes: list[str]
) -> dict[str, float | None]:
    """Residents per area id (None where unknown or not a positive number)."""
    out: dict[str, float | None] = dict.fromkeys(ids)
    if population is None:
        return out
    exact, folded = _matcher(ids)
    unknown: list[str] = []
    unusable: list[str] = []
    for key, value in population.items():
        if _is_blank(key):
            continue
        area, _ = _match(key, exact, folded)
        if area is None:
            unknown.append(_id_text(key))
            continue
        number = float(value) if isinstance(value, (int, float, np.integer, np.floating)) else math.nan
        if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
            unusable.append(f"{area} ({value!r})")
            continue
        out[area] = number
    if unknown:
        notes.append(
            f"{len(unknown)} population figure(s) name an area the boundaries do not hold, and were not used "
            f"(e.g. {', '.join(unknown[:EXAMPLES])})"
        )
    if unusable:
        notes.append(
            f"{len(unusable)} population figure(s) are not a positive number (e.g. {', '.join(unusable[:EXAMPLES])})"
        )
    return out


def _contiguity(boundaries: Boundaries, ids: list[str], kind: Contiguity) -> Any:
    """libpysal contiguity weights over ``ids`` (in that order), ids kept."""
    from libpysal.weights import Queen, Rook

    geoms = [boundaries.geometry(a) for a in ids]
    build = Queen if kind == "queen" else Rook
    with warnings.catch_warnings():
        # islands and unconnected groups are reported by the result, not warned about
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected", category=UserWarning)
        return build.from_iterable(geoms, ids=ids, id_order=ids, silence_warnings=True)


@dataclass(frozen=True)
class _GiStar:
    z: np.ndarray
    p: np.ndarray  # two-sided permutation p; nan for islands


def _gi_star(values: np.ndarray, w: Any, *, inference: Inference, permutations: int, seed: int) -> _GiStar:
    """esda's Gi* (binary weights, self included) with a two-sided p: from its permutation draws, or normal."""
    from esda.getisord import G_Local

    draws_wanted = permutations if inference == "permutation" else 0

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", message="The alternative hypothesis", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="The weights matrix is not fully connected", category=UserWarning)
        # z_sim of an island divides by a zero spread; ridp does not use z_sim
        warnings.filterwarnings("ignore", message="divide by zero", category=RuntimeWarning)
        warnings.filterwarnings("ignore", message="invalid value", category=RuntimeWarning)
        g = G_Local(values, w, transform="B", permutations=draws_wanted, star=True, keep_simulations=True,
                    n_jobs=1, seed=seed)  # fmt: skip
    islands = np.array([w.cardinalities[a] == 0 for a in w.id_order])
    if inference == "normal":
        p = np.minimum(1.0, 2 * np.asarray(g.p_norm, dtype=float))
        p[islands] = np.nan
        return _GiStar(np.asarray(g.Zs, dtype=float), p)
    observed = np.asarray(g.Gs, dtype=float)[:, None]
    draws = np.asarray(g.rGs, dtype=float)
    # The draws are summed in another order than the observed value: equal values may differ in the last bits.
    tol = 1e-9 * np.abs(observed) + 1e-15
    upper = ((draws >= observed - tol).sum(axis=1) + 1) / (permutations + 1)
    lower = ((draws <= observed + tol).sum(axis=1) + 1) / (permutations + 1)
    p = np.minimum(1.0, 2 * np.minimum(upper, lower))
    p[islands] = np.nan
    return _GiStar(np.asarray(g.Zs, dtype=float), p)


def _correct(p: np.ndarray, alpha: float, correction: Correction) -> tuple[np.ndarray, np.ndarray]:
    """(corrected p, significant) over the tested areas (no nan in ``p``)."""
    if correction == "none" or len(p) == 0:
        return p.copy(), p <= alpha
    from statsmodels.stats.multitest import multipletests

    reject, corrected, _, _ = multipletests(p, alpha=alpha, method="fdr_bh" if correction == "fdr" else "bonferroni")
    return np.asarray(corrected, dtype=float), np.asarray(reject, dtype=bool)


def _examples(counts: Mapping[str, int]) -> tuple[str, ...]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(f"{k} ({v:,})" for k, v in ranked[:EXAMPLES])


def hot_spots(
    table: ir.Table,
    *,
    area: str,
    boundaries: Boundaries,
    population: Mapping[str, float] | None = None,
    weights: Contiguity = "queen",
    permutations: int = 999,
    alpha: float = 0.05,
    correction: Correction = "fdr",
    inference: Inference = "normal",
    seed: int = 0,
) -> HotSpots:
    """Getis-Ord Gi* hot and cold spots of ``table``'s requests over the areas of ``boundaries``.

    Parameters
    ----------
    table
        Any Ibis table (DuckDB, PostgreSQL or Spark), one row per request.
    area
        The column holding each request's area id (as in ``boundaries.ids``; case and surrounding
        spaces are ignored when that still names one area, and the result says so).
    boundaries
        The areas' polygons: contiguity is read from them.
    population
        Residents per area id. Given: the rate is requests per 1,000 residents, and areas without a
        population are left out of the statistic. Not given: requests per km².
    weights
        ``queen`` (areas touching at a point are neighbours) or ``rook`` (sharing an edge).
    permutations
        Conditional permutations for the p-values (99 to 99,999); the smallest two-sided p is
        ``2 / (permutations + 1)``.
    alpha
        The level: an area is hot or cold when its corrected p is at most ``alpha``.
    correction
        ``fdr`` (Benjamini-Hochberg, default), ``bonferroni`` or ``none``, over the areas tested.
    inference
        ``permutation`` (default): p from conditional permutations; ``normal``: p from the normal
        distribution of z (more power for a small cluster among few areas; see the module's notes).
    seed
        Seed of the permutations: the same data and seed give the same p-values on every engine.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> from shapely.geometry import box
    >>> ids = [f"A{i}{j}" for i in range(6) for j in range(6)]
    >>> b = Boundaries.from_records(ids, [box(-71 + .01 * i, 42 + .01 * j, -71 + .01 * (i + 1), 42 + .01 * (j + 1))
    ...                                   for i in range(6) for j in range(6)])
    >>> counts = {a: (30 if a in ("A22", "A23", "A32", "A33") else 8 + k % 5) for k, a in enumerate(ids)}
    >>> t = ibis.memtable(pd.DataFrame({"area": [a for a, n in counts.items() for _ in range(n)]}))
    >>> people = dict.fromkeys(ids, 2000)
    >>> hot_spots(t, area="area", boundaries=b, population=people).hot
    ('A22', 'A23', 'A32', 'A33')
    >>> r = hot_spots(t, area="area", boundaries=b, population=people, inference="permutation")  # too few to permute
    >>> r.hot, r.row("A22")["p"], r.describe("A22")
    ((), 0.004, 'A22 (z = 3.9, 2.4× the city rate, 30 requests, 2,000 residents)')
    """
    _check_options(weights, permutations, alpha, correction, inference, seed, population)
    if area not in table.columns:
        raise FieldError("area", f"{area!r} is not a column of this dataset")
    if not isinstance(boundaries, Boundaries) or len(boundaries) == 0:
        raise FieldError("boundaries", "are needed: the areas' polygons")

    counted = _count(table, area)
    rows_read = int(counted["requests"].sum())
    ids = boundaries.ids
    exact, folded = _matcher(ids)
    requests: dict[str, int] = dict.fromkeys(ids, 0)
    blank = 0
    unknown: dict[str, int] = {}
    loose: dict[str, str] = {}
    for value, n in zip(counted["area_value"], counted["requests"], strict=True):
        if _is_blank(value):
            blank += int(n)
            continue
        match, by_case = _match(value, exact, folded)
        if match is None:
            key = _id_text(value)
            unknown[key] = unknown.get(key, 0) + int(n)
            continue
        requests[match] += int(n)
        if by_case:
            loose[_id_text(value)] = match

    notes: list[str] = []
    if loose:
        shown = ", ".join(f"{k} → {v}" for k, v in sorted(loose.items())[:EXAMPLES])
        notes.append(f"{len(loose)} area value(s) matched an area id only when case and spaces were ignored ({shown})")
    residents = _residents(population, ids, notes)
    km2 = boundaries.areas_km2()
    frame = pd.DataFrame(
        {
            "area_id": list(ids),
            "name": list(boundaries.names),
            "requests": [requests[a] for a in ids],
            "residents": pd.array([residents[a] for a in ids], dtype="Float64").astype(float),
            "area_km2": [km2[a] for a in ids],
        }
    )
    if population is not None:
        rate_unit = "requests per 1,000 residents"
        frame["rate"] = frame["requests"] / frame["residents"] * PER_RESIDENTS
    else:
        rate_unit = "requests per km²"
        frame["rate"] = frame["requests"] / frame["area_km2"]

    left_out: list[LeftOut] = []
    if blank:
        left_out.append(LeftOut(f"requests with no {area!r} (empty): in no area", blank))
    if unknown:
        left_out.append(
            LeftOut(
                f"requests whose {area!r} is none of the {len(ids):,} areas of {boundaries.name}",
                sum(unknown.values()),
                _examples(unknown),
            )
        )
    with_data = frame["rate"].notna()
    if not with_data.all():
        missing = frame[~with_data]
        left_out.append(
            LeftOut(
                f"requests in {len(missing):,} area(s) without a population figure (classed no data)",
                int(missing["requests"].sum()),
                _examples(dict(zip(missing["area_id"], missing["requests"].astype(int), strict=True))),
            )
        )
    included = frame[with_data]
    if len(included) < MIN_AREAS:
        raise FieldError(
            "population" if population is not None else "boundaries",
            f"only {len(included)} area(s) have a rate; hot spots need at least {MIN_AREAS}",
        )
    city_rate = float(
        included["requests"].sum()
        / (included["residents"].sum() / PER_RESIDENTS if population is not None else included["area_km2"].sum())
    )
    frame["ratio_to_city"] = frame["rate"] / city_rate if city_rate > 0 else math.nan

    used = [str(a) for a in included["area_id"]]
    w = _contiguity(boundaries, used, weights)
    neighbours = {a: int(w.cardinalities[a]) for a in used}
    frame["neighbours"] = pd.array([neighbours.get(a) for a in ids], dtype="Int64")
    islands = tuple(a for a in used if neighbours[a] == 0)
    components = int(w.n_components)
    values = included["rate"].to_numpy(dtype=float)
    z = pd.Series(math.nan, index=frame.index)
    p = pd.Series(math.nan, index=frame.index)
    corrected = pd.Series(math.nan, index=frame.index)
    kind = pd.Series("no data", index=frame.index, dtype=object)
    kind[with_data] = "not significant"
    if np.ptp(values) == 0:
        notes.append(f"every area has the same rate ({values[0]:,.2f}): there is nothing to test")
    else:
        gi = _gi_star(values, w, inference=inference, permutations=permutations, seed=seed)
        z[with_data] = gi.z
        p[with_data] = gi.p
        tested = p.notna()
        adjusted, significant = _correct(p[tested].to_numpy(dtype=float), float(alpha), correction)
        corrected[tested] = adjusted
        sig = pd.Series(False, index=frame.index)
        sig[tested] = significant
        kind[sig & (z > 0)] = "hot"
        kind[sig & (z < 0)] = "cold"
        if inference == "permutation":
            _floor_note(notes, permutations, alpha, correction, int(tested.sum()))
    kind[frame["area_id"].isin(islands)] = "no neighbours"
    frame["z"] = z
    frame["p"] = p
    frame["p_corrected"] = corrected
    frame["class"] = kind
    if components > 1 + len(islands):
        notes.append(
            f"the areas fall into {components - len(islands)} groups that do not touch each other (islands aside); "
            "each area's neighbourhood is still compared with the whole city"
        )
    method = _method(rate_unit, weights, inference, permutations, seed, correction, alpha, len(used), len(islands))
    return HotSpots(
        area=area,
        areas_name=boundaries.name,
        rate_unit=rate_unit,
        weights=weights,
        correction=correction,
        alpha=float(alpha),
        inference=inference,
        permutations=int(permutations),
        seed=int(seed),
        rows_read=rows_read,
        rows_analysed=int(included["requests"].sum()),
        city_rate=city_rate,
        islands=islands,
        components=components,
        left_out=tuple(left_out),
        notes=tuple(notes),
        method=method,
        _frame=frame[list(COLUMNS)],
        _boundaries=boundaries,
    )


def _floor_note(notes: list[str], permutations: int, alpha: float, correction: Correction, tested: int) -> None:
    """Say when the permutations are too few for a lone area to pass the correction."""
    smallest = 2 / (permutations + 1)
    if correction == "none" or tested == 0 or smallest * tested <= alpha:
        return
    needed = math.ceil(2 * tested / alpha)
    if correction == "bonferroni":
        notes.append(
            f"with {permutations:,} permutations the smallest p is {smallest:.4f}, above the Bonferroni threshold "
            f"{alpha / tested:.5f}: no area can be significant; use at least {needed:,} permutations"
        )
    else:
        group = math.ceil(smallest * tested / alpha)
        notes.append(
            f"with {permutations:,} permutations the smallest p is {smallest:.4f}: at {100 * alpha:g}% FDR over "
            f"{tested} areas only {group} or more areas at that p can be found together, never one alone; "
            f"{needed:,} permutations lift this floor"
        )


def _method(
    rate_unit: str, weights: str, inference: Inference, permutations: int, seed: int, correction: Correction,
    alpha: float, areas: int, islands: int,
) -> str:  # fmt: skip
    touching = "touching at a point (queen)" if weights == "queen" else "sharing an edge (rook)"
    tested = areas - islands
    text = (
        f"Getis-Ord Gi* (esda.G_Local, star=True) of {rate_unit} over {areas} areas; binary contiguity weights, "
        f"areas {touching} are neighbours (libpysal, from shared vertices) and each area is its own neighbour. "
        "z from the normal approximation (esda Zs); "
    )
    if inference == "permutation":
        text += (
            f"p two-sided from {permutations:,} conditional permutations (seed {seed}): twice the smaller share of "
            "permuted Gi* at or beyond the observed. "
        )
    else:
        text += "p two-sided from the standard normal distribution of z (twice esda's p_norm). "
    if correction == "none":
        text += f"No correction for the {tested} areas tested: hot or cold where p ≤ {alpha:g}."
    else:
        text += (
            f"Corrected for testing {tested} areas by the {_CORRECTION_TEXT[correction]} at {100 * alpha:g}% "
            f"(statsmodels multipletests): hot or cold where the corrected p ≤ {alpha:g}."
        )
    if islands:
        text += (
            f" {islands} area(s) without neighbours stay in the city's mean and spread (esda's z is their own value "
            "standardised) but are not tested: no permutation can move their neighbours."
        )
    return text
