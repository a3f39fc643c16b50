"""``ridp gate`` and ``ridp cohort``: the gate out of a phase, an override, cohorts' calendars and the cohort view."""

from __future__ import annotations

from tests.cli.test_cli import ridp  # noqa: F401  (the fixture)

REASON = "Readiness is checked by hand this cohort; the coach agreed."


def test_gate_show_advance_override(ridp):  # noqa: F811
    ridp("init")
    ridp("city", "add", "Springfield")
    for name, role in (("sam", "senior_leader"), ("cora", "coach"), ("vera", "viewer")):
        ridp("member", name, "--role", role, "--city", "springfield")
    ridp("project", "start", "--city", "springfield", "--title", "Faster pothole repair", "--problem", "p",
         "--why", "w", "--service-change", "s", user="sam")  # fmt: skip
    shown = ridp("gate", "show", "1", "--city", "springfield", user="vera").stdout
    assert "gate Scoping → Analysis: blocked" in shown
    assert "[not met] Charter signed" in shown and "- there is no charter yet" in shown
    assert "[not met] Data readiness verdict" in shown and "add the project's metric specs" in shown
    blocked = ridp("gate", "advance", "1", "--city", "springfield", user="sam", ok=False)
    assert blocked.returncode == 1 and "gate: the gate out of Scoping is blocked" in blocked.stderr
    denied = ridp("gate", "override", "1", "--city", "springfield", "--reason", REASON, user="sam", ok=False)
    assert denied.returncode == 1 and "coach" in denied.stderr
    short = ridp("gate", "override", "1", "--city", "springfield", "--reason", "because", user="cora", ok=False)
    assert short.returncode == 1 and "reason:" in short.stderr
    done = ridp("gate", "override", "1", "--city", "springfield", "--reason", REASON, user="cora").stdout
    assert "project 1: scoping → analysis, gate overridden" in done
    after = ridp("gate", "show", "1", "--city", "springfield", user="vera").stdout
    assert "gate Analysis → Testing & action" in after and f"scoping → analysis by cora (overridden: {REASON})" in after


def test_cohort_list_show_new_edit_phase_view(ridp):  # noqa: F811
    ridp("init")
    ridp("city", "add", "Springfield")
    for name, role in (("sam", "senior_leader"), ("cora", "coach")):
        ridp("member", name, "--role", role, "--city", "springfield")
    ridp("project", "start", "--city", "springfield", "--title", "Faster pothole repair", "--problem", "p",
         "--why", "w", "--service-change", "s", user="sam")  # fmt: skip
    listed = ridp("cohort", "list", user="sam").stdout
    assert "Cohort 20" in listed
    shown = ridp("cohort", "show", "1", user="sam").stdout
    assert "Testing & action" in shown and "charter_signed" in shown and "weekly" in shown
    made = ridp("cohort", "new", "Cohort 2030", "--year", "2030").stdout
    assert "cohort 2 added: Cohort 2030, 2030-04-01 to 2030-12-31" in made
    edited = ridp("cohort", "edit-phase", "2", "analysis", "--starts", "2030-05-20", "--cadence", "monthly").stdout
    assert "Analysis: 2030-05-20 to 2030-08-14, monthly" in edited
    bad = ridp("cohort", "edit-phase", "2", "analysis", "--starts", "soon", ok=False)
    assert bad.returncode == 1 and "starts:" in bad.stderr
    overlap = ridp("cohort", "edit-phase", "2", "analysis", "--ends", "2030-09-01", ok=False)
    assert overlap.returncode == 1 and "ends_on:" in overlap.stderr
    refused = ridp("cohort", "new", "Mine", "--year", "2030", user="sam", ok=False)
    assert refused.returncode == 1 and "programme admin" in refused.stderr
    view = ridp("cohort", "view", user="cora").stdout
    assert "Faster" in view and "springfield" in view and "blocked" in view  # (rich may wrap the title)
    assert "springfield" not in ridp("cohort", "view", "--phase", "analysis", user="cora").stdout
    assert ridp("cohort", "view", user="sam", ok=False).returncode == 1
    unknown = ridp("cohort", "view", "--sort", "salary", user="cora", ok=False)
    assert unknown.returncode == 1 and "sort:" in unknown.stderr
