"""Web fixtures: a programme with two cities and a persona for every role.

Springfield (``alpha``) is "our" city; Shelbyville (``beta``) is the other one,
planted with canary values that no Springfield persona may ever see. Every
persona has the password :data:`PASSWORD`; everyone but the viewer has an
authenticator with a known secret (:func:`code_for`).

Tests here run on SQLite and again on PostgreSQL (the ``store`` marker).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from django.conf import settings as django_settings
from django.test import Client

PASSWORD = "correct horse battery staple 7"
CANARY = "CANARY-7Q4Z"  # planted in Shelbyville's rows, names and texts
CITY_ROLES = ("senior_leader", "data_analyst", "subject_matter_expert", "viewer")
#: persona -> (role, city slug or None for programme-wide)
PERSONAS: dict[str, tuple[str, str | None]] = {
    "admin": ("programme_admin", None),
    "coach": ("coach", "springfield"),
    "panalyst": ("programme_analyst", "springfield"),
    "leader": ("senior_leader", "springfield"),
    "analyst": ("data_analyst", "springfield"),
    "expert": ("subject_matter_expert", "springfield"),
    "viewer": ("viewer", "springfield"),
    "b_leader": ("senior_leader", "shelbyville"),
    "b_analyst": ("data_analyst", "shelbyville"),
}
SPRINGFIELD_CSV = (
    "request_id,created_at,closed_at,type,ward,resident_name\n"
    "1,2025-01-03 10:00,2025-01-04 09:00,pothole,1,Alice Example\n"
    "2,2025-01-05 11:30,,graffiti,2,Bob Example\n"
    "3,2025-02-01 08:15,2025-02-03 17:00,streetlight,1,Carol Example\n"
)
SHELBYVILLE_CSV = (
    "request_id,created_at,closed_at,type,ward,resident_name\n"
    f"1,2025-01-03 10:00,2025-01-04 09:00,{CANARY}-type,9,{CANARY} Resident\n"
    f"2,2025-01-06 12:00,,{CANARY}-other,8,{CANARY} Neighbour\n"
)


# Django's settings load (pytest-django) before any test workspace exists, so there is
# no workspace key file to read: the tests' own strong key stands in for it.
django_settings.SECRET_KEY = "test-" + "k3y-" * 20


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/web" in str(item.fspath):
            item.add_marker(pytest.mark.store)


def totp_secret(username: str) -> str:
    """A fixed base32 secret per persona, so tests can compute codes."""
    import base64

    return base64.b32encode(f"ridp-test-{username}".ljust(20, "x")[:20].encode()).decode()


_used_steps: dict[str, int] = {}


def code_for(username: str) -> str:
    """A fresh TOTP code for ``username`` (each code is accepted once; this picks the next unused step)."""
    totp = pyotp.TOTP(totp_secret(username))
    step = max(int(time.time()) // 30 - 1, _used_steps.get(username, 0) + 1)
    if step > int(time.time()) // 30 + 1:
        raise RuntimeError(f"no unused TOTP step left for {username}; wait 30 s")
    _used_steps[username] = step
    return totp.at(step * 30)


@dataclass
class World:
    users: dict[str, Any]
    springfield: Any
    shelbyville: Any
    datasets: dict[str, Any] = field(default_factory=dict)  # "a" / "b" -> Dataset
    agreements: dict[str, Any] = field(default_factory=dict)  # "a" / "b" -> Agreement (active)
    drafts: dict[str, Any] = field(default_factory=dict)  # "a" / "b" -> Agreement (draft)
    invitations: dict[str, Any] = field(default_factory=dict)
    invitation_tokens: dict[str, str] = field(default_factory=dict)  # "a" / "b" -> raw token of the link
    tokens: dict[str, str] = field(default_factory=dict)  # persona -> raw API token
    uploads: dict[str, Any] = field(default_factory=dict)
    memberships: dict[str, Any] = field(default_factory=dict)
    # the programme (issue 5): "a" / "b" -> the object in Springfield / Shelbyville
    cohorts: dict[str, Any] = field(default_factory=dict)
    projects: dict[str, Any] = field(default_factory=dict)
    charters: dict[str, Any] = field(default_factory=dict)  # CharterVersion 1
    sign_offs: dict[str, Any] = field(default_factory=dict)
    project_members: dict[str, Any] = field(default_factory=dict)
    meetings: dict[str, Any] = field(default_factory=dict)  # a held meeting
    follow_ups: dict[str, Any] = field(default_factory=dict)  # an open follow-up from it
    comments: dict[str, Any] = field(default_factory=dict)  # a comment on the charter
    # --- readiness (issue 6) ---
    readiness_runs: dict[str, Any] = field(default_factory=dict)  # a finished readiness run of the dataset
    # --- analysis (issue 7) ---
    analysis_runs: dict[str, Any] = field(default_factory=dict)  # a queued service-levels run of the project
    briefings: dict[str, Any] = field(default_factory=dict)  # a briefing of the project, not blessed
    # --- pilots (issue 9) ---
    pilots: dict[str, Any] = field(default_factory=dict)  # a pilot of the project, its plan frozen
    randomisations: dict[str, Any] = field(default_factory=dict)  # its units (the requests) randomised, unconfirmed
    estimates: dict[str, Any] = field(default_factory=dict)  # an estimate recorded straight in the store
    # --- the adoption decision (issue 10) ---
    decisions: dict[str, Any] = field(default_factory=dict)  # the leader's decision on that estimate


@pytest.fixture(autouse=True)
def _fast_web(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "ENQUEUE_ON_COMMIT": False}
    }


_PARSED: dict[tuple[str, str], tuple[bytes, Any]] = {}


@contextlib.contextmanager
def _parse_once_per_session() -> Iterator[None]:
    """Every world holds the same two small files: parse each once per test session (in the real,
    limited child process), then reuse its Parquet bytes. Tests of ingest itself never use this."""
    from ridp.workspace import datasets

    real = datasets.parse_file

    def cached(source: Path, target: Path, **options: Any) -> Any:
        key = (
            hashlib.sha256(Path(source).read_bytes()).hexdigest(),
            repr(sorted((k, repr(v)) for k, v in options.items() if k not in ("progress", "should_stop"))),
        )
        if key not in _PARSED:
            outcome = real(source, target, **options)
            if outcome is None:
                return None
            _PARSED[key] = (Path(target).read_bytes(), outcome)
        data, outcome = _PARSED[key]
        Path(target).write_bytes(data)
        return outcome

    datasets.parse_file = cached  # type: ignore[assignment]
    try:
        yield
    finally:
        datasets.parse_file = real


def build_world(tmp: Path) -> World:
    """The programme, both cities, every persona (with authenticators), data, agreements and tokens."""
    with _parse_once_per_session():
        return _build_world(tmp)


def _build_world(tmp: Path) -> World:
    from django.utils import timezone as django_timezone

    from ridp.workspace import agreements, classify, datasets, invitations, tokens, uploads
    from ridp.workspace.cities import add_city
    from ridp.workspace.models import City, Membership, TotpDevice
    from ridp.workspace.people import add_member
    from ridp.workspace.store import init_workspace

    admin = init_workspace("admin", email="admin@programme.org")
    add_city(admin, "Springfield", timezone="America/Chicago")
    add_city(admin, "Shelbyville", timezone="America/Chicago")
    spring, shelby = City.objects.get(slug="springfield"), City.objects.get(slug="shelbyville")
    users: dict[str, Any] = {"admin": admin}
    memberships: dict[str, Any] = {}
    for name, (role, slug) in PERSONAS.items():
        if name == "admin":
            continue
        city = spring if slug == "springfield" else shelby
        m = add_member(admin, name, role, city=city, email=f"{name}@{city.slug}.gov")
        users[name] = m.user
        memberships[name] = m
    for name, user in users.items():
        user.set_password(PASSWORD)
        user.email = user.email or f"{name}@example.org"
        user.save()
        if name != "viewer":
            TotpDevice.objects.create(user=user, secret=totp_secret(name), confirmed_at=django_timezone.now())
    world = World(users=users, springfield=spring, shelbyville=shelby, memberships=memberships)
    for key, slug, text, who in (
        ("a", "springfield", SPRINGFIELD_CSV, "analyst"),
        ("b", "shelbyville", SHELBYVILLE_CSV, "b_analyst"),
    ):
        path = tmp / f"{slug}-requests.csv"
        path.write_text(text)
        datasets.add_file(users[who], path, city=slug, name="requests")
        ds = datasets.get_dataset(users[who], slug, "requests")
        description = f"{CANARY} internal notes" if key == "b" else "Service requests"
        classify.classify_dataset(users[who], slug, "requests", set_columns={"resident_name": "personal"}, accept=True)
        datasets.record_inventory(users[who], slug, "requests", description=description, needs_agreement=True)
        world.datasets[key] = datasets.get_dataset(users[who], slug, "requests")
        leader = users["leader" if key == "a" else "b_leader"]
        title = f"{CANARY} agreement" if key == "b" else "Requests sharing"
        active = agreements.add_agreement(
            leader, slug, title=title, parties="City and programme", purpose="Resident impact analysis",
            datasets={"requests": []}, starts_on=date.today() - timedelta(days=10),
            expires_on=date.today() + timedelta(days=30), personal_roles=["data_analyst"],
        )  # fmt: skip
        agreements.submit_for_review(leader, slug, active.pk)
        pdf = tmp / f"{slug}-signed.pdf"
        pdf.write_bytes(b"%PDF-1.4\n% test document\n")
        agreements.sign(
            leader, slug, active.pk,
            signatories=[agreements.Signatory(name="Pat Mayor", role="mayor", signed_on=date.today())], document=pdf,
        )  # fmt: skip
        agreements.activate(leader, slug, active.pk)
        world.agreements[key] = active
        world.drafts[key] = agreements.add_agreement(
            leader, slug, title=title + " (renewal)", parties="City and programme", purpose="Renewal",
            datasets={"requests": []}, starts_on=date.today(), expires_on=date.today() + timedelta(days=400),
        )  # fmt: skip
        invitation, raw = invitations.invite(leader, city=slug, role="viewer", email=f"new-{key}@{slug}.gov")
        world.invitations[key] = invitation
        world.invitation_tokens[key] = raw
        # A finished upload of the same file (its bytes are a version already: the ingest says "unchanged").
        staged = io.BytesIO(text.encode())
        upload = uploads.start(
            users[who], slug, name="requests", source_name=f"{slug}.csv", stream=staged, enqueue=lambda _id: ""
        )
        world.uploads[key] = uploads.run(upload.pk)
        del ds
    for name in ("analyst", "viewer", "b_analyst", "admin"):
        _, raw = tokens.create(users[name], f"{name} script")
        world.tokens[name] = raw
    _add_projects(world)
    _add_readiness(world)  # --- readiness (issue 6) ---
    _add_analysis(world)  # --- analysis (issue 7) ---
    _add_pilots(world)  # --- pilots (issue 9) ---
    _add_decisions(world)  # --- the adoption decision (issue 10) ---
    Membership.objects.all()  # memberships are read fresh per request
    return world


def _add_projects(world: World) -> None:
    """A project in each city, made straight in the store (the workspace functions have their own tests):
    its cohort, charter version 1 with a team sign-off, a team member, a held meeting with an open follow-up,
    and a comment on the charter. Shelbyville's texts carry the canary."""
    from django.utils import timezone as django_timezone

    from ridp.workspace import cohorts
    from ridp.workspace.models import (
        CharterVersion,
        Cohort,
        Comment,
        FollowUp,
        Meeting,
        Project,
        ProjectMember,
        SignOff,
    )  # fmt: skip

    now = django_timezone.now()
    for key, city, leader, analyst in (
        ("a", world.springfield, "leader", "analyst"),
        ("b", world.shelbyville, "b_leader", "b_analyst"),
    ):
        mark = f"{CANARY} " if key == "b" else ""
        cohort = Cohort.objects.create(programme=city.programme, name=f"Cohort {now.year} {key}", year=now.year)
        # The calendar moves with today, so "where the calendar is now" never depends on the day the tests run:
        # scoping and analysis are over, testing & action is under way, close-out is to come.
        today = now.date()
        for phase, (start, end) in zip(
            cohorts.phases(cohort), ((-230, -181), (-180, -91), (-90, 30), (31, 61)), strict=True
        ):
            phase.starts_on, phase.ends_on = today + timedelta(days=start), today + timedelta(days=end)
            phase.save(update_fields=["starts_on", "ends_on"])
        city.cohort = cohort
        city.save(update_fields=["cohort"])
        project = Project.objects.create(
            city=city, cohort=cohort, title=f"{mark}Faster pothole repair", problem=f"{mark}Potholes wait weeks",
            why_it_matters="Residents trip and cars break", service_change="Repair crews routed by risk",
            created_by=world.users[leader],
        )  # fmt: skip
        charter = CharterVersion.objects.create(
            project=project, number=1, created_by=world.users[leader],
            fields={"title": project.title, "department": "Public Works", "problem_statement": f"{mark}Potholes"},
        )  # fmt: skip
        world.cohorts[key] = cohort
        world.projects[key] = project
        world.charters[key] = charter
        world.sign_offs[key] = SignOff.objects.create(
            version=charter, kind="team", name=f"{mark}Pat Team", role="analyst", signed_on=now.date(),
            recorded_by=world.users[leader],
        )  # fmt: skip
        world.project_members[key] = ProjectMember.objects.create(
            project=project, user=world.users[analyst], role="data_analyst"
        )
        meeting = Meeting.objects.create(
            project=project, kind="kickoff", phase="scoping", starts_at=now, status="held",
            goal=f"{mark}Agree the problem", recorded_by=world.users[leader],
        )  # fmt: skip
        world.meetings[key] = meeting
        world.follow_ups[key] = FollowUp.objects.create(
            project=project, meeting=meeting, text=f"{mark}Send the repair log", owner=world.users[analyst],
            due_on=now.date(),
        )  # fmt: skip
        world.comments[key] = Comment.objects.create(
            project=project, target="charter", author=world.users[leader], body=f"{mark}Looks right"
        )


@pytest.fixture
def world(db: None, home: Path, tmp_path: Path) -> World:
    return build_world(tmp_path)


def sign_in(client: Client, user: Any, *, verified: bool = True) -> Client:
    """Log ``user`` in on ``client`` as the login page would (session stamps included), second factor passed."""
    from ridp.web.middleware import EPOCH, LOGIN_AT, SEEN_AT, VERIFIED

    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    now = time.time()
    session[LOGIN_AT] = now
    session[SEEN_AT] = now
    session[EPOCH] = user.session_epoch
    session[VERIFIED] = verified
    session.save()
    return client


@pytest.fixture
def as_persona(world: World):
    """``as_persona("analyst")`` -> a logged-in test client (CSRF checks on)."""

    def make(name: str, *, verified: bool = True) -> Client:
        return sign_in(Client(enforce_csrf_checks=True), world.users[name], verified=verified)

    return make


def csrf_post(client: Client, url: str, data: dict[str, Any] | None = None, **extra: Any):
    """POST with the CSRF token the page would carry."""
    client.get("/login/")  # its form sets the csrftoken cookie
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    return client.post(url, data or {}, HTTP_X_CSRFTOKEN=token, **extra)


# --- readiness (issue 6) ---
@contextlib.contextmanager
def _versions_in_memory() -> Iterator[None]:
    """The world's readiness runs read each (tiny) version as an in-memory table of the same rows and types,
    instead of opening the city's DuckDB file (which loads the spatial extension: about 0.7 s a city, in every
    world). The request, the run, its saved result and audit are the workspace's own; tests of a run use the
    real engine."""
    import ibis
    import pyarrow.parquet as pq

    from ridp.workspace import readiness
    from ridp.workspace.datasets import get_dataset
    from ridp.workspace.store import home

    real = readiness.open_table

    def in_memory(actor: Any, city: str, name: str, *, version: int | None = None, **options: Any) -> Any:
        # the world's analysts are named by their city's agreement: no column is masked for them
        dataset = get_dataset(actor, city, name)
        chosen = dataset.versions.get(number=version) if version else dataset.current_version
        return ibis.memtable(pq.read_table(home() / chosen.file))

    readiness.open_table = in_memory  # type: ignore[assignment]
    try:
        yield
    finally:
        readiness.open_table = real


def _add_readiness(world: World) -> None:
    """A finished readiness run of each city's dataset (Shelbyville's result holds the canary)."""
    from ridp.workspace.readiness import assess_now

    with _versions_in_memory():
        for key, slug, who in (("a", "springfield", "analyst"), ("b", "shelbyville", "b_analyst")):
            world.readiness_runs[key], _ = assess_now(world.users[who], slug, "requests")


# --- analysis (issue 7) ---
def _add_analysis(world: World) -> None:
    """A queued analysis run (never computed: nothing to open) and a briefing of each city's project."""
    from ridp.workspace import analysis

    for key, slug, who in (("a", "springfield", "analyst"), ("b", "shelbyville", "b_analyst")):
        project = world.projects[key].pk
        world.analysis_runs[key] = analysis.request(
            world.users[who], slug, project, "requests", "service_levels", {}, enqueue=lambda _id: ""
        )
        world.briefings[key] = analysis.create_briefing(world.users[who], slug, project, "Week 1 findings")


# --- pilots (issue 9) ---
WORLD_PLAN = {
    "title": "Matrix pilot", "questions": ["Does it work?"], "hypotheses": ["It works"], "treatment": "ward",
    "treated": 1, "estimator": "difference_in_means", "alpha": 0.05, "primary": {"column": "request_id", "label": "Request number"},
}  # fmt: skip


def _add_pilots(world: World) -> None:
    """A pilot of each city's project: the requests randomised (by the analyst, not confirmed), a frozen plan,
    the requests linked as its outcome data and an estimate recorded straight in the store (the matrix asks who
    may read and act on them; the numbers are computed in the pilot tests)."""
    from django.utils import timezone as django_timezone

    from ridp.evaluation.estimators import Estimate
    from ridp.evaluation.evaluate import Evaluation
    from ridp.evaluation.plan import AnalysisPlan
    from ridp.workspace import pilots
    from ridp.workspace.models import Pilot, PilotEstimate, PlanRecord

    plan = AnalysisPlan.from_dict(WORLD_PLAN)
    estimate = Estimate(
        outcome="request_id", treatment="ward", estimator="difference_in_means", se_type="HC2", effect=1.0, se=0.5,
        ci_low=0.0, ci_high=2.0, p_value=0.05, n=3, n_treated=2, n_clusters=None, df=1.0, alpha=0.05,
        control_mean=2.0, treated_mean=3.0, covariates=(), cluster=None, spec={},
    )  # fmt: skip
    result = Evaluation(plan_sha256=plan.sha256, estimates=(estimate,), residents=(None,), correction="holm")
    real = pilots.open_table
    pilots.open_table = _in_memory  # type: ignore[assignment]
    try:
        for key, slug, who in (("a", "springfield", "analyst"), ("b", "shelbyville", "b_analyst")):
            user, project = world.users[who], world.projects[key].pk
            pilot = pilots.create_pilot(user, slug, project, "matrix-pilot", "Matrix pilot")
            world.randomisations[key] = pilots.randomise(user, slug, project, pilot.name, units="requests",
                                                         unit="request_id", seed=1)  # fmt: skip
            now = django_timezone.now()
            PlanRecord.objects.create(pilot=pilot, spec=plan.to_dict(), sha256=plan.sha256, frozen_at=now,
                                      frozen_by=user, updated_by=user)  # fmt: skip
            Pilot.objects.filter(pk=pilot.pk).update(outcome_dataset=world.datasets[key], outcomes_linked_at=now)
            world.pilots[key] = Pilot.objects.get(pk=pilot.pk)
            world.estimates[key] = PilotEstimate.objects.create(
                pilot=pilot, outcome_version=world.datasets[key].current_version, plan_sha256=plan.sha256,
                result=result.to_dict(), created_by=user,
            )  # fmt: skip
    finally:
        pilots.open_table = real  # type: ignore[assignment]


def _in_memory(actor: Any, city: str, name: str, *, version: int | None = None, **options: Any) -> Any:
    """A version as an in-memory table of its rows (as in :func:`_versions_in_memory`)."""
    import ibis
    import pyarrow.parquet as pq

    from ridp.workspace.datasets import get_dataset
    from ridp.workspace.store import home

    dataset = get_dataset(actor, city, name)
    chosen = dataset.versions.get(number=version) if version else dataset.current_version
    return ibis.memtable(pq.read_table(home() / chosen.file))


# --- the adoption decision (issue 10) ---
def _add_decisions(world: World) -> None:
    """The senior leader's adoption decision on each city's recorded estimate (Shelbyville's reason holds the
    canary), made straight in the store."""
    from ridp.workspace.models import AdoptionDecision

    for key, leader in (("a", "leader"), ("b", "b_leader")):
        mark = f"{CANARY} " if key == "b" else ""
        world.decisions[key] = AdoptionDecision.objects.create(
            project=world.projects[key], estimate=world.estimates[key], decision="adapt",
            reason=f"{mark}Promising; the crews' routes change first.", decided_by=world.users[leader],
        )  # fmt: skip
