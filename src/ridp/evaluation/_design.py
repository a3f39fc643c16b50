"""The ``design`` block of an analysis plan: what a quasi-experimental estimator needs besides the treatment.

A plan for a randomised pilot needs none. For the others the plan's ``treatment`` is read as follows, and
``design`` holds the rest (every key checked here, each error naming ``design.<key>``):

==================== ===================================== ==============================================
estimator            ``treatment`` is                      ``design`` (required first)
==================== ===================================== ==============================================
did                  the treated group (0/1)               post; covariates and cluster as for experiments
twfe                 treated now (0/1); ``unit`` required  time
callaway_santanna    the period first treated; ``unit``    time, control, aggregation, base, reps
sun_abraham          the period first treated; ``unit``    time
its                  after the change (0/1)                time, family, offset, season, period, harmonics,
                                                           slope_change, hac_lags
synth                the unit column; ``treated`` the      time, start, predictors, predictor_period,
                     treated unit                          special, starts
==================== ===================================== ==============================================
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from ridp.errors import SpecError

__all__ = ["DESIGN_COLUMNS", "EXPERIMENTAL", "QUASI", "QUASI_SE", "check_design", "design_columns"]

EXPERIMENTAL: Final = ("difference_in_means", "lin", "randomisation")
QUASI: Final = ("did", "twfe", "callaway_santanna", "sun_abraham", "its", "synth")
#: The standard errors each quasi-experimental estimator accepts ("auto" always).
QUASI_SE: Final = {
    "did": ("auto", "iid", "HC1", "HC2", "CR2", "wild", "CR1"),
    "twfe": ("auto", "iid", "HC1", "CR1", "wild"),
    "callaway_santanna": ("auto",),
    "sun_abraham": ("auto",),
    "its": ("auto", "model", "HAC"),
    "synth": ("auto",),
}
_KEYS: Final[dict[str, dict[str, Any]]] = {
    "did": {"post": "column"},
    "twfe": {"time": "column"},
    "callaway_santanna": {
        "time": "column",
        "control": ("never", "notyet"),
        "aggregation": ("group", "simple", "dynamic", "calendar"),
        "base": ("varying", "universal"),
        "reps": "count",
    },
    "sun_abraham": {"time": "column"},
    "its": {
        "time": "column",
        "family": ("gaussian", "poisson", "quasipoisson", "negbin"),
        "offset": "column",
        "season": "column",
        "period": "count",
        "harmonics": "count",
        "slope_change": "bool",
        "hac_lags": "count",
    },
    "synth": {
        "time": "column",
        "start": "value",
        "predictors": "columns",
        "predictor_period": "pair",
        "special": "specials",
        "starts": "count",
    },
}
_REQUIRED: Final = {"did": ("post",), "twfe": ("time",), "callaway_santanna": ("time",), "sun_abraham": ("time",),
                    "its": ("time",), "synth": ("time", "start")}  # fmt: skip
#: Keys whose values name columns of the data.
DESIGN_COLUMNS: Final = ("post", "time", "offset", "season")


def _value(value: object, where: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or (
        isinstance(value, float) and not math.isfinite(value)
    ):  # fmt: skip
        raise SpecError(where, "is a period: a number or text such as 2024-07-01")
    return value


def _column(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or value != value.strip():
        raise SpecError(where, "is the exact name of a column")
    return value


def check_design(estimator: str, design: object, *, unit: str | None, treated: Any, covariates: tuple[str, ...],
                 cluster: str | None) -> dict[str, Any]:  # fmt: skip
    """The design block, checked against the estimator, as plain data with lists (JSON-safe and hashable)."""
    if design is None:
        design = {}
    if not isinstance(design, Mapping):
        raise SpecError("design", "is a mapping of the estimator's settings, e.g. {time: week}")
    if estimator in EXPERIMENTAL:
        if design:
            raise SpecError("design", f"is for quasi-experimental estimators; {estimator} needs none")
        return {}
    allowed = _KEYS[estimator]
    out: dict[str, Any] = {}
    for key, value in design.items():
        where = f"design.{key}"
        if key not in allowed:
            raise SpecError(where, f"is not a setting of {estimator}; its settings are {', '.join(allowed)}")
        kind = allowed[key]
        if isinstance(kind, tuple):
            if value not in kind:
                raise SpecError(where, f"{value!r} is not one of {', '.join(kind)}")
            out[key] = value
        elif kind == "column":
            out[key] = _column(value, where)
        elif kind == "columns":
            if not isinstance(value, list | tuple) or not value:
                raise SpecError(where, "is a list of column names")
            out[key] = [_column(v, f"{where}[{i}]") for i, v in enumerate(value)]
        elif kind == "count":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError(where, "is a whole number of at least 1")
            out[key] = value
        elif kind == "bool":
            if not isinstance(value, bool):
                raise SpecError(where, "is true or false")
            out[key] = value
        elif kind == "value":
            out[key] = _value(value, where)
        elif kind == "pair":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise SpecError(where, "is [first period, last period]")
            out[key] = [_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        else:  # specials: [[column, first, last], ...]
            if not isinstance(value, list | tuple):
                raise SpecError(where, "is a list of [column, first period, last period]")
            items = []
            for i, item in enumerate(value):
                if not isinstance(item, list | tuple) or len(item) != 3:
                    raise SpecError(f"{where}[{i}]", "is [column, first period, last period]")
                items.append([_column(item[0], f"{where}[{i}]"), _value(item[1], f"{where}[{i}]"),
                              _value(item[2], f"{where}[{i}]")])  # fmt: skip
            out[key] = items
    for key in _REQUIRED[estimator]:
        if key not in out:
            raise SpecError(f"design.{key}", f"is required by estimator {estimator}")
    if estimator in ("twfe", "callaway_santanna", "sun_abraham") and not unit:
        raise SpecError("unit", f"is required by estimator {estimator}: the column naming each unit of the panel")
    if estimator == "synth" and treated is None:
        raise SpecError("treated", "is required by estimator synth: the treated unit (a value of the treatment column)")
    if covariates and estimator not in ("did", "twfe"):
        raise SpecError("covariates", f"are not used by estimator {estimator}")
    if cluster and estimator not in ("did", "twfe"):
        raise SpecError("cluster", f"is not used by estimator {estimator} (its errors are by unit or period)")
    return out


def design_columns(design: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field, column) for every column the design block names."""
    named = [(f"design.{k}", str(design[k])) for k in DESIGN_COLUMNS if k in design]
    named += [(f"design.predictors[{i}]", c) for i, c in enumerate(design.get("predictors", ()))]
    named += [(f"design.special[{i}]", s[0]) for i, s in enumerate(design.get("special", ()))]
    return named
