"""``ridp team`` and ``ridp meeting``, as a person runs them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import icalendar

from tests.cli.test_cli import ridp  # noqa: F401  (the fixture)


def _setup(ridp) -> None:  # noqa: F811
    ridp("init")
    ridp("city", "add", "Springfield", "--timezone", "America/Chicago")
    for name, role in (
        ("sam", "senior_leader"), ("ana", "data_analyst"), ("eve", "subject_matter_expert"), ("cora", "coach"),
        ("pia", "programme_analyst"), ("vera", "viewer"),
    ):  # fmt: skip
        ridp("member", name, "--role", role, "--city", "springfield", "--email", f"{name}@springfield.gov")
    ridp("project", "start", "--city", "springfield", "--title", "Faster pothole repair", "--problem", "p",
         "--why", "w", "--service-change", "s", user="sam")  # fmt: skip


def test_team_show_add_remove(ridp):  # noqa: F811
    _setup(ridp)
    first = ridp("team", "add", "1", "--city", "springfield", "--user", "sam", "--role", "senior_leader", user="sam")
    assert "sam is on the team of project 1 as senior_leader" in first.stdout
    shown = ridp("team", "show", "1", "--city", "springfield", user="vera").stdout
    assert "team not valid" in shown and "1 city members: a team has 3 to 5" in shown and "no coach" in shown
    for user, role in (("ana", "data_analyst"), ("eve", "subject_matter_expert"), ("cora", "coach"),
                       ("pia", "programme_analyst")):  # fmt: skip
        ridp("team", "add", "1", "--city", "springfield", "--user", user, "--role", role, user="sam")
    shown = ridp("team", "show", "1", "--city", "springfield", user="vera").stdout
    assert "team valid" in shown and "not valid" not in shown
    viewer = ridp(
        "team", "add", "1", "--city", "springfield", "--user", "vera", "--role", "viewer", user="sam", ok=False
    )
    assert viewer.returncode == 1 and "not a team role" in viewer.stderr
    denied = ridp("team", "add", "1", "--city", "springfield", "--user", "ana", "--role", "data_analyst", user="ana",
                  ok=False)  # fmt: skip
    assert denied.returncode == 1 and "senior leaders" in denied.stderr
    ridp("team", "remove", "1", "5", "--city", "springfield", user="sam")
    assert "no programme analyst" in ridp("team", "show", "1", "--city", "springfield").stdout


def test_meeting_new_record_follow_up_remind_done_ics(ridp, tmp_path: Path):  # noqa: F811
    _setup(ridp)
    ridp("team", "add", "1", "--city", "springfield", "--user", "ana", "--role", "data_analyst", user="sam")
    yesterday = date.today() - timedelta(days=1)
    made = ridp("meeting", "new", "1", "--city", "springfield", "--at", f"{yesterday} 10:00", "--kind", "kickoff",
                "--goal", "Agree the data", user="ana")  # fmt: skip
    assert "meeting 1 scheduled (kickoff)" in made.stdout
    ridp("meeting", "record", "1", "1", "--city", "springfield", "--status", "held", "--decisions", "Use 2024",
         "--usefulness", "4", "--attendee", "ana", "--guest", "Pat Lee, crew chief", user="ana")  # fmt: skip
    bad = ridp("meeting", "record", "1", "1", "--city", "springfield", "--usefulness", "9", user="ana", ok=False)
    assert bad.returncode == 1 and "usefulness" in bad.stderr
    added = ridp("meeting", "follow-up", "1", "1", "--city", "springfield", "--text", "Send the log", "--owner", "ana",
                 "--due", str(date.today()), user="ana")  # fmt: skip
    assert "follow-up 1 added" in added.stdout
    listed = ridp("meeting", "list", "1", "--city", "springfield", user="vera").stdout
    assert f"{yesterday} 10:00" in listed and "held" in listed and "Send the log" in listed
    reminded = ridp("meeting", "remind").stdout
    assert "1 e-mails sent (1 follow-ups, 0 meetings); 0 failed" in reminded
    mails = list((tmp_path / "home" / "mail").iterdir())
    assert len(mails) == 1 and "Send the log" in mails[0].read_text() and "ana@springfield.gov" in mails[0].read_text()
    assert "0 e-mails sent" in ridp("meeting", "remind").stdout  # once a day
    assert "follow-up 1: done" in ridp("meeting", "done", "1", "1", "--city", "springfield", user="ana").stdout
    feed = ridp("meeting", "ics", "1", "--city", "springfield", user="vera").stdout
    events = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == ["meeting-1@ridp"]
    assert str(events[0]["SUMMARY"]) == "Faster pothole repair: kickoff"
    out = tmp_path / "p1.ics"
    ridp("meeting", "ics", "1", "--city", "springfield", "--output", str(out))
    assert out.read_bytes().startswith(b"BEGIN:VCALENDAR")
    assert "meetings planned" in ridp("meeting", "plan", "1", "--city", "springfield", user="ana").stdout
    denied = ridp("meeting", "plan", "1", "--city", "springfield", user="vera", ok=False)
    assert denied.returncode == 1 and "city team" in denied.stderr
