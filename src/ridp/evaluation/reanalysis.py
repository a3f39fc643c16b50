"""Reanalysis: an independent rerun of a pilot's primary result, from the data file and the frozen plan alone.

The Office of Evaluation Sciences asks for a *record of reanalysis*: someone else recomputes the primary result
from the raw data and the analysis plan. :func:`reanalysis_script` writes that rerun as a standalone Python script
that imports no ridp module (checked with :func:`imports_of`, and again at run time from ``sys.modules``): it
reads the Parquet file of the dataset version, drops rows without the primary outcome (as ridp's estimators do),
and recomputes effect, standard error, interval and p-value with statsmodels (HC2; Lin's estimator is centred
covariates interacted with treatment), pyfixest (CR1: ``feols(..., vcov={"CRV1": cluster})``) or a few lines of
its own numpy (CR2 with Bell-McCaffrey degrees of freedom; the wild cluster bootstrap and randomisation inference
by its own random draws). The plan and the reported numbers are JSON literals in the script, the plan's SHA-256 in
its header (and rechecked by the script). It prints one JSON document and exits 0 when everything matches:
closed-form numbers within 1e-6 relative, p-values from random draws within 3 Monte Carlo standard errors.

:func:`reanalyse` writes the script, runs it in a separate, isolated Python (``python -I``), and returns a
:class:`Reanalysis`.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> import numpy as np, pandas as pd, statsmodels.api as sm
>>> from ridp.evaluation.plan import AnalysisPlan, Outcome
>>> rng = np.random.default_rng(1)
>>> pilot = pd.DataFrame({"triage": np.repeat([0, 1], 40)})
>>> pilot["days_to_close"] = 9 - 2 * pilot["triage"] + rng.normal(0, 2, 80)
>>> plan = AnalysisPlan(title="Triage", questions=("Faster?",), hypotheses=("Yes.",), treatment="triage",
...                     primary=Outcome(column="days_to_close", label="Days to close"), alpha=0.05)
>>> fit = sm.OLS(pilot["days_to_close"], sm.add_constant(pilot["triage"])).fit(cov_type="HC2", use_t=True)
>>> folder = Path(tempfile.mkdtemp())
>>> pilot.to_parquet(folder / "pilot.parquet")
>>> done = reanalyse(plan, folder / "pilot.parquet", {"effect": fit.params["triage"], "se": fit.bse["triage"]},
...                  workdir=folder)
>>> done.matches, "ridp" in imports_of(done.script)
(True, False)
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from numbers import Real
from pathlib import Path
from typing import Any, Final, NamedTuple

import altair as alt
import numpy as np
import pandas as pd

from ridp.analysis._values import plain
from ridp.errors import FieldError, RidpError
from ridp.evaluation._design import QUASI
from ridp.evaluation.plan import AnalysisPlan, FrozenPlan

__all__ = ["ALLOWED_IMPORTS", "CHECKED_NUMBERS", "Reanalysis", "imports_of", "reanalyse", "reanalysis_script"]

#: What the script may import besides Python's standard library.
ALLOWED_IMPORTS: Final = frozenset({"numpy", "pandas", "pyarrow", "statsmodels", "pyfixest", "scipy"})
#: The numbers of a reported result the script recomputes (when the method gives them) and compares.
CHECKED_NUMBERS: Final = (
    "effect", "se", "ci_low", "ci_high", "p_value", "df", "n", "n_treated", "n_clusters", "control_mean",
    "treated_mean", "alpha",
)  # fmt: skip
#: Text fields of a reported result the script compares with the plan (the estimate is of the planned thing).
CHECKED_TEXTS: Final = ("estimator", "se_type", "outcome", "treatment", "cluster")
RTOL: Final = 1e-6

# The script's text (not ridp code: run by another Python that must not import ridp) is kept apart.
from ridp.evaluation._reanalysis_quasi import QUASI_PART  # noqa: E402
from ridp.evaluation._reanalysis_script import SCRIPT  # noqa: E402

_SCRIPT: Final = SCRIPT.replace("\n\ndef main(argv):", QUASI_PART + "\n\ndef main(argv):", 1)

# ---- writing and running it -----------------------------------------------------------------------------------------


def _json_block(data: Any, *, sort_keys: bool = True) -> str:
    text = json.dumps(data, indent=2, sort_keys=sort_keys, ensure_ascii=True, allow_nan=False)
    # ASCII JSON never holds three quotes in a row (quotes in strings are escaped), so r"""...""" holds it safely.
    assert '"""' not in text
    return text


def _expected_numbers(expected: Mapping[str, Any]) -> dict[str, Any]:
    """The reported numbers (and names) the script checks; other fields (spec, warnings) are left out."""
    if hasattr(expected, "to_dict") and not isinstance(expected, Mapping):
        expected = expected.to_dict()  # an Estimate
    if not isinstance(expected, Mapping):
        raise FieldError("expected", "is a mapping of reported numbers, e.g. estimate.to_dict()")
    kept: dict[str, Any] = {}
    for key, value in expected.items():
        if key in CHECKED_TEXTS and (value is None or isinstance(value, str)):
            kept[key] = value
        elif isinstance(value, bool | np.bool_) or (value is not None and not isinstance(value, Real)):
            if key in CHECKED_NUMBERS:
                raise FieldError("expected", f"{key} is {value!r}, not a number")
        elif key in CHECKED_NUMBERS or value is not None:
            value = plain(value)  # NaN -> None: nothing to compare
            kept[str(key)] = value
    if kept.get("effect") is None:
        raise FieldError("expected", "has no effect to compare: give at least the reported effect")
    return kept


def _se_type(plan: AnalysisPlan, expected: Mapping[str, Any], se_type: str | None) -> str:
    """The standard errors the script recomputes: the plan's, or what ``auto`` resolved to in the reported result."""
    if plan.estimator == "randomisation":
        return "randomisation"
    if plan.estimator in QUASI:
        chosen = se_type if se_type is not None else expected.get("se_type")
        if chosen is None and plan.se != "auto":
            chosen = plan.se
        if chosen is None or chosen == "auto":
            raise FieldError("se_type", "say what the reported result used (its se_type; estimate.to_dict() has it)")
        if plan.se != "auto" and chosen != plan.se:
            raise FieldError("se_type", f"{chosen!r} differs from the plan's se {plan.se!r}")
        return str(chosen)
    if plan.se != "auto":
        if se_type is not None and se_type != plan.se:
            raise FieldError("se_type", f"{se_type!r} differs from the plan's se {plan.se!r}")
        return plan.se
    chosen = se_type if se_type is not None else expected.get("se_type")
    if chosen is None and plan.cluster is None:
        return "HC2"
    allowed = ("HC2",) if plan.cluster is None else ("CR2", "wild", "CR1")
    if chosen not in allowed:
        raise FieldError(
            "se_type",
            f"the plan's se is auto: say what it resolved to in the reported result, one of {', '.join(allowed)}",
            hint="give se_type=..., or an expected mapping with se_type (estimate.to_dict() has it)",
        )
    return str(chosen)


def reanalysis_script(
    plan: AnalysisPlan | FrozenPlan,
    parquet: str | Path,
    expected: Mapping[str, Any],
    *,
    se_type: str | None = None,
    reps: int = 10_000,
    seed: int = 2718,
    estimate_seed: int = 0,
    placebos: bool = True,
) -> str:
    """The text of a standalone Python script that recomputes ``plan``'s primary result from ``parquet``.

    Parameters
    ----------
    plan
        The analysis plan (a frozen one is checked first).
    parquet
        The Parquet file of the dataset version (its absolute path is written into the script; the script also
        takes another path as its first argument).
    expected
        The reported result: ``effect`` and any of :data:`CHECKED_NUMBERS` (``estimate.to_dict()`` will do).
    se_type
        What ``se="auto"`` resolved to in the reported result, when ``expected`` does not say (its ``se_type``).
    reps, seed
        Random draws for the wild bootstrap and randomisation inference, and their seed.
    estimate_seed, placebos
        Synthetic control: the seed of the reported estimate's starting points, and whether it ran placebos.
    """
    plan = _plan(plan)
    numbers = _expected_numbers(expected)
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1000:
        raise FieldError("reps", "is a whole number of at least 1,000 random draws")
    settings = {
        "parquet": str(Path(parquet).resolve()),
        "se_type": _se_type(plan, numbers, se_type),
        "reps": reps,
        "seed": int(seed),
        "rtol": RTOL,
        "seed_synth": int(estimate_seed),
        "placebos": bool(placebos),
    }
    sha = plan.sha256
    title = " ".join("".join(c if c.isprintable() else " " for c in plan.title).split())[:100]  # one comment line
    fills = {
        "SHA256": sha,
        "SHA12": sha[:12],
        "TITLE": title,
        "FILENAME": f"reanalyse_{sha[:12]}.py",
        "PLAN": _json_block(json.loads(plan.canonical())),
        "EXPECTED": _json_block(numbers, sort_keys=False),  # in the order given, which the report keeps
        "SETTINGS": _json_block(settings),
    }
    # One pass: a marker inside a filled-in value (a title holding "@@PLAN@@") is left as it is.
    return re.sub(r"@@([A-Z0-9]+)@@", lambda m: fills[m.group(1)], _SCRIPT)


def imports_of(script: str) -> set[str]:
    """The top-level names of every module ``script`` imports, anywhere in it (``numpy`` for ``numpy.linalg``).

    ``__import__("x")`` and ``importlib.import_module("x")`` with a literal name count too; a relative import is
    ``"."``.
    """
    try:
        tree = ast.parse(script)
    except SyntaxError as exc:
        raise FieldError("script", f"is not Python: {exc.msg} (line {exc.lineno})") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." if node.level else str(node.module).split(".")[0])
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if called in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                names.add(node.args[0].value.split(".")[0])
    return names


def _plan(plan: AnalysisPlan | FrozenPlan) -> AnalysisPlan:
    if isinstance(plan, FrozenPlan):
        if not plan.verify():
            raise FieldError("plan", f"has changed since it was frozen: it no longer hashes to {plan.sha256}")
        return plan.plan
    if not isinstance(plan, AnalysisPlan):
        raise FieldError("plan", "is an AnalysisPlan or a FrozenPlan")
    return plan


def _check_independent(script: str) -> None:
    imported = imports_of(script)
    if "ridp" in imported:
        raise RidpError("the reanalysis script imports ridp: it would not be an independent rerun")
    foreign = imported - ALLOWED_IMPORTS - set(sys.stdlib_module_names)
    if foreign:
        raise RidpError(f"the reanalysis script imports {', '.join(sorted(foreign))}, which it may not")


@dataclass(frozen=True)
class Reanalysis:
    """The record of a reanalysis: whether the rerun matches, number by number, and the script that did it."""

    matches: bool
    expected: Mapping[str, Any]
    recomputed: Mapping[str, Any]
    differences: tuple[str, ...]
    script: str
    output: str
    plan_sha256: str = ""
    se_type: str = ""
    method: str = ""
    comparison: tuple[Mapping[str, Any], ...] = ()
    not_checked: tuple[str, ...] = ()
    returncode: int | None = None
    command: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        """The verdict in words, then the differences (if any) and what was not checked."""
        head = f"Reanalysis of plan {self.plan_sha256[:12]} ({self.se_type or 'not run'}): "
        checked = [str(row["name"]) for row in self.comparison]
        if self.matches:
            lines = [head + f"every reported number matches ({', '.join(checked)})."]
        else:
            lines = [head + "the rerun does NOT match the reported result."]
            lines += [f"  - {d}" for d in self.differences]
        if self.method:
            lines.append(f"  recomputed with: {self.method}")
        if self.not_checked:
            lines.append(f"  reported but not recomputed by this method: {', '.join(self.not_checked)}")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def tidy(self) -> pd.DataFrame:
        """One row per compared number: name, kind, expected, recomputed, difference, tolerance, matches."""
        columns = ["name", "kind", "expected", "recomputed", "difference", "tolerance", "matches"]
        return pd.DataFrame([{c: row.get(c) for c in columns} for row in self.comparison], columns=columns)

    def chart(self) -> alt.LayerChart:
        """The reported and the recomputed effect, each with its interval where the method gives one."""
        rows = []
        for source, numbers in (("reported", self.expected), ("reanalysis", self.recomputed)):
            effect = numbers.get("effect")
            if isinstance(effect, int | float):
                rows.append({"result": source, "effect": effect, "low": numbers.get("ci_low", effect),
                             "high": numbers.get("ci_high", effect)})  # fmt: skip
        frame = pd.DataFrame(rows, columns=["result", "effect", "low", "high"])
        base = alt.Chart(frame).encode(y=alt.Y("result:N", title=None, sort=["reported", "reanalysis"]))
        interval = base.mark_rule(strokeWidth=2).encode(x=alt.X("low:Q", title="Effect"), x2="high:Q")
        point = base.mark_point(filled=True, size=80).encode(x="effect:Q", tooltip=["result", "effect", "low", "high"])
        verdict = "matches" if self.matches else "does not match"
        layered: alt.LayerChart = (interval + point).properties(title=f"Reanalysis {verdict}", width=420, height=80)
        return layered

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = {str(k): plain(v) for k, v in value.items()}
            elif f.name == "comparison":
                value = [{str(k): plain(v) for k, v in row.items()} for row in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reanalysis:
        known = {f.name for f in fields(cls)}
        given = {k: v for k, v in data.items() if k in known}
        for name in ("differences", "not_checked", "command", "warnings"):
            given[name] = tuple(given.get(name, ()))
        given["comparison"] = tuple(dict(row) for row in given.get("comparison", ()))
        given["expected"], given["recomputed"] = dict(given["expected"]), dict(given["recomputed"])
        return cls(**given)


def _difference(row: Mapping[str, Any]) -> str:
    if row.get("kind") == "text":
        return f"{row['name']}: reported {row['expected']!r}, the plan says {row['recomputed']!r}"
    expected, got = row.get("expected"), row.get("recomputed")
    if got is None:
        return f"{row['name']}: reported {expected!r}, recomputed no finite number"
    rule = "3 Monte Carlo SE" if row.get("kind") == "monte carlo" else f"{RTOL:g} relative"
    return (
        f"{row['name']}: reported {expected!r}, recomputed {got!r} "
        f"(difference {row['difference']:.3g}, tolerance {row['tolerance']:.3g}, {rule})"
    )


class _Record(NamedTuple):
    script: str
    plan_sha256: str
    command: tuple[str, ...]
    expected: Mapping[str, Any]


def reanalyse(
    plan: AnalysisPlan | FrozenPlan,
    parquet: str | Path,
    expected: Mapping[str, Any],
    *,
    workdir: Path,
    timeout: float = 300,
    se_type: str | None = None,
    reps: int = 10_000,
    seed: int = 2718,
    estimate_seed: int = 0,
    placebos: bool = True,
) -> Reanalysis:
    """Write the reanalysis script to ``workdir/reanalyse_<sha12>.py``, run it, and say whether it matches.

    The script runs in its own process with ``python -I`` (isolated: no ``PYTHON*`` variables, no user site, not
    the working folder on the path), from ``workdir``; the argument list is passed as a list, never through a
    shell. It is refused before it runs if it imports ridp; after it runs, its own list of loaded modules must
    hold no ridp module. A script that fails or does not finish in ``timeout`` seconds gives a record that does
    not match, saying why, with its output kept.
    """
    the_plan = _plan(plan)
    path = Path(parquet)
    if not path.is_file():
        raise FieldError("parquet", f"there is no file at {path}")
    numbers = _expected_numbers(expected)
    script = reanalysis_script(the_plan, path, numbers, se_type=se_type, reps=reps, seed=seed,
                               estimate_seed=estimate_seed, placebos=placebos)  # fmt: skip
    _check_independent(script)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / f"reanalyse_{the_plan.sha256[:12]}.py"
    target.write_text(script, encoding="utf-8")
    command = (sys.executable, "-I", str(target.resolve()), str(path.resolve()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}  # -I ignores them too
    record = _Record(script=script, plan_sha256=the_plan.sha256, command=command, expected=numbers)
    try:
        done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout if isinstance(exc.stdout, str) else ""
        why = f"the script did not finish within {timeout:g} s"
        return Reanalysis(False, recomputed={}, differences=(why,), output=output, **record._asdict())
    return _from_report(record, done.stdout, done.stderr, done.returncode)


def _from_report(record: _Record, stdout: str, stderr: str, returncode: int) -> Reanalysis:
    """The record of a run from the script's printed JSON (and its exit code)."""
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        last = (stderr.strip().splitlines() or ["no message"])[-1]
        why = f"the script stopped without a result (exit {returncode}): {last}"
        return Reanalysis(
            False, recomputed={}, differences=(why,), output=stdout + stderr, returncode=returncode, **record._asdict()
        )
    rows = tuple(report.get("comparison", ()))
    differences = [_difference(row) for row in rows if not row["matches"]]
    if "error" in report:
        differences.append(f"the script could not recompute: {report['error']}")
    if report.get("plan_sha256_recomputed") != record.plan_sha256:
        differences.append("the plan inside the script does not hash to the plan's SHA-256")
    if report.get("ridp_modules"):
        differences.append(f"the script loaded ridp modules: {', '.join(report['ridp_modules'][:5])}")
    warnings = []
    if report.get("rows_dropped_missing_outcome"):
        warnings.append(f"{report['rows_dropped_missing_outcome']} rows without the primary outcome were dropped")
    return Reanalysis(
        matches=returncode == 0 and bool(report.get("matches")) and not differences,
        recomputed=dict(report.get("recomputed", {})),
        differences=tuple(differences),
        output=stdout,
        se_type=str(report.get("se_type", "")),
        method=str(report.get("method", "")),
        comparison=rows,
        not_checked=tuple(report.get("not_checked", ())),
        returncode=returncode,
        warnings=tuple(warnings),
        **record._asdict(),
    )
