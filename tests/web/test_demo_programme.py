"""Seeding the demo programme: three cities, their teams, agreements in every state, and demo logins that work."""

from __future__ import annotations

import json
import stat

import pyotp
import pytest
from django.test import Client

from ridp.errors import PermissionDeniedError, WorkspaceError
from ridp.workspace.models import Agreement, City, Dataset, DatasetMapping, Membership, Role, TotpDevice, User
from tests.web.conftest import csrf_post

PASSWORD = "demo-test-pass-1234"


@pytest.fixture
def seeded(db, home):
    from ridp.workspace.demo_programme import seed
    from ridp.workspace.store import init_workspace

    init_workspace("admin")
    return seed(rows=400, password=PASSWORD)


def roles_in(slug: str) -> set[str]:
    return set(Membership.objects.filter(city__slug=slug).values_list("role", flat=True))


@pytest.mark.slow  # seeding ingests four files and reads their columns: about 15 s
def test_seed_makes_three_cities_with_teams_agreements_in_every_state_and_confirmed_demo_data(seeded, home):
    from ridp.workspace.demo_programme import is_demo_workspace, seed

    assert seeded.created and seeded.password == PASSWORD
    cities = City.objects.filter(cohort__name="2026").order_by("slug")
    assert [c.slug for c in cities] == ["demo", "lakeside", "riverton"]
    for slug in ("demo", "riverton", "lakeside"):
        assert {"senior_leader", "data_analyst", "subject_matter_expert", "viewer", "coach", "programme_analyst"} <= (
            roles_in(slug)
        )
    coach_cities = Membership.objects.filter(user__username="cole", role=Role.COACH, city__isnull=False)
    assert sorted(coach_cities.values_list("city__slug", flat=True)) == ["demo", "riverton"]
    assert Membership.objects.filter(user__username="pat", role=Role.PROGRAMME_ADMIN).exists()
    assert set(Agreement.objects.values_list("status", flat=True)) == set(Agreement.Status.values)
    requests = Dataset.objects.get(city__slug="demo", name="service_requests")
    assert requests.current_version is not None and requests.current_version.rows == 400
    classes = dict(requests.current_version.columns.values_list("name", "classification"))
    assert classes["address"] == "personal" and classes["service_name"] == "internal"
    assert DatasetMapping.objects.filter(dataset=requests, confirmed_by__isnull=False).exists()
    assert Dataset.objects.filter(city__slug="riverton", current_version__isnull=False).exists()
    assert Dataset.objects.filter(city__slug="lakeside", current_version__isnull=False).exists()
    # Everyone but viewers has a confirmed authenticator; the workspace is marked as a demo.
    with_device = set(TotpDevice.objects.filter(confirmed_at__isnull=False).values_list("user__username", flat=True))
    assert {login.username for login in seeded.logins if login.two_factor} == with_device
    assert {login.username for login in seeded.logins if not login.two_factor} == {"vic", "rex", "luke"}
    marker = home / "DEMO"
    assert is_demo_workspace() and json.loads(marker.read_text())["password"] == PASSWORD
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600
    again = seed(rows=400)
    assert not again.created and again.password == PASSWORD and Agreement.objects.count() == 7


def log_in(username: str) -> Client:
    from ridp.workspace.demo_programme import current_code

    client = Client(enforce_csrf_checks=True)
    first = csrf_post(client, "/login/", {"username": username, "password": PASSWORD})
    assert first.status_code == 302, username
    if first["Location"] == "/login/two-factor/":
        done = csrf_post(client, "/login/two-factor/", {"code": current_code(username)[0]})
        assert done.status_code == 302 and done["Location"] == "/", username
    else:
        assert first["Location"] == "/", username
    return client


@pytest.mark.slow
def test_personas_log_in_with_the_demo_password_and_their_code(seeded):
    ana = log_in("ana")
    assert ana.get("/c/demo/").status_code == 200
    assert ana.get("/c/riverton/").status_code == 404  # another city's team
    assert log_in("vic").get("/c/demo/").status_code == 200  # a viewer: password only
    assert log_in("pat").get("/c/lakeside/").status_code == 200  # the programme admin sees every city
    assert log_in("cole").get("/c/riverton/").status_code == 200  # a coach of two cities
    me = log_in("leo").get("/api/me").json()
    assert me["username"] == "leo" and [c["slug"] for c in me["cities"]] == ["lakeside"]
    # A code matches the persona's stored authenticator and works once.
    from ridp.workspace.demo_programme import current_code

    code, valid = current_code("raj")
    secret = TotpDevice.objects.get(user__username="raj").secret
    assert pyotp.TOTP(secret).verify(code, valid_window=1) and 0 < valid <= 60


def test_codes_and_seeding_are_refused_outside_a_demo_workspace(db, home):
    from ridp.workspace.cities import add_city
    from ridp.workspace.demo_programme import current_code, is_demo_workspace, seed
    from ridp.workspace.people import add_member
    from ridp.workspace.store import init_workspace

    admin = init_workspace("admin")
    assert not is_demo_workspace()
    with pytest.raises(PermissionDeniedError, match="not a demo workspace"):
        current_code("ana")
    (home / "DEMO").write_text('{"password": "planted"}')  # the file alone does not make a demo
    with pytest.raises(PermissionDeniedError):
        current_code("ana")
    (home / "DEMO").unlink()
    # A real person who happens to share a persona's name never gets the demo password.
    real = add_member(admin, "ana", "coach", email="ana@springfield.gov").user
    with pytest.raises(WorkspaceError, match=r"only into a fresh workspace.*person ana"):
        seed(rows=400)
    add_city(admin, "Springfield")
    with pytest.raises(WorkspaceError, match="city springfield"):
        seed(rows=400)
    assert User.objects.get(pk=real.pk).password == real.password  # untouched
    assert not TotpDevice.objects.filter(user=real).exists()


@pytest.mark.slow  # the same seeding as above
def test_the_demo_has_a_living_programme_a_project_in_every_phase_with_history(seeded):
    from django.utils import timezone as django_timezone

    from ridp.workspace import charter, gates, meetings, project_team
    from ridp.workspace.models import AreaAssignment, CohortPhase, Meeting, PhaseChange, Project

    today = django_timezone.localdate()
    projects = {p.title: p for p in Project.objects.select_related("city")}
    assert {p.phase for p in projects.values()} == {"scoping", "analysis", "testing", "closeout"}
    testing = CohortPhase.objects.get(cohort__name="2026", key="testing")
    assert testing.starts_on <= today <= testing.ends_on  # the calendar is alive today

    potholes = projects["Faster pothole repair"]
    assert potholes.phase == "testing" and potholes.decision == "accept"
    assert charter.signature_status(potholes).signed and project_team.team_problems(potholes) == []
    assert potholes.ratings.count() == 5 and potholes.comments.exists()
    held = potholes.meetings.filter(status=Meeting.Status.HELD)
    assert held.filter(kind="weekly_analysis").count() >= 10 and held.filter(kind="monthly_action").exists()
    assert held.first().attendees.count() == 4
    assert len(meetings.overdue_follow_ups(potholes, today)) == 1
    assert potholes.follow_ups.filter(status="done").count() >= 10
    assert potholes.meetings.filter(status=Meeting.Status.PLANNED, starts_at__gt=django_timezone.now()).exists()
    moves = PhaseChange.objects.filter(project=potholes).order_by("at")
    assert [(m.from_phase, m.to_phase) for m in moves] == [("scoping", "analysis"), ("analysis", "testing")]
    assert all(m.override_reason and m.missing for m in moves)  # the coach overrode what cannot be checked yet

    # the analysis period: the success metric's baseline from the data, the runs, a briefing the coach blessed
    from ridp.workspace.models import MetricSpecVersion

    assert gates.REGISTRY["briefing_blessed"].check(potholes).met
    assert gates.REGISTRY["success_metric_set"].check(potholes).met
    baseline = MetricSpecVersion.objects.filter(project=potholes, name="pothole_days").latest("number")
    assert baseline.baseline_from is not None and baseline.spec["baseline"]["value"] > 0
    assert potholes.analysis_runs.filter(status="done").count() == 4  # types, areas; hot spots, service gaps
    from ridp.demo._catalog import SERVICE_TYPES
    from ridp.workspace.demo_projects import DEMO_TARGETS

    assert set(DEMO_TARGETS) <= {s.name for s in SERVICE_TYPES}  # every target names a type of the demo city
    area_run = potholes.analysis_runs.get(kind="service_levels", params__by=["area_id"])
    assert any(r.get("residents") for r in area_run.result["rows"])  # the residents behind every area's figures
    blessed, places_week = potholes.briefings.order_by("id")
    assert [f.title for f in blessed.findings.all()] == ["The slowest request types", "The slowest areas"]
    # the places: the requests assigned to the 40 neighbourhoods once, hot spots over all 40 (400 requests here:
    # too few to find the planted ones, which tests/analysis/test_hotspots_maps.py does)
    assert [f.title for f in places_week.findings.all()] == [
        "Hot spots of requests per resident", "The worst-served neighbourhoods"
    ] and places_week.blessed_at is None  # fmt: skip
    hot = potholes.analysis_runs.get(kind="hot_spots").result
    assert len(hot["rows"]) == 40 and "Benjamini" in hot["method"]
    assert AreaAssignment.objects.filter(dataset_version__dataset__name="service_requests").count() == 1

    bulky = projects["Bulky-item pickup waits"]
    assert bulky.decision == "off_ramp" and bulky.other_help and bulky.phase == "scoping"

    lead = projects["Lead service line outreach"]
    status = meetings.cadence_status(lead, today)
    assert lead.phase == "analysis" and status.missed >= 3 and len(meetings.overdue_follow_ups(lead, today)) == 2

    shelter = projects["Shelter bed availability"]
    signature = charter.signature_status(shelter)
    assert not signature.signed and signature.invalidated  # signed, then edited
    assert "no subject-matter expert on the team" in project_team.team_problems(shelter)
    assert not gates.gate_of(shelter).passed

    assert projects["Snow-plough routing"].phase == "closeout"
