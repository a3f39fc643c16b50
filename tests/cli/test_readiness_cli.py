"""``ridp readiness``, as a person runs it: the verdict and scores, a saved run answered again, a check file
with a mistake named by its line, the HTML report, JSON, and who may run it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import BOSTON, ridp  # noqa: F401  (the fixture)


def _setup(ridp) -> None:  # noqa: F811
    ridp("init")
    ridp("city", "add", "Springfield", "--timezone", "America/New_York")
    for name, role in (("ana", "data_analyst"), ("vera", "viewer")):
        ridp("member", name, "--role", role, "--city", "springfield", "--email", f"{name}@springfield.gov")
    ridp(
        "data",
        "add",
        str(BOSTON / "boston311-100-20dupes-random.csv"),
        "--city",
        "springfield",
        "--name",
        "requests",
        user="ana",
    )
    ridp("data", "map", "requests", "--city", "springfield", "--set", "id=case_enquiry_id", "--accept", user="ana")


def test_readiness_prints_the_verdict_scores_and_failing_checks_and_answers_again_from_the_saved_run(
    ridp,  # noqa: F811
    tmp_path: Path,
) -> None:
    _setup(ridp)
    report = tmp_path / "report.html"
    out = ridp("readiness", "requests", "--city", "springfield", "--html", str(report), user="ana").stdout
    assert out.split()[0] in ("INSUFFICIENT", "PROCEED", "SUFFICIENT")
    assert "100 rows" in out and "saved as run 1" in out
    assert "20 rows are exact copies of another row" in out and "unique: case_enquiry_id" in out
    page = report.read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "<script" not in page
    again = ridp("readiness", "requests", "--city", "springfield", "--json", user="ana").stdout
    data = json.loads(again)
    assert data["rows"] == 100 and data["table"]["exact_duplicate_rows"] == 20
    assert "saved as run 1" in ridp("readiness", "requests", "--city", "springfield", user="ana").stdout


def test_a_check_file_with_a_mistake_is_refused_naming_its_line(ridp, tmp_path: Path) -> None:  # noqa: F811
    _setup(ridp)
    checks = tmp_path / "checks.yaml"
    checks.write_text("checks:\n  - not_null: case_enquiry_id\n  - range: {column: lattitude, min: 42}\n")
    bad = ridp("readiness", "requests", "--city", "springfield", "--checks", str(checks), user="ana", ok=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "line 3, range.column: unknown column 'lattitude'; the columns are: case_enquiry_id" in bad.stderr
    checks.write_text("checks:\n  - range: {column: latitude, min: 42.3, max: 42.4}\n")
    good = ridp("readiness", "requests", "--city", "springfield", "--checks", str(checks), "--save-checks", user="ana")
    assert "range: latitude" in good.stdout
    viewer = ridp("readiness", "requests", "--city", "springfield", user="vera", ok=False)
    assert viewer.returncode == 1 and "Traceback" not in viewer.stderr
