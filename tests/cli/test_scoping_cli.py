"""``ridp scoping`` and ``ridp charter``, as a person runs them."""

from __future__ import annotations

from datetime import date, timedelta

from tests.cli.test_cli import ridp  # noqa: F401  (the fixture)

KEYS = ["resident_impact", "appetite", "data_quality", "earlier_attempts", "fits_process"]


def _setup(ridp):  # noqa: F811
    ridp("init")
    ridp("city", "add", "Springfield")
    ridp("member", "sam", "--role", "senior_leader", "--city", "springfield")
    ridp("member", "cora", "--role", "coach", "--city", "springfield")
    ridp("member", "ana", "--role", "data_analyst", "--city", "springfield")
    ridp("project", "start", "--city", "springfield", "--title", "Faster pothole repair", "--problem",
         "Potholes wait weeks", "--why", "Residents trip", "--service-change", "Crews by risk", user="sam")  # fmt: skip


def test_scoping_show_rate_value_decide(ridp):  # noqa: F811
    _setup(ridp)
    city = ("--city", "springfield")
    out = ridp("scoping", "rate", "1", *city, "--criterion", "appetite", "--score", "2", "--evidence",
               "Budget speech", "--on", "2025-04-02", user="sam").stdout  # fmt: skip
    assert "appetite rated 2 on 2025-04-02 by sam" in out
    bad = ridp("scoping", "rate", "1", *city, "--criterion", "speed", "--score", "1", "--evidence", "e", user="sam",
               ok=False)  # fmt: skip
    assert bad.returncode == 1 and "criterion" in bad.stderr
    denied = ridp("scoping", "rate", "1", *city, "--criterion", "appetite", "--score", "1", "--evidence", "e",
                  user="ana", ok=False)  # fmt: skip
    assert denied.returncode == 1 and "rate the criteria" in denied.stderr
    assert (
        "value high, complexity low"
        in ridp("scoping", "value", "1", *city, "--value", "high", "--complexity", "low", user="sam").stdout
    )
    early = ridp("scoping", "decide", "1", *city, "--decision", "accept", user="cora", ok=False)
    assert early.returncode == 1 and "rate all five criteria first" in early.stderr
    for key in KEYS:
        ridp("scoping", "rate", "1", *city, "--criterion", key, "--score", "1", "--evidence", "e", user="cora")
    off = ridp("scoping", "decide", "1", *city, "--decision", "off_ramp", "--reason", "No appetite", user="cora",
               ok=False)  # fmt: skip
    assert off.returncode == 1 and "other_help" in off.stderr
    done = ridp("scoping", "decide", "1", *city, "--decision", "off_ramp", "--reason", "No appetite",
                "--other-help", "A data clinic", user="cora").stdout  # fmt: skip
    assert "off-ramp" in done
    shown = ridp("scoping", "show", "1", *city, user="ana").stdout
    assert "Budget speech" not in shown  # the latest rating of appetite is cora's
    assert "value: high; complexity: low" in shown
    assert "decision: off-ramp by cora" in shown and "A data clinic" in shown and "readiness verdict" in shown


def test_charter_edit_sign_history_diff_and_invalidation(ridp):  # noqa: F811
    _setup(ridp)
    city = ("--city", "springfield")
    assert "has no charter yet" in ridp("charter", "show", "1", *city, user="ana").stdout
    out = ridp("charter", "edit", "1", *city, "--set", "goals=Repair within two weeks", "--set",
               "department=Public Works", "--note", "first draft", user="sam").stdout  # fmt: skip
    assert "charter version 1 saved" in out
    same = ridp("charter", "edit", "1", *city, "--set", "goals=Repair within two weeks", user="sam").stdout
    assert "nothing changed" in same
    bad = ridp("charter", "edit", "1", *city, "--set", "nonsense=1", user="sam", ok=False)
    assert bad.returncode == 1 and "nonsense" in bad.stderr
    future = (date.today() + timedelta(days=1)).isoformat()
    late = ridp("charter", "sign", "1", *city, "--kind", "team", "--name", "Ana", "--role", "Analyst", "--on", future,
                user="sam", ok=False)  # fmt: skip
    assert late.returncode == 1 and "signed_on" in late.stderr
    for kind in ("team", "champion", "leadership"):
        signed = ridp("charter", "sign", "1", *city, "--kind", kind, "--name", f"{kind} person", "--role", "Director",
                      user="sam").stdout  # fmt: skip
        assert f"{kind} signed version 1" in signed
    shown = ridp("charter", "show", "1", *city, user="ana").stdout
    assert "Public Works" in shown and "Faster pothole repair" in shown and "\nsigned\n" in shown
    ridp("charter", "edit", "1", *city, "--set", "goals=Repair within one week", user="ana")
    shown = ridp("charter", "show", "1", *city, user="ana").stdout
    assert "not signed" in shown and "version 2 changed goals" in shown
    assert "missing: the champion has not signed version 2" in shown
    history = ridp("charter", "history", "1", *city, user="ana").stdout
    assert "first draft" in history and "sam" in history and "ana" in history
    diff = ridp("charter", "diff", "1", "1", "2", *city, user="ana").stdout
    assert "goals (Goals): Repair within [-two weeks-]{+one week+}" in diff
    missing = ridp("charter", "diff", "1", "1", "5", *city, user="ana", ok=False)
    assert missing.returncode == 1 and "no version 5" in missing.stderr
