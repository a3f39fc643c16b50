"""An estimate in residents' terms: what the change means per request and per year, with its interval.

An :class:`~ridp.evaluation.estimators.Estimate` says the pilot moved an outcome by so much, in the outcome's
units. Residents feel it as days of waiting saved per request, and the city as resident-days saved per year:
``per request × requests per year``. The interval is carried through the same product, which takes the volume
as fixed (a known number of requests a year, not an estimate with its own error); the sentence says so.

The sign is turned so that positive means better (``better="lower"`` for waiting, ``"higher"`` for a share
resolved), and an interval that crosses zero is said in plain words instead of as a range with a minus sign.

>>> from ridp.evaluation.estimators import Estimate
>>> e = Estimate(outcome="days", treatment="pilot", estimator="difference_in_means", se_type="HC2", effect=-2.1,
...              se=0.36, ci_low=-2.8, ci_high=-1.4, p_value=0.0001, n=400, n_treated=200, n_clusters=None,
...              df=390.0, alpha=0.05, control_mean=9.0, treated_mean=6.9, covariates=(), cluster=None, spec={})
>>> in_residents_terms(e, measure="days of waiting", per="request", volume=8600).sentence
'2.1 fewer days of waiting per request (95% CI 1.4–2.8), ≈ 18,000 resident-days of waiting saved per year (95% CI 12,000–24,000); the volume, 8,600 requests per year, is taken as fixed.'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final, Literal, get_args

from ridp.analysis._values import plain
from ridp.errors import FieldError
from ridp.evaluation.estimators import Estimate

__all__ = ["Better", "ResidentTerms", "in_residents_terms"]

Better = Literal["lower", "higher"]
#: A measure in these units is time residents spend: the total is in resident-days (resident-hours, ...).
_TIME_UNITS: Final = ("minutes", "hours", "days", "weeks", "months", "years")


@dataclass(frozen=True)
class ResidentTerms:
    """The improvement per unit (positive = better) and, with a volume, per period, with the sentence saying so."""

    measure: str
    per: str
    better: Better
    per_unit: float
    per_unit_low: float
    per_unit_high: float
    volume: float | None
    volume_label: str | None
    total: float | None
    total_low: float | None
    total_high: float | None
    total_label: str
    alpha: float
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "resident_terms", **{k: plain(v) for k, v in asdict(self).items()}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ResidentTerms:
        """The terms :meth:`to_dict` wrote (an unbounded interval end is stored as None)."""
        values: dict[str, Any] = {k: d.get(k) for k in cls.__dataclass_fields__}
        values["per_unit_low"] = -math.inf if d.get("per_unit_low") is None else float(d["per_unit_low"])
        values["per_unit_high"] = math.inf if d.get("per_unit_high") is None else float(d["per_unit_high"])
        if values["volume"] is not None:
            for key, unbounded in (("total_low", -math.inf), ("total_high", math.inf)):
                values[key] = unbounded if d.get(key) is None else float(d[key])
        return cls(**values)


def _amount(x: float) -> str:
    """A positive amount to two significant figures, thousands separated: 2.1, 0.35, 18,000."""
    if not math.isfinite(x):
        return "an unbounded amount"
    if x == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(x)))
    rounded = round(x, 1 - magnitude)
    if abs(rounded) >= 100:
        return f"{rounded:,.0f}"
    return f"{rounded:.{max(0, 1 - magnitude)}f}"


def _said(value: float, low: float, high: float, level: str, unit: str, up: str, down: str) -> str:
    """``value`` (interval ``low``–``high``, positive = better) of ``unit``: ``up`` words better, ``down`` worse."""
    if not (math.isfinite(low) and math.isfinite(high)):
        word = up if value >= 0 else down
        return f"{_amount(abs(value))} {word} {unit} ({level} CI unbounded: the data cannot rule out large effects)"
    if low > 0:
        return f"{_amount(value)} {up} {unit} ({level} CI {_amount(low)}–{_amount(high)})"
    if high < 0:
        return f"{_amount(-value)} {down} {unit} ({level} CI {_amount(-high)}–{_amount(-low)})"
    best = f"{_amount(abs(value))} {up if value >= 0 else down}"
    return (
        f"somewhere between {_amount(-low)} {down} and {_amount(high)} {up} {unit} ({level} CI; best estimate "
        f"{best}), so no change cannot be ruled out"
    )


def in_residents_terms(
    estimate: Estimate,
    *,
    measure: str,
    per: str,
    better: Better = "lower",
    volume: float | None = None,
    volume_label: str | None = None,
) -> ResidentTerms:
    """The estimate as residents feel it: ``measure`` (``"days of waiting"``) per ``per`` (``"request"``).

    Parameters
    ----------
    better
        ``lower`` when less of the outcome is better (waiting), ``higher`` when more is (a share resolved).
    volume, volume_label
        How many ``per`` there are in a period (``8600``, ``"requests per year"``; the label defaults to
        ``"<per>s per year"``). With it the total over the period is given, taking the volume as fixed.
    """
    if better not in get_args(Better):
        raise FieldError("better", f"{better!r} is lower or higher")
    for name, text in (("measure", measure), ("per", per)):
        if not isinstance(text, str) or not text.strip():
            raise FieldError(name, "is words such as 'days of waiting' (measure) or 'request' (per)")
    if volume is not None and not (isinstance(volume, int | float) and math.isfinite(volume) and volume > 0):
        raise FieldError("volume", f"{volume!r} is a positive number of {per}s in a period")
    if not math.isfinite(estimate.effect):
        raise FieldError("estimate", "has no effect to state")
    sign = -1.0 if better == "lower" else 1.0
    per_unit = sign * estimate.effect
    per_unit_low, per_unit_high = sorted((sign * estimate.ci_low, sign * estimate.ci_high))
    up, down = ("fewer", "more") if better == "lower" else ("more", "fewer")
    level = f"{(1 - estimate.alpha) * 100:g}%"
    label = volume_label or f"{per}s per year"
    period = label.rsplit(" per ", 1)[1] if " per " in label else "year"
    resident = f"resident-{measure}" if measure.split()[0].lower() in _TIME_UNITS else measure
    gain, loss = ("saved", "added") if better == "lower" else ("gained", "lost")
    total_label = f"{resident} {gain} per {period}"
    sentence = _said(per_unit, per_unit_low, per_unit_high, level, f"{measure} per {per}", up, down)
    total = total_low = total_high = None
    if volume is not None:
        total, total_low, total_high = per_unit * volume, per_unit_low * volume, per_unit_high * volume
        if not (math.isfinite(total_low) and math.isfinite(total_high)):
            sentence += f", ≈ {_amount(abs(total))} {resident} {gain if total >= 0 else loss} per {period}"
        elif total_low > 0:
            sentence += f", ≈ {_amount(total)} {total_label} ({level} CI {_amount(total_low)}–{_amount(total_high)})"
        elif total_high < 0:
            sentence += (
                f", ≈ {_amount(-total)} {resident} {loss} per {period} "
                f"({level} CI {_amount(-total_high)}–{_amount(-total_low)})"
            )
        else:
            sentence += (
                f"; over a {period} that is between {_amount(-total_low)} {resident} {loss} and "
                f"{_amount(total_high)} {gain}"
            )
        sentence += f"; the volume, {volume:,.0f} {label}, is taken as fixed."
    else:
        sentence += "."
    return ResidentTerms(
        measure=measure, per=per, better=better, per_unit=per_unit, per_unit_low=per_unit_low,
        per_unit_high=per_unit_high, volume=None if volume is None else float(volume),
        volume_label=label if volume is not None else volume_label, total=total, total_low=total_low,
        total_high=total_high, total_label=total_label, alpha=estimate.alpha, sentence=sentence,
    )  # fmt: skip
