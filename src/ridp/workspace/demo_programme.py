"""The demo programme: three cities of the 2026 cohort, their teams, agreements in every state, demo logins.

:func:`seed` fills a workspace made by ``ridp init`` (and, if it was already
ingested, the demo city of ``ridp demo city``) with a programme a person can
click through:

* **Demo City** (``demo``) with the synthetic demo city's service requests and
  population; its column classes confirmed (``address``, ``latitude`` and
  ``longitude`` are personal, as the PII suggester says) and its mapping to the
  canonical schema confirmed;
* **Riverton** (``riverton``) and **Lakeside** (``lakeside``), each with a
  small export of its own in its own layout, written deterministically here;
* a team per city (senior leader, data analyst, subject-matter expert, viewer),
  coaches (one covers two cities), a programme analyst and a programme admin;
* agreements in every state: draft, legal review, signed, active, expired and
  terminated;
* projects in every phase, with charters, criteria ratings, teams, meeting
  histories and follow-ups (:mod:`ridp.workspace.demo_projects`).

Every persona logs in with one shared demo password (random, returned by
:func:`seed`); everyone who needs two factors has an authenticator already
set up, whose current code :func:`current_code` gives (``ridp demo code ana``).

A demo workspace is marked twice, by the programme's name and by the file
``RIDP_HOME/DEMO`` (mode 600, holding the demo password): :func:`current_code`
refuses anywhere else, so it is never a backdoor into a real workspace, and
:func:`seed` refuses a workspace that holds cities or people of its own.

Examples
--------
``ridp init && ridp demo programme`` then ``ridp serve``; log in as ``ana``
with the printed password and the code of ``ridp demo code ana``.
"""

from __future__ import annotations

import csv
import json
import os
import random
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final

import pyotp
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone as django_timezone

from ridp.errors import NotFoundError, PermissionDeniedError, WorkspaceError
from ridp.workspace import agreements, audit, classify, datasets, mapping
from ridp.workspace.access import needs_two_factor
from ridp.workspace.cities import add_city
from ridp.workspace.models import Agreement, City, Dataset, Membership, Programme, Role, TotpDevice, User
from ridp.workspace.people import add_member
from ridp.workspace.store import home, is_initialised

__all__ = [
    "CITIES",
    "COHORT",
    "DEMO_PROGRAMME",
    "MARKER",
    "PERSONAS",
    "DemoCity",
    "DemoLogin",
    "Persona",
    "Seeded",
    "current_code",
    "demo_password",
    "is_demo_workspace",
    "logins",
    "otpauth_uri",
    "seed",
]

DEMO_PROGRAMME: Final = "Resident Impact Data Programme (demo)"
MARKER: Final = "DEMO"
COHORT: Final = "2026"
ISSUER: Final = "ridp demo"
DEMO_EMAIL_DOMAIN: Final = "demo.example.org"


@dataclass(frozen=True)
class DemoCity:
    slug: str
    name: str
    timezone: str


@dataclass(frozen=True)
class Persona:
    """A demo login: its username is the persona, e.g. ``ana`` the data analyst of Demo City."""

    username: str
    full_name: str
    role: Role
    cities: tuple[str, ...]  # () for the programme admin, who holds every city


CITIES: Final[tuple[DemoCity, ...]] = (
    DemoCity("demo", "Demo City", "America/New_York"),
    DemoCity("riverton", "Riverton", "America/Chicago"),
    DemoCity("lakeside", "Lakeside", "America/Denver"),
)

PERSONAS: Final[tuple[Persona, ...]] = (
    Persona("pat", "Pat Okafor", Role.PROGRAMME_ADMIN, ()),
    Persona("cole", "Cole Brennan", Role.COACH, ("demo", "riverton")),
    Persona("cleo", "Cleo Marsh", Role.COACH, ("lakeside",)),
    Persona("priya", "Priya Raman", Role.PROGRAMME_ANALYST, ("demo", "riverton", "lakeside")),
    Persona("sam", "Sam Ortega", Role.SENIOR_LEADER, ("demo",)),
    Persona("ana", "Ana Lima", Role.DATA_ANALYST, ("demo",)),
    Persona("eli", "Eli Novak", Role.SUBJECT_MATTER_EXPERT, ("demo",)),
    Persona("vic", "Vic Tran", Role.VIEWER, ("demo",)),
    Persona("rosa", "Rosa Delgado", Role.SENIOR_LEADER, ("riverton",)),
    Persona("raj", "Raj Mehta", Role.DATA_ANALYST, ("riverton",)),
    Persona("ruth", "Ruth Adeyemi", Role.SUBJECT_MATTER_EXPERT, ("riverton",)),
    Persona("rex", "Rex Holm", Role.VIEWER, ("riverton",)),
    Persona("lena", "Lena Sorensen", Role.SENIOR_LEADER, ("lakeside",)),
    Persona("leo", "Leo Park", Role.DATA_ANALYST, ("lakeside",)),
    Persona("lily", "Lily Chen", Role.SUBJECT_MATTER_EXPERT, ("lakeside",)),
    Persona("luke", "Luke Varga", Role.VIEWER, ("lakeside",)),
)
_BY_NAME: Final = {p.username: p for p in PERSONAS}


@dataclass(frozen=True)
class DemoLogin:
    """One row of the logins table printed after seeding."""

    username: str
    full_name: str
    role: str  # e.g. "data analyst"
    cities: tuple[str, ...]  # slugs; ("all",) for the programme admin
    two_factor: bool


@dataclass(frozen=True)
class Seeded:
    """What :func:`seed` made: the shared demo password and the logins."""

    password: str
    logins: list[DemoLogin]
    cities: list[str]
    created: bool  # False when the workspace was a seeded demo already


Progress = Callable[[str], None]


def _marker() -> Path:
    return home() / MARKER


def is_demo_workspace() -> bool:
    """Whether this workspace is a seeded demo: the marker file and the programme's name agree."""
    programme = Programme.objects.order_by("id").first()
    return _marker().is_file() and programme is not None and programme.name == DEMO_PROGRAMME


def demo_password() -> str:
    """The shared password of the demo logins (demo workspaces only)."""
    _require_demo()
    data = json.loads(_marker().read_text())
    return str(data["password"])


def _require_demo() -> None:
    if not is_demo_workspace():
        raise PermissionDeniedError(
            f"the workspace at {home()} is not a demo workspace; demo logins and codes exist only in one",
            hint="seed a fresh one: RIDP_HOME=ridp-demo ridp init, then RIDP_HOME=ridp-demo ridp demo programme",
        )


def _persona_device(username: str) -> TotpDevice:
    _require_demo()
    if username not in _BY_NAME:
        raise NotFoundError(f"{username!r} is not a demo persona", hint="one of " + ", ".join(_BY_NAME))
    device = TotpDevice.objects.filter(user__username=username, confirmed_at__isnull=False).first()
    if device is None:
        raise NotFoundError(f"{username} logs in with the password alone (a viewer needs no second factor)")
    return device


def current_code(username: str) -> tuple[str, int]:
    """The next 6-digit code a demo persona's authenticator shows, and the seconds it stays valid.

    A code is accepted once: when this step's code was used, the next step's
    is given (the login accepts one step ahead).
    """
    device = _persona_device(username)
    totp = pyotp.TOTP(device.secret)
    now = time.time()
    step = int(now) // totp.interval
    if step <= device.last_used_step:
        step = device.last_used_step + 1
    valid = max(1, int((step + 1) * totp.interval - now))
    return totp.at(step * totp.interval), valid


def otpauth_uri(username: str) -> str:
    """The ``otpauth://`` link of a demo persona's authenticator (to add it to a phone app)."""
    device = _persona_device(username)
    return pyotp.TOTP(device.secret, issuer=ISSUER).provisioning_uri(name=username)


def logins() -> list[DemoLogin]:
    """The demo logins: persona, role, cities and whether a second factor is asked."""
    rows = []
    users = {u.username: u for u in User.objects.filter(username__in=list(_BY_NAME))}
    for persona in PERSONAS:
        user = users.get(persona.username)
        if user is None:
            continue
        rows.append(
            DemoLogin(
                username=persona.username,
                full_name=persona.full_name,
                role=persona.role.label,
                cities=persona.cities or ("all",),
                two_factor=needs_two_factor(user),
            )
        )
    return rows


def _guard_fresh() -> None:
    """Refuse a workspace with cities or people of its own: demo logins there would be a backdoor."""
    if not is_initialised():
        raise WorkspaceError(f"no ridp workspace at {home()}", hint="run `ridp init` first")
    slugs = {c.slug for c in CITIES}
    others = sorted(City.objects.exclude(slug__in=slugs).values_list("slug", flat=True))
    admins = Membership.objects.filter(role=Role.PROGRAMME_ADMIN).values_list("user_id", flat=True)
    # Anyone but the programme admins and the personas of an earlier, unfinished seeding (their demo e-mail).
    demo_personas = User.objects.filter(username__in=list(_BY_NAME), email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
    people = sorted(
        User.objects.exclude(pk__in=list(admins))
        .exclude(pk__in=list(demo_personas.values_list("pk", flat=True)))
        .values_list("username", flat=True)
    )
    if others or people:
        found = ", ".join([*(f"city {s}" for s in others), *(f"person {p}" for p in people)][:5])
        raise WorkspaceError(
            f"the demo programme goes only into a fresh workspace; {home()} holds {found}",
            hint="point RIDP_HOME at a new folder and run `ridp init` first",
        )


def seed(
    *,
    rows: int = 20_000,
    city_dir: Path | None = None,
    password: str | None = None,
    progress: Progress | None = None,
) -> Seeded:
    """Seed the demo programme into the current workspace (made by ``ridp init``).

    Parameters
    ----------
    rows
        Service requests of Demo City, generated when the city has no data yet.
    city_dir
        A folder written by ``ridp demo city`` to ingest instead of generating one.
    password
        The shared demo password (default: a new random one).

    Seeding a seeded demo changes nothing and returns its logins again; a
    seeding that stopped half-way picks up where it stopped.
    """
    say = progress or (lambda message: None)
    if is_demo_workspace():
        return Seeded(demo_password(), logins(), [c.slug for c in CITIES], created=False)
    _guard_fresh()
    admin = User.objects.filter(memberships__role=Role.PROGRAMME_ADMIN, is_active=True).order_by("id").first()
    if admin is None:
        raise WorkspaceError("this workspace has no programme admin", hint="run `ridp init`")
    secret = password or _new_password()
    say("cities of cohort 2026")
    _cities(admin)
    say(f"{len(PERSONAS)} people, their roles and authenticators")
    users = _people(admin, secret)
    with tempfile.TemporaryDirectory(prefix="ridp-demo-") as tmp:
        work = Path(tmp)
        say("Demo City's data")
        _demo_city_data(users, work, rows=rows, city_dir=city_dir)
        say("Riverton's and Lakeside's data")
        _small_city_data(users, work)
        say("column classes and the mapping")
        _classes_and_mapping(users)
        say("inventory records")
        _inventory(users)
        say("agreements: draft, legal review, signed, active, expired, terminated")
        _agreements(users, work)
    say("projects in every phase, with their charters, teams, meetings and follow-ups")
    _projects(users)
    with transaction.atomic():
        Programme.objects.filter(pk=City.objects.get(slug="demo").programme_id).update(name=DEMO_PROGRAMME)
        audit.record("demo.seeded", actor=admin, cities=len(CITIES), people=len(PERSONAS))
    _write_marker(secret)
    return Seeded(secret, logins(), [c.slug for c in CITIES], created=True)


def _projects(users: dict[str, User]) -> None:
    """The demo projects, all or none (a seeding that stopped before them makes them next time)."""
    from ridp.workspace.demo_pilot import seed_pilot
    from ridp.workspace.demo_projects import seed_analysis, seed_places, seed_projects
    from ridp.workspace.models import Project

    if Project.objects.filter(city__slug__in=[c.slug for c in CITIES]).exists():
        return
    with transaction.atomic():
        seed_projects(users)
        seed_analysis(users)
        seed_places(users)
        seed_pilot(users)


def _new_password() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3)]
    return "demo-" + "-".join(groups)


def _write_marker(password: str) -> None:
    path = _marker()
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        payload = {"programme": DEMO_PROGRAMME, "password": password, "seeded_at": django_timezone.now().isoformat()}
        fh.write(json.dumps(payload, indent=2) + "\n")


def _cities(admin: User) -> None:
    for city in CITIES:
        if not City.objects.filter(slug=city.slug).exists():
            add_city(admin, city.name, slug=city.slug, timezone=city.timezone, cohort=COHORT)


def _people(admin: User, password: str) -> dict[str, User]:
    """Every persona with their roles, the shared password (hashed once) and, if needed, an authenticator."""
    cities = {c.slug: c for c in City.objects.filter(slug__in=[c.slug for c in CITIES])}
    hashed = make_password(password)
    users: dict[str, User] = {}
    for persona in PERSONAS:
        for slug in persona.cities or (None,):
            add_member(
                admin,
                persona.username,
                persona.role.value,
                city=cities[slug] if slug else None,
                email=f"{persona.username}@{DEMO_EMAIL_DOMAIN}",
            )
        user = User.objects.get(username=persona.username)
        user.first_name, user.last_name = persona.full_name.split(" ", 1)
        user.password = hashed
        user.save(update_fields=["first_name", "last_name", "password"])
        if needs_two_factor(user) and not TotpDevice.objects.filter(user=user).exists():
            TotpDevice.objects.create(user=user, secret=pyotp.random_base32(), confirmed_at=django_timezone.now())
        users[persona.username] = user
    return users


def _has_data(city: str, name: str) -> bool:
    return Dataset.objects.filter(city__slug=city, name=name, current_version__isnull=False).exists()


def _demo_city_data(users: dict[str, User], work: Path, *, rows: int, city_dir: Path | None) -> None:
    """Demo City's requests, population and neighbourhood boundaries: as ``make demo`` ingested them, else from
    ``city_dir`` or generated."""
    wanted = (
        ("service_requests", "service_requests.csv"),
        ("population", "population.csv"),
        ("neighbourhoods", "neighbourhoods.geojson"),
    )
    if all(_has_data("demo", name) for name, _ in wanted):
        return
    folder = city_dir
    if folder is None or not all((folder / file).is_file() for _, file in wanted):
        from ridp.demo import generate_city

        folder = work / "demo-city"
        generate_city(folder, rows=rows, seed=2026)
    for name, file in wanted:
        if not _has_data("demo", name):
            datasets.add_file(users["ana"], folder / file, city="demo", name=name)


def _small_city_data(users: dict[str, User], work: Path) -> None:
    if not _has_data("riverton", "service_requests"):
        path = work / "riverton-311.csv"
        _write_riverton(path)
        datasets.add_file(users["raj"], path, city="riverton", name="service_requests")
    if not _has_data("lakeside", "requests"):
        path = work / "lakeside-requests.csv"
        _write_lakeside(path)
        datasets.add_file(users["leo"], path, city="lakeside", name="requests")


_RIVERTON_TYPES: Final = (
    ("Pothole in Street", "Streets & Sanitation", 6),
    ("Street Light Out", "Transportation", 12),
    ("Graffiti Removal", "Streets & Sanitation", 4),
    ("Rodent Baiting", "Streets & Sanitation", 9),
    ("Abandoned Vehicle", "Police", 15),
    ("Tree Trim", "Forestry", 30),
    ("Sidewalk Repair", "Transportation", 45),
)
_RIVERTON_STREETS: Final = ("N Elm St", "W River Rd", "S Mill Ave", "E Lake St", "N Oak Park Ave", "W Canal St")


def _write_riverton(path: Path, rows: int = 600) -> None:
    """Riverton's 311 export: Chicago-style columns, a caller's phone on some rows (555-01xx: fictional)."""
    rng = random.Random(41)  # noqa: S311 (deterministic demo data, not a secret)
    start = datetime(2023, 1, 1)
    export = datetime(2025, 1, 1)
    records = []
    for i in range(rows):
        opened = start + timedelta(seconds=rng.randrange(int((export - start).total_seconds())))
        kind, department, median = rng.choice(_RIVERTON_TYPES)
        closed = opened + timedelta(days=rng.lognormvariate(0, 0.8) * median)
        is_open = closed >= export or rng.random() < 0.05
        phone = f"(815) 555-01{rng.randrange(100):02d}" if rng.random() < 0.3 else ""
        records.append(
            {
                "case_number": f"RIV-{opened:%Y}-{i + 1:06d}",
                "created_date": f"{opened:%Y-%m-%d %H:%M:%S}",
                "closed_date": "" if is_open else f"{closed:%Y-%m-%d %H:%M:%S}",
                "status": "Open" if is_open else "Completed",
                "request_type": kind,
                "department": department,
                "origin": rng.choice(("Phone Call", "Mobile App", "Internet", "Phone Call")),
                "ward": str(rng.randint(1, 12)),
                "street_address": f"{rng.randrange(100, 9900)} {rng.choice(_RIVERTON_STREETS)}",
                "caller_phone": phone,
                "latitude": f"{rng.uniform(41.50, 41.60):.6f}",
                "longitude": f"{rng.uniform(-88.12, -88.02):.6f}",
            }
        )
    records.sort(key=lambda r: r["created_date"])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)


_LAKESIDE_CATEGORIES: Final = ("Bins", "Road Repair", "Street Lighting", "Parks", "Noise", "Fly-tipping")
_LAKESIDE_DISTRICTS: Final = ("North Shore", "Harbour", "Old Town", "Pine Hill", "Eastgate")


def _write_lakeside(path: Path, rows: int = 400) -> None:
    """Lakeside's export: day-first dates, spaced column names, a contact e-mail on some rows."""
    rng = random.Random(73)  # noqa: S311 (deterministic demo data, not a secret)
    start = datetime(2024, 1, 1)
    export = datetime(2025, 1, 1)
    records = []
    for i in range(rows):
        opened = start + timedelta(seconds=rng.randrange(int((export - start).total_seconds())))
        resolved = opened + timedelta(hours=rng.lognormvariate(3.5, 1.0))
        email = f"resident{rng.randrange(1000):03d}@example.com" if rng.random() < 0.4 else ""
        records.append(
            {
                "Ticket ID": f"LK-{10001 + i}",
                "Date Received": f"{opened:%d/%m/%Y %H:%M}",
                "Date Resolved": "" if resolved >= export else f"{resolved:%d/%m/%Y %H:%M}",
                "Category": rng.choice(_LAKESIDE_CATEGORIES),
                "District": rng.choice(_LAKESIDE_DISTRICTS),
                "Contact Email": email,
                "_opened": opened,
            }
        )
    records.sort(key=lambda r: r["_opened"])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[k for k in records[0] if k != "_opened"], lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: v for k, v in r.items() if k != "_opened"} for r in records)


def _classes_and_mapping(users: dict[str, User]) -> None:
    """Demo City's and Riverton's classes confirmed (the suggestions), Demo City's mapping confirmed.

    Lakeside's are left for its analyst (``leo``) to do in the demo.
    """
    # The suggester reads population's neighbourhood "name" as a person's name: the analyst corrects it.
    for who, city, name, corrections in (
        ("ana", "demo", "service_requests", {}),
        ("ana", "demo", "population", {"name": "public"}),
        ("ana", "demo", "neighbourhoods", {"name": "public"}),
        ("raj", "riverton", "service_requests", {}),
    ):
        version = Dataset.objects.get(city__slug=city, name=name).current_version
        if version is not None and version.columns.filter(classification="").exists():
            classify.classify_dataset(users[who], city, name, set_columns=corrections, accept=True)
    current = mapping.current_mapping(users["ana"], "demo", "service_requests")
    if current is None or current.confirmed_by_id is None:
        mapping.map_dataset(users["ana"], "demo", "service_requests", accept=True)
    if mapping.current_mapping(users["raj"], "riverton", "service_requests") is None:
        mapping.propose(users["raj"], "riverton", "service_requests")


def _inventory(users: dict[str, User]) -> None:
    datasets.record_inventory(
        users["ana"], "demo", "service_requests",
        description="Every 311 service request since 2019: what, where, when opened and closed.",
        owner_department="311 Customer Service", steward="Ana Lima", source_system="CRM 311",
        update_frequency="daily", licence="city internal use", public="partial", sensitivity="moderate",
        sensitivity_reason="street addresses and exact locations of residents' requests",
        years_of_history=6, known_quality_issues="some duplicates, placeholder dates and swapped coordinates",
        needs_agreement=True,
    )  # fmt: skip
    datasets.record_inventory(
        users["ana"], "demo", "population",
        description="ACS 5-year estimates per neighbourhood, with 90% margins of error.",
        owner_department="Planning", steward="Ana Lima", source_system="US Census Bureau ACS",
        update_frequency="yearly", licence="public domain", public="yes", sensitivity="low", years_of_history=1,
    )  # fmt: skip
    datasets.record_inventory(
        users["ana"], "demo", "neighbourhoods",
        description="The 40 neighbourhoods' boundaries (polygons in longitude/latitude), as Planning draws them.",
        owner_department="Planning", steward="Ana Lima", source_system="City GIS", update_frequency="yearly",
        licence="public domain", public="yes", sensitivity="low", years_of_history=1,
    )  # fmt: skip
    datasets.record_inventory(
        users["raj"], "riverton", "service_requests",
        description="311 requests 2023-2024 from the city's CRM.", owner_department="Streets & Sanitation",
        steward="Raj Mehta", source_system="Riverton 311", update_frequency="weekly", public="no",
        sensitivity="moderate", sensitivity_reason="callers' phone numbers and addresses", years_of_history=2,
        needs_agreement=True,
    )  # fmt: skip
    datasets.record_inventory(
        users["leo"], "lakeside", "requests",
        description="Resident requests logged by the council's contact centre in 2024.",
        owner_department="Contact Centre", steward="Leo Park", source_system="CivicDesk", update_frequency="monthly",
        public="no", sensitivity="moderate", sensitivity_reason="residents' e-mail addresses", years_of_history=1,
        known_quality_issues="dates are day-first", needs_agreement=True,
    )  # fmt: skip
    datasets.record_inventory(
        users["lena"], "lakeside", "code_enforcement_cases",
        description="Housing code cases: listed in the inventory, not shared.", owner_department="Building Safety",
        public="no", sensitivity="high", sensitivity_reason="names of owners and tenants, health and safety findings",
        years_of_history=10, needs_agreement=True,
    )  # fmt: skip


_PARTIES: Final = "{city} and the Resident Impact Data Programme"


def _agreement(
    leader: User,
    city: str,
    title: str,
    *,
    covers: dict[str, list[str]],
    starts_on: date,
    expires_on: date,
    retention_days: int = 0,
    personal_roles: list[str] | None = None,
    personal_people: list[str] | None = None,
) -> Agreement | None:
    """Draft an agreement, unless one of that title exists (then ``None``: a resumed seeding)."""
    if Agreement.objects.filter(city__slug=city, title=title).exists():
        return None
    name = next(c.name for c in CITIES if c.slug == city)
    return agreements.add_agreement(
        leader, city, title=title, parties=_PARTIES.format(city=name),
        purpose="Measure how quickly and how fairly the city answers residents' service requests.",
        permitted_uses="analysis and aggregate reporting inside the programme; no re-identification",
        datasets=covers, starts_on=starts_on, expires_on=expires_on, retention_days=retention_days,
        personal_roles=personal_roles, personal_people=personal_people,
    )  # fmt: skip


def _signed(leader: User, city: str, agreement: Agreement, pdf: Path, who: str) -> None:
    agreements.submit_for_review(leader, city, agreement.pk)
    signatories = [
        agreements.Signatory(name=who, role="senior leader", signed_on=django_timezone.now().date()),
        agreements.Signatory(name="Pat Okafor", role="programme director", signed_on=django_timezone.now().date()),
    ]
    agreements.sign(leader, city, agreement.pk, signatories=signatories, document=pdf)


def _agreements(users: dict[str, User], work: Path) -> None:
    today = django_timezone.now().date()
    pdf = work / "signed-agreement.pdf"
    pdf.write_bytes(_pdf("Demo data-sharing agreement (a demo document, not a contract)"))
    sam, rosa, lena = users["sam"], users["rosa"], users["lena"]

    # Demo City: active (analysts and priya see personal columns), expired last year's pilot, a draft renewal.
    active = _agreement(
        sam, "demo", "Service requests and population",
        covers={"service_requests": [], "population": []}, starts_on=today - timedelta(days=60),
        expires_on=today + timedelta(days=365), retention_days=90, personal_roles=[Role.DATA_ANALYST.value],
        personal_people=["priya"],
    )  # fmt: skip
    if active is not None:
        _signed(sam, "demo", active, pdf, "Sam Ortega")
        agreements.activate(sam, "demo", active.pk)
    pilot = _agreement(
        sam, "demo", "311 pilot, first year", covers={"service_requests": ["service_request_id", "service_name"]},
        starts_on=today - timedelta(days=30), expires_on=today + timedelta(days=1), retention_days=365,
    )  # fmt: skip
    if pilot is not None:
        _signed(sam, "demo", pilot, pdf, "Sam Ortega")
        agreements.activate(sam, "demo", pilot.pk)
        # The pilot ran last year: its dates are moved back and the daily sweep expires it.
        Agreement.objects.filter(pk=pilot.pk).update(
            starts_on=today - timedelta(days=400), expires_on=today - timedelta(days=35)
        )
        agreements.enforce()
    _agreement(
        sam, "demo", "Service requests renewal", covers={"service_requests": []},
        starts_on=today + timedelta(days=300), expires_on=today + timedelta(days=730),
        personal_roles=[Role.DATA_ANALYST.value],
    )  # fmt: skip

    # Riverton: one agreement with the city's lawyers, one signed that starts next month.
    review = _agreement(
        rosa, "riverton", "Riverton 311 data sharing", covers={"service_requests": []},
        starts_on=today + timedelta(days=14), expires_on=today + timedelta(days=380),
        personal_roles=[Role.DATA_ANALYST.value],
    )  # fmt: skip
    if review is not None:
        agreements.submit_for_review(rosa, "riverton", review.pk)
    signed = _agreement(
        rosa, "riverton", "Riverton street-light pilot",
        covers={"service_requests": ["case_number", "created_date", "closed_date", "request_type", "ward"]},
        starts_on=today + timedelta(days=30), expires_on=today + timedelta(days=210),
    )  # fmt: skip
    if signed is not None:
        _signed(rosa, "riverton", signed, pdf, "Rosa Delgado")

    # Lakeside: active, and a survey agreement ended early.
    lake = _agreement(
        lena, "lakeside", "Lakeside requests sharing", covers={"requests": []},
        starts_on=today - timedelta(days=20), expires_on=today + timedelta(days=345), retention_days=60,
    )  # fmt: skip
    if lake is not None:
        _signed(lena, "lakeside", lake, pdf, "Lena Sorensen")
        agreements.activate(lena, "lakeside", lake.pk)
    survey = _agreement(
        lena, "lakeside", "Resident survey follow-up", covers={"requests": ["Ticket ID", "Category", "District"]},
        starts_on=today - timedelta(days=20), expires_on=today + timedelta(days=160), retention_days=90,
    )  # fmt: skip
    if survey is not None:
        _signed(lena, "lakeside", survey, pdf, "Lena Sorensen")
        agreements.activate(lena, "lakeside", survey.pk)
        agreements.terminate(lena, "lakeside", survey.pk, reason="the survey was cancelled by the council")


def _pdf(text: str) -> bytes:
    """A one-page PDF saying ``text`` (built by hand: nothing to install, nothing fetched)."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 720 Td ({safe}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
