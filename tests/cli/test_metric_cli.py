"""``ridp metric``, as a person runs it: add specs from a YAML file, list, show with history, the success metric."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_cli import BOSTON, ridp  # noqa: F401  (the fixture)

SPEC = """\
# The median wait for a pothole repair
name: pothole_days
formula: median(days_to_close) where type == "Pothole"
unit: days
direction: lower_is_better
baseline: {value: 6.5, start: 2024-01-01, end: 2024-12-31}
target: {value: 4, category: accuracy}
disaggregation: [geography]
source: requests
refresh: weekly
owner: Director of Public Works
"""


def _setup(ridp) -> None:  # noqa: F811
    ridp("init")
    ridp("city", "add", "Springfield", "--timezone", "America/Chicago")
    for name, role in (("sam", "senior_leader"), ("ana", "data_analyst"), ("vera", "viewer")):
        ridp("member", name, "--role", role, "--city", "springfield", "--email", f"{name}@springfield.gov")
    ridp("data", "add", str(BOSTON / "boston311-100.csv"), "--city", "springfield", "--name", "requests", user="ana")
    ridp("project", "start", "--city", "springfield", "--title", "Faster pothole repair", "--problem", "p",
         "--why", "w", "--service-change", "s", user="sam")  # fmt: skip


def test_metric_add_list_show_success(ridp, tmp_path: Path):  # noqa: F811
    _setup(ridp)
    spec = tmp_path / "potholes.yaml"
    spec.write_text(SPEC)
    added = ridp("metric", "add", "1", str(spec), "--city", "springfield", user="ana").stdout
    assert "pothole_days: version 1 saved" in added
    again = ridp("metric", "add", "1", str(spec), "--city", "springfield", user="ana").stdout
    assert "pothole_days: version 1 unchanged" in again
    spec.write_text(SPEC.replace("value: 4,", "value: 3,"))
    assert "version 2 saved" in ridp("metric", "add", "1", str(spec), "--city", "springfield", user="sam").stdout

    chosen = ridp("metric", "success", "1", "pothole_days", "--city", "springfield", user="ana").stdout
    assert "success metric of project 1: pothole_days" in chosen
    listed = ridp("metric", "list", "1", "--city", "springfield", user="vera").stdout
    assert "pothole_days" in listed and "lower_is_better" in listed and "3 (accuracy)" in listed
    assert "success metric: pothole_days" in listed

    shown = ridp("metric", "show", "1", "pothole_days", "--city", "springfield", "--version", "1", user="vera").stdout
    assert "# pothole_days version 1" in shown and "value: 4," in shown and "# The median wait" in shown
    assert "# needs requests: type, opened, closed, latitude, longitude; 2024-01-01 to 2024-12-31" in shown
    assert "# v2 " in shown and "# v1 " in shown and "by ana" in shown and "by sam" in shown
    assert "value: 3," in ridp("metric", "show", "1", "pothole_days", "--city", "springfield").stdout

    unset = ridp("metric", "success", "1", "--unset", "--city", "springfield", user="ana").stdout
    assert "success metric of project 1: none" in unset


def test_a_bad_spec_is_one_red_line_naming_the_file_line_and_field(ridp, tmp_path: Path):  # noqa: F811
    _setup(ridp)
    spec = tmp_path / "potholes.yaml"
    spec.write_text(SPEC.replace("median(days_to_close)", "median(days_to_close.real)"))
    bad = ridp("metric", "add", "1", str(spec), "--city", "springfield", user="ana", ok=False)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        'error: potholes.yaml, line 3, field "formula": column 8: attribute access (a.b) is not allowed: name a field'
    ]
    missing = ridp("metric", "add", "1", str(tmp_path / "nope.yaml"), "--city", "springfield", user="ana", ok=False)
    assert missing.returncode == 1 and 'nope.yaml, field "yaml": cannot read the file' in missing.stderr
    assert "pothole_days" not in ridp("metric", "list", "1", "--city", "springfield").stdout


def test_viewers_cannot_add_nor_choose_and_unknown_metrics_are_refused(ridp, tmp_path: Path):  # noqa: F811
    _setup(ridp)
    spec = tmp_path / "potholes.yaml"
    spec.write_text(SPEC)
    denied = ridp("metric", "add", "1", str(spec), "--city", "springfield", user="vera", ok=False)
    assert denied.returncode == 1 and "define its metrics" in denied.stderr
    unknown = ridp("metric", "success", "1", "nothing", "--city", "springfield", user="ana", ok=False)
    assert unknown.returncode == 1 and "the project has no metric 'nothing'" in unknown.stderr
    neither = ridp("metric", "success", "1", "--city", "springfield", user="ana", ok=False)
    assert neither.returncode == 1 and "give a metric's name, or --unset" in neither.stderr
    absent = ridp("metric", "show", "1", "pothole_days", "--city", "springfield", ok=False)
    assert absent.returncode == 1 and "no metric 'pothole_days'" in absent.stderr
