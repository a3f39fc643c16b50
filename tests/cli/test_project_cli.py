"""``ridp project``: start, list, show and change the intake, as a person runs it."""

from __future__ import annotations

from tests.cli.test_cli import ridp  # noqa: F401  (the fixture)


def test_project_start_list_show_intake(ridp):  # noqa: F811
    ridp("init")
    ridp("city", "add", "Springfield")
    ridp("member", "sam", "--role", "senior_leader", "--city", "springfield")
    ridp("member", "vera", "--role", "viewer", "--city", "springfield")
    args = ["--city", "springfield", "--title", "Faster pothole repair", "--problem", "Potholes wait weeks"]
    started = ridp(
        "project", "start", *args, "--why", "Residents trip", "--service-change", "Crews by risk", user="sam"
    )
    assert "project 1 started in springfield" in started.stdout and "phase: scoping" in started.stdout
    denied = ridp("project", "start", *args, "--why", "w", "--service-change", "s", user="vera", ok=False)
    assert denied.returncode == 1 and "senior leaders" in denied.stderr
    listed = ridp("project", "list", "--city", "springfield", user="vera").stdout
    assert "Faster pothole repair" in listed and "scoping" in listed
    ridp("project", "intake", "1", "--city", "springfield", "--title", "Pothole repair in days", user="sam")
    shown = ridp("project", "show", "1", "--city", "springfield", user="vera").stdout
    assert "Pothole repair in days" in shown and "Potholes wait weeks" in shown
    empty = ridp("project", "start", "--city", "springfield", "--title", " ", "--problem", "p", "--why", "w",
                 "--service-change", "s", user="sam", ok=False)  # fmt: skip
    assert empty.returncode == 1 and "title" in empty.stderr
