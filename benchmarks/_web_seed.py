"""The web benchmark's child process: seed a programme, make sessions, find the pages, probe them.

Run by ``benchmarks/web.py`` (never imported by it: the load driver stays free of
Django) with ``RIDP_HOME`` and ``DATABASE_URL`` set for a fresh workspace::

    python benchmarks/_web_seed.py seed  SPEC.json OUT.json   # store, sessions and the URLs each may visit
    python benchmarks/_web_seed.py probe SPEC.json OUT.json   # one request per page kind, in process

``seed`` builds, with ``bulk_create`` in one transaction, ``cities`` cities in one
cohort, each with ``projects`` projects and a team (senior leader, data analyst,
subject-matter expert, plus the coach and programme analyst assigned to the city),
the charter (two versions, the second signed off by team, champion and leadership),
the five criteria rated, a year of meetings on the cohort's calendar (kickoff and
as-needed meetings in scoping, weekly in analysis, monthly in testing; those in the
past held, with attendees, minutes and follow-ups, some of these overdue) and
comments. Coaches hold 10 cities each, programme analysts 20. Then it makes
``sessions`` logged-in sessions straight in the session store, stamped as the login
page and the second factor would stamp them, and lists for each the pages its
person may see, found with ``reverse`` on the route names (and with the API's
OpenAPI schema for the API's operation ids): a route that does not exist yet is
skipped and named in the output.

``probe`` requests one URL of each page kind with Django's test client inside this
process, counting the SQL queries each makes and timing it (no server, no load):
where a slow page spends its time.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

#: page kind -> (route name or API operation id, is it an API operation). The load driver weighs them.
PAGES: dict[str, tuple[str, bool]] = {
    "cohort view": ("cohort_view", False),
    "projects": ("projects", False),
    "project": ("project", False),
    "charter": ("charter", False),
    "meetings": ("meetings", False),
    "gates": ("gates", False),
    "api projects": ("list_projects", True),
    "api project": ("get_project", True),
    "api cohort view": ("get_cohort_view", True),
}
#: The action a person needs in a city to be sent to each page kind (SECURITY.md via ridp.workspace.access).
NEEDS = {"cohort view": "cohort.view", "api cohort view": "cohort.view"}
COACH_CITIES = 10
PANALYST_CITIES = 20
#: Share of the sessions per persona (the rest are data analysts).
MIX = (("coach", 0.2), ("panalyst", 0.1), ("leader", 0.4))
#: A project's team: who -> their role (in the city and on the project).
TEAM_ROLES = {
    "leader": "senior_leader",
    "analyst": "data_analyst",
    "expert": "subject_matter_expert",
    "coach": "coach",
    "panalyst": "programme_analyst",
}


def _boot() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ridp.settings")
    import ridp.workspace

    ridp.workspace.boot()


# --- seeding ----------------------------------------------------------------------------------------------------


def _calendar(today: date) -> list[tuple[str, str, date, date, str]]:
    """The cohort's phases, placed so that today falls in testing: a year's meetings are behind it."""
    start = today - timedelta(days=200)
    return [
        ("scoping", "Scoping", start, start + timedelta(days=44), "as_needed"),
        ("analysis", "Analysis", start + timedelta(days=45), start + timedelta(days=135), "weekly"),
        ("testing", "Testing & action", start + timedelta(days=136), start + timedelta(days=243), "monthly"),
        ("closeout", "Close-out", start + timedelta(days=244), start + timedelta(days=274), "none"),
    ]


def seed(spec: dict[str, Any]) -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone as django_timezone

    from ridp.workspace.charter import CHARTER_FIELDS
    from ridp.workspace.cohorts import criteria
    from ridp.workspace.models import (
        CharterVersion,
        City,
        Cohort,
        CohortPhase,
        Comment,
        CriterionRating,
        FollowUp,
        Meeting,
        MeetingAttendee,
        Membership,
        PhaseChange,
        Programme,
        Project,
        ProjectMember,
        Role,
        SignOff,
        User,
    )
    from ridp.workspace.store import init_workspace

    n_cities, per_city = int(spec["cities"]), int(spec["projects"])
    rng = random.Random(int(spec.get("seed", 2026)))
    started = time.perf_counter()
    init_workspace("admin", email="admin@bench.example.org")
    migrated = time.perf_counter()
    programme = Programme.objects.order_by("id").first()
    assert programme is not None
    now = django_timezone.now()
    today = django_timezone.localdate()
    unusable = make_password(None)
    counts: dict[str, int] = {}

    def bulk(model: Any, rows: list[Any]) -> list[Any]:
        made: list[Any] = model.objects.bulk_create(rows, batch_size=2000)
        counts[model.__name__] = counts.get(model.__name__, 0) + len(made)
        return made

    with transaction.atomic():
        cohort = Cohort.objects.create(programme=programme, name="Cohort bench", year=_calendar(today)[0][2].year)
        calendar = _calendar(today)
        bulk(
            CohortPhase,
            [
                CohortPhase(
                    cohort=cohort, key=key, name=name, position=i, starts_on=starts, ends_on=ends, cadence=cadence
                )
                for i, (key, name, starts, ends, cadence) in enumerate(calendar)
            ],
        )
        phase_dates = {key: (starts, ends) for key, _n, starts, ends, _c in calendar}
        cities = bulk(
            City,
            [
                City(programme=programme, cohort=cohort, name=f"City {i:03d}", slug=f"city-{i:03d}", timezone="UTC")
                for i in range(n_cities)
            ],
        )
        n_coaches = max(1, math.ceil(n_cities / COACH_CITIES))
        n_panalysts = max(1, math.ceil(n_cities / PANALYST_CITIES))

        def person(username: str, first: str, last: str) -> User:
            return User(
                username=username, first_name=first, last_name=last, email=f"{username}@bench.example.org",
                password=unusable,
            )  # fmt: skip

        people: dict[str, User] = {}
        rows = [person(f"coach-{i:02d}", "Coach", f"No. {i}") for i in range(n_coaches)]
        rows += [person(f"panalyst-{i:02d}", "Analyst", f"No. {i}") for i in range(n_panalysts)]
        for c in range(n_cities):
            rows += [
                person(f"leader-{c:03d}", "Lee", f"Leader {c}"),
                person(f"analyst-{c:03d}", "Ana", f"Analyst {c}"),
                person(f"expert-{c:03d}", "Eli", f"Expert {c}"),
            ]
        for user in bulk(User, rows):
            people[user.username] = user
        memberships: list[Membership] = []
        for i in range(n_coaches):
            memberships.append(Membership(user=people[f"coach-{i:02d}"], programme=programme, role=Role.COACH))
        for i in range(n_panalysts):
            memberships.append(
                Membership(user=people[f"panalyst-{i:02d}"], programme=programme, role=Role.PROGRAMME_ANALYST)
            )
        team_of: dict[int, dict[str, User]] = {}
        for c, city in enumerate(cities):
            team = {
                "coach": people[f"coach-{c // COACH_CITIES:02d}"],
                "panalyst": people[f"panalyst-{c // PANALYST_CITIES:02d}"],
                "leader": people[f"leader-{c:03d}"],
                "analyst": people[f"analyst-{c:03d}"],
                "expert": people[f"expert-{c:03d}"],
            }
            team_of[city.pk] = team
            for key, role in TEAM_ROLES.items():
                memberships.append(Membership(user=team[key], programme=programme, city=city, role=role))
        bulk(Membership, memberships)

        # Projects: most in testing (where the cohort is), some behind in analysis, some off-ramped in scoping.
        projects: list[Project] = []
        for c, city in enumerate(cities):
            team = team_of[city.pk]
            for p in range(per_city):
                off_ramp = p == 2 and c % 5 == 0
                phase = "scoping" if off_ramp else ("analysis" if p == 2 or (c + p) % 7 == 0 else "testing")
                decision = "off_ramp" if off_ramp else ("accept_with_risks" if p == 1 else "accept")
                projects.append(
                    Project(
                        city=city,
                        cohort=cohort,
                        title=f"{city.name}: {_TOPICS[(c + p) % len(_TOPICS)]}",
                        problem=_text(rng, 3),
                        why_it_matters=_text(rng, 2),
                        service_change=_text(rng, 2),
                        value=rng.choice(["low", "high"]),
                        complexity=rng.choice(["low", "high"]),
                        decision=decision,
                        decision_reason=_text(rng, 1) if decision != "accept" else "",
                        other_help=_text(rng, 1) if off_ramp else "",
                        decided_by=team["coach"],
                        decided_at=now - timedelta(days=160),
                        phase=phase,
                        phase_since=phase_dates[phase][0],
                        created_by=team["leader"],
                    )
                )
        projects = bulk(Project, projects)

        ratings, versions, members, changes = [], [], [], []
        for project in projects:
            team = team_of[project.city_id]
            for spec_c in criteria():
                ratings.append(
                    CriterionRating(
                        project=project,
                        criterion=spec_c.key,
                        score=rng.choice([1, 2, 2]),
                        evidence=_text(rng, 1),
                        rater=team["coach"],
                        rated_on=phase_dates["scoping"][0] + timedelta(days=20),
                    )
                )
            for number in (1, 2):
                fields = {
                    s.key: (s.choices[rng.randrange(len(s.choices))][0] if s.choices else _text(rng, 2)[: s.max_length])
                    for s in CHARTER_FIELDS
                }
                fields["title"] = project.title
                versions.append(
                    CharterVersion(
                        project=project,
                        number=number,
                        fields=fields,
                        note="first draft" if number == 1 else "scope",
                        created_by=team["leader"],
                        created_at=now - timedelta(days=190 - 10 * number),
                    )
                )
            for key, role in TEAM_ROLES.items():
                members.append(ProjectMember(project=project, user=team[key], role=role))
            order = ["scoping", "analysis", "testing"]
            for a, b in itertools.pairwise(order):
                if order.index(project.phase) >= order.index(b):
                    changes.append(
                        PhaseChange(
                            project=project,
                            from_phase=a,
                            to_phase=b,
                            by=team["coach"],
                            at=datetime.combine(phase_dates[b][0], datetime.min.time(), tzinfo=now.tzinfo),
                        )
                    )
        bulk(CriterionRating, ratings)
        versions = bulk(CharterVersion, versions)
        signoffs = []
        for version in versions:
            if version.number == 2:
                team = team_of[version.project.city_id]
                for kind, who in (("team", "analyst"), ("champion", "expert"), ("leadership", "leader")):
                    u = team[who]
                    signoffs.append(
                        SignOff(
                            version=version,
                            kind=kind,
                            name=u.get_full_name(),
                            role=kind,
                            signed_on=phase_dates["scoping"][1] - timedelta(days=3),
                            recorded_by=team["leader"],
                        )
                    )
        bulk(SignOff, signoffs)
        bulk(ProjectMember, members)
        bulk(PhaseChange, changes)

        # A year of meetings on the calendar: kickoff + 2 as needed in scoping, weekly in analysis, monthly in testing.
        meetings: list[Meeting] = []
        for project in projects:
            team = team_of[project.city_id]
            s0 = phase_dates["scoping"][0]
            plan = [("kickoff", "scoping", s0 + timedelta(days=2))]
            plan += [("as_needed", "scoping", s0 + timedelta(days=d)) for d in (16, 30)]
            a0, a1 = phase_dates["analysis"]
            plan += [("weekly_analysis", "analysis", d) for d in _every(a0 + timedelta(days=3), a1, 7)]
            t0, t1 = phase_dates["testing"]
            plan += [("monthly_action", "testing", d) for d in _every(t0 + timedelta(days=5), t1, 30)]
            for kind, phase, day in plan:
                starts = datetime.combine(day, datetime.min.time(), tzinfo=now.tzinfo) + timedelta(hours=15)
                if project.phase == "scoping" and phase != "scoping":
                    continue  # an off-ramped project has no analysis
                held = starts < now
                meetings.append(
                    Meeting(
                        project=project,
                        kind=kind,
                        phase=phase,
                        starts_at=starts,
                        minutes=60,
                        status="held" if held else "planned",
                        goal=_text(rng, 1),
                        pre_read=_text(rng, 1) if held else "",
                        presented=_text(rng, 2) if held else "",
                        decisions=_text(rng, 2) if held else "",
                        blessed=held and rng.random() < 0.3,
                        data_requested=_text(rng, 1) if held else "",
                        risks=_text(rng, 1) if held else "",
                        usefulness=rng.randint(3, 5) if held else None,
                        recorded_by=team["analyst"] if held else None,
                        created_at=starts - timedelta(days=7),
                    )
                )
        meetings = bulk(Meeting, meetings)
        attendees, follow_ups, comments = [], [], []
        for meeting in meetings:
            project = meeting.project
            team = team_of[project.city_id]
            if meeting.status == "held":
                for key in ("leader", "analyst", "expert", "coach", "panalyst"):
                    u = team[key]
                    attendees.append(MeetingAttendee(meeting=meeting, user=u, name=u.get_full_name(), role=key))
                for k in range(2):
                    due = meeting.starts_at.date() + timedelta(days=7 + 7 * k)
                    late = (today - due).days
                    status = "open" if late < 21 or rng.random() < 0.1 else rng.choice(["done", "done", "dropped"])
                    follow_ups.append(
                        FollowUp(
                            project=project,
                            meeting=meeting,
                            text=_text(rng, 1),
                            owner=team["analyst" if k == 0 else "expert"],
                            due_on=due,
                            status=status,
                            closed_at=None if status == "open" else meeting.starts_at + timedelta(days=6),
                            created_at=meeting.starts_at,
                        )
                    )
                if rng.random() < 0.4:
                    comments.append(
                        Comment(
                            project=project,
                            target="meeting",
                            target_id=meeting.pk,
                            author=team["coach"],
                            body=_text(rng, 2),
                            created_at=meeting.starts_at + timedelta(hours=2),
                        )
                    )
        for project in projects:
            team = team_of[project.city_id]
            for k in range(4):
                comments.append(
                    Comment(
                        project=project,
                        target="charter",
                        author=team[("leader", "coach", "analyst", "expert")[k]],
                        body=_text(rng, 2),
                        created_at=now - timedelta(days=185 - k),
                    )
                )
        bulk(MeetingAttendee, attendees)
        bulk(FollowUp, follow_ups)
        bulk(Comment, comments)
    counts["overdue follow-ups"] = FollowUp.objects.filter(status="open", due_on__lt=today).count()
    seeded = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    sessions = _sessions(spec, people, cities, team_of)
    pages, skipped = _pages()
    visits = [_visits(s, pages, cities, projects, cohort) for s in sessions]
    return {
        "database": connection.vendor,
        "counts": counts,
        "migrate_s": round(migrated - started, 2),
        "seed_s": round(seeded - migrated, 2),
        "pages": {kind: template for kind, template in pages.items()},
        "skipped": skipped,
        "sessions": [
            {"persona": s["persona"], "user": s["user"].username, "cookie": s["cookie"], "visits": v}
            for s, v in zip(sessions, visits, strict=True)
        ],
        "session_cookie_name": _cookie_name(),
    }


_TOPICS = (
    "faster pothole repair", "fewer missed bin collections", "streetlight outages", "graffiti removal times",
    "noise complaints at night", "abandoned vehicles", "illegal dumping hot spots", "tree trimming backlog",
)  # fmt: skip
_WORDS = (
    "residents", "requests", "crews", "ward", "backlog", "repair", "days", "route", "risk", "service", "data",
    "pilot", "baseline", "target", "equity", "complaints", "inspection", "schedule", "budget", "council",
)  # fmt: skip


def _text(rng: random.Random, sentences: int) -> str:
    return " ".join(
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "." for _ in range(sentences)
    )


def _every(start: date, end: date, days: int) -> list[date]:
    out, day = [], start
    while day <= end:
        out.append(day)
        day += timedelta(days=days)
    return out


def _cookie_name() -> str:
    from django.conf import settings

    return str(settings.SESSION_COOKIE_NAME)


# --- sessions ---------------------------------------------------------------------------------------------------


def _sessions(spec: dict[str, Any], people: dict[str, Any], cities: list[Any], team_of: Any) -> list[dict[str, Any]]:
    """``spec["sessions"]`` sessions in the session store, for a mix of personas, stamped as a login would."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import login
    from django.http import HttpRequest

    from ridp.web.middleware import EPOCH, LOGIN_AT, SEEN_AT, VERIFIED
    from ridp.workspace.store import home

    # The settings were read before `init_workspace` wrote the workspace's key: sign with the one the server reads.
    settings.SECRET_KEY = (home() / "secret.key").read_text().strip()
    n = int(spec["sessions"])
    wanted = {persona: max(1 if n >= len(MIX) + 1 else 0, math.floor(n * share + 0.5)) for persona, share in MIX}
    wanted["analyst"] = max(0, n - sum(wanted.values()))
    pools = {
        "coach": sorted(u for u in people if u.startswith("coach-")),
        "panalyst": sorted(u for u in people if u.startswith("panalyst-")),
        "leader": [team_of[c.pk]["leader"].username for c in cities],
        "analyst": [team_of[c.pk]["analyst"].username for c in cities],
    }
    rng = random.Random(int(spec.get("seed", 2026)) + 1)
    engine = import_module(settings.SESSION_ENGINE)
    made = []
    for persona, count in wanted.items():
        pool = pools[persona][:]
        rng.shuffle(pool)
        for i in range(count):
            user = people[pool[i % len(pool)]]  # reused only when there are fewer people than sessions
            request = HttpRequest()
            request.session = engine.SessionStore()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            stamp = time.time()
            request.session[LOGIN_AT] = stamp
            request.session[SEEN_AT] = stamp
            request.session[EPOCH] = user.session_epoch
            request.session[VERIFIED] = True
            request.session.save()
            made.append({"persona": persona, "user": user, "cookie": request.session.session_key})
    return made


# --- the pages --------------------------------------------------------------------------------------------------


def _pages() -> tuple[dict[str, dict[str, Any]], list[str]]:
    """page kind -> {"path": template with {name} fields, "params": [...]}; and the kinds skipped, with why."""
    from django.urls import get_resolver

    from ridp.web.api import api

    resolver = get_resolver()
    schema = api.get_openapi_schema()
    operations = {
        op.get("operationId"): (path, method)
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
        if isinstance(op, dict)
    }
    found: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    for kind, (name, is_api) in PAGES.items():
        if is_api:
            if name not in operations:
                skipped.append(f"{kind}: the API has no operation {name!r} yet")
                continue
            path, method = operations[name]
            if method != "get":
                skipped.append(f"{kind}: operation {name!r} is a {method.upper()}, not a read")
                continue
            params = [p.split("}")[0] for p in path.split("{")[1:]]
            found[kind] = {"path": path, "params": params}
            continue
        possibilities = resolver.reverse_dict.getlist(name)
        if not possibilities:
            skipped.append(f"{kind}: no route named {name!r} yet")
            continue
        template, params = possibilities[0][0][0]
        found[kind] = {"path": "/" + template.replace("%(", "{").replace(")s", "}"), "params": list(params)}
    return found, skipped


def _visits(
    session: dict[str, Any], pages: dict[str, dict[str, Any]], cities: list[Any], projects: list[Any], cohort: Any
) -> dict[str, list[str]]:
    """kind -> the concrete paths this session's person may see (only their own cities' projects)."""
    from ridp.workspace.access import actions_in, visible_cities

    user = session["user"]
    actions = {c.pk: actions_in(user, c) for c in visible_cities(user)}
    mine = [c for c in cities if "city.read" in actions.get(c.pk, ())]
    by_city: dict[int, list[Any]] = {}
    for p in projects:
        by_city.setdefault(p.city_id, []).append(p)
    out: dict[str, list[str]] = {}
    for kind, page in pages.items():
        need = NEEDS.get(kind, "city.read")
        cities_ok = [c for c in mine if need in actions[c.pk]]
        paths: set[str] = set()
        for city in cities_ok:
            for project in by_city.get(city.pk, []):
                values = {"city": city.slug, "project_id": project.pk, "cohort_id": cohort.pk, "phase": project.phase}
                if not set(page["params"]) <= set(values):
                    continue
                paths.add(page["path"].format(**{k: values[k] for k in page["params"]}))
        if paths:
            out[kind] = sorted(paths)
    return out


# --- the probe --------------------------------------------------------------------------------------------------


def probe(spec: dict[str, Any]) -> dict[str, Any]:
    """One request per page kind for one session of each persona, in process: SQL queries and time."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from ridp.workspace.store import home

    settings.SECRET_KEY = (home() / "secret.key").read_text().strip()
    seeded = json.loads(Path(spec["seeded"]).read_text())
    out: dict[str, Any] = {}
    done: set[tuple[str, str]] = set()
    for session in seeded["sessions"]:
        for kind, paths in session["visits"].items():
            if (session["persona"], kind) in done:
                continue
            done.add((session["persona"], kind))
            client = Client(raise_request_exception=False, SERVER_NAME="127.0.0.1")
            client.cookies[seeded["session_cookie_name"]] = session["cookie"]
            path = paths[len(paths) // 2]
            client.get(path)  # warm: templates compiled, caches filled
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - t0
            sql_ms = sum(float(q.get("time") or 0) for q in queries.captured_queries) * 1000
            out.setdefault(kind, []).append(
                {
                    "persona": session["persona"],
                    "path": path,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 1),
                    "queries": len(queries),
                    "sql_ms": round(sql_ms, 1),
                    "bytes": len(response.content),
                }
            )
    return out


def main(argv: list[str]) -> int:
    mode, spec_path, out_path = argv
    spec = json.loads(Path(spec_path).read_text())
    _boot()
    result = seed(spec) if mode == "seed" else probe(spec)
    Path(out_path).write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
