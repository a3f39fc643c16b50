"""Disparities in one call: how well each area's residents are served, and where the requests go.

``ridp.disparities(table, mapping, by="area_id", census=acs, baseline="population")`` answers the mayor's
question "which neighbourhoods are served worst, and who lives there?":

* ``served``: service-level gaps between the areas (or between groups of areas made from a census
  variable, ``groups="median_household_income"``), with bootstrap intervals, ratios to a reference group
  and the 0.8-1.25 flag (:func:`ridp.analysis.gaps.service_gaps`);
* ``resources``: the Spatial Equity Data Tool's geographic and demographic scores with the census
  margins of error (:func:`ridp.analysis.equity.resource_scores`), when a census table is given.

The residents behind each area's figures come from the census table's ``baseline`` when no
``population`` is given. Part of the analytical core: Ibis only, never Django.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir

from ridp.analysis.census import CensusTable, groups_from_census
from ridp.analysis.equity import ResourceScores, resource_scores
from ridp.analysis.gaps import ServiceGaps, service_gaps
from ridp.errors import FieldError
from ridp.readiness._canonical import CanonicalMapping

__all__ = ["Disparities", "disparities"]


@dataclass(frozen=True)
class Disparities:
    """How well residents are served (``served``) and, with a census table, where resources go (``resources``)."""

    served: ServiceGaps
    resources: ResourceScores | None = None
    groups: Mapping[str, str] | None = None  # area -> demographic group, when the gaps are between groups

    def summary(self) -> str:
        parts = [self.served.summary()]
        if self.resources is not None:
            parts.append(self.resources.summary())
        return "\n\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "disparities",
            "served": self.served.to_dict(),
            "resources": self.resources.to_dict() if self.resources is not None else None,
            "groups": dict(self.groups) if self.groups is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Disparities:
        resources = data.get("resources")
        groups = data.get("groups")
        return cls(
            served=ServiceGaps.from_dict(data["served"]),
            resources=ResourceScores.from_dict(resources) if resources is not None else None,
            groups={str(k): str(v) for k, v in groups.items()} if groups is not None else None,
        )


def disparities(
    table: ir.Table,
    mapping: CanonicalMapping,
    *,
    by: str,
    census: CensusTable | None = None,
    baseline: str | None = None,
    demographics: Sequence[str] = (),
    groups: str | Mapping[str, str] | None = None,
    bins: int = 5,
    population: Mapping[str, float] | None = None,
    **gaps: Any,
) -> Disparities:
    """Service gaps between the areas of ``by`` and, with ``census``, where the requests go.

    Parameters
    ----------
    table, mapping
        The requests and their canonical mapping (as for :func:`ridp.service_levels`).
    by
        The area-id column (e.g. from :func:`ridp.assign_areas`) that the census table is keyed by.
    census, baseline, demographics
        An ACS-style table (:func:`ridp.analysis.census.read_acs`), its population variable and the
        demographic variables to score; the population also gives each area's residents.
    groups
        A census variable to group the areas by (quantile bins, ``bins``), or a ready map area -> group:
        then the gaps are between groups of residents, not single areas.
    gaps
        Passed on to :func:`ridp.analysis.gaps.service_gaps` (``targets``, ``reference``, ``unit``,
        ``calendar``, ``as_of``, ``resamples``, ``seed`` ...).

    Examples
    --------
    ``ridp.disparities(requests, mapping, by="area_neighbourhoods", census=acs, baseline="population",
    demographics=["pct_poverty"], groups="median_household_income")``
    """
    if census is not None and baseline is None:
        raise FieldError("baseline", "name the census table's population variable (baseline=)")
    if census is None and (demographics or isinstance(groups, str)):
        raise FieldError("census", "demographic scores and census groups need a census table (census=)")
    people = population
    if people is None and census is not None and baseline is not None:
        variable = census.resolve(baseline, "baseline")
        people = {k: v for k, v in zip(census.keys, census.estimates[variable], strict=True) if v == v}
    area_groups: Mapping[str, str] | None
    if isinstance(groups, str):
        assert census is not None
        area_groups = groups_from_census(census, groups, bins=bins)
    else:
        area_groups = groups
    served = service_gaps(table, mapping, by=by, groups=area_groups, population=people, **gaps)
    resources = None
    if census is not None and baseline is not None:
        resources = resource_scores(table, area=by, census=census, baseline=baseline, demographics=demographics,
                                    what="requests")  # fmt: skip
    return Disparities(served, resources, dict(area_groups) if area_groups is not None else None)
