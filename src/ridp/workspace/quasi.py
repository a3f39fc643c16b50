"""Quasi-experimental methods on a catalogued dataset: difference-in-differences, event studies, interrupted time
series and synthetic control, run by a team member who may read its rows (``ridp evaluate did|its|synth``).

A pilot's estimate of record is :func:`ridp.workspace.plans.evaluate_pilot`, under its frozen plan. These runs
are for everything around it — checking pre-trends on last year's data, trying a design before writing the
plan — and they respect the plan: on a dataset that is a pilot's outcome data they are refused until that
pilot's plan is frozen, and afterwards the result says it is exploratory, not the estimate of record.
Columns the person sees masked (personal data outside their agreement) cannot be used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from django.utils.translation import gettext as _

from ridp.errors import FieldError, PermissionDeniedError
from ridp.evaluation.quasi import QuasiEstimate
from ridp.workspace import audit
from ridp.workspace.access import require
from ridp.workspace.datasets import get_dataset, masked_columns, open_table
from ridp.workspace.models import Pilot, User
from ridp.workspace.plans import plan_of

__all__ = ["METHODS", "run_method"]

#: Each method: the estimator function's import path and the parameters that name columns.
METHODS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "did": ("ridp.evaluation.did:did", ("outcome", "group", "post", "covariates", "cluster")),
    "twfe": ("ridp.evaluation.did:twfe", ("outcome", "unit", "time", "treatment", "covariates", "cluster")),
    "callaway_santanna": ("ridp.evaluation.staggered:callaway_santanna", ("outcome", "unit", "time", "first_treated")),
    "sun_abraham": ("ridp.evaluation.staggered:sun_abraham", ("outcome", "unit", "time", "first_treated")),
    "its": ("ridp.evaluation.its:interrupted_time_series", ("outcome", "time", "post", "offset", "season")),
    "synth": ("ridp.evaluation.synth:synthetic_control", ("outcome", "unit", "time", "predictors", "special")),
}
EXPLORATORY: Final = (
    "exploratory: not the estimate of record of pilot {pilot} (that is `ridp evaluate run` under its frozen plan)"
)


def _columns(params: Mapping[str, Any], names: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    for name in names:
        value = params.get(name)
        if isinstance(value, str):
            found.add(value)
        elif name == "special" and value:
            found.update(str(item[0]) for item in value)
        elif isinstance(value, list | tuple):
            found.update(str(v) for v in value)
    return found


def run_method(actor: User, city: str, dataset: str, method: str, params: Mapping[str, Any], *,
               version: int | None = None, engine_url: str | None = None) -> QuasiEstimate:  # fmt: skip
    """``method`` (a key of :data:`METHODS`) on a version of ``dataset`` with the estimator's own ``params``."""
    import importlib

    if method not in METHODS:
        raise FieldError("method", f"{method!r} is one of {', '.join(METHODS)}")
    found = get_dataset(actor, city, dataset)
    require(actor, found.city, "rows.read", obj=found)
    path, column_params = METHODS[method]
    if "data" in params:
        raise FieldError("data", "is the dataset; it is not a parameter")
    used = _columns(params, column_params)
    if not used:
        raise FieldError("outcome", f"{method} needs its columns: outcome and the others it names")
    hidden = masked_columns(actor, found) & used
    if hidden:
        raise PermissionDeniedError(f"you see these columns masked: {', '.join(sorted(hidden))}")
    notes: list[str] = []
    for pilot in Pilot.objects.filter(outcome_dataset=found).select_related("project").order_by("name"):
        record = plan_of(pilot)
        if record is None or record.frozen_at is None:
            raise PermissionDeniedError(
                _("%(dataset)s is the outcome data of pilot %(pilot)s, whose analysis plan is not frozen: outcome "
                  "analysis is refused until it is") % {"dataset": found.name, "pilot": pilot.name},
                hint="freeze the plan first: ridp plan freeze",
            )  # fmt: skip
        notes.append(EXPLORATORY.format(pilot=pilot.name))
    table = open_table(actor, city, found.name, version=version, engine_url=engine_url)
    missing = sorted(used - set(table.columns))
    if missing:
        raise FieldError("columns", f"{', '.join(map(repr, missing))} not in {found.name}; its columns are "
                         f"{', '.join(table.columns)}")  # fmt: skip
    module, name = path.split(":")
    function = getattr(importlib.import_module(module), name)
    frame = table.select(*sorted(used)).to_pandas()
    try:
        result: QuasiEstimate = function(frame, **params)
    except TypeError as exc:  # an unknown or missing parameter: say which, as a field error
        raise FieldError("params", f"{method}: {exc}".replace(f"{name}()", method)) from None
    audit.record("quasi.run", actor=actor, city=found.city, obj=found, method=method,
                 columns=", ".join(sorted(used)), rows=len(frame))  # fmt: skip
    if notes:
        from dataclasses import replace

        result = replace(result, warnings=(*result.warnings, *notes))
    return result
