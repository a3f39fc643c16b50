"""The demo programme's projects: one in every phase, with a history a newcomer can read.

Seeded by :func:`ridp.workspace.demo_programme.seed` after the cities, people and
agreements, through the same workspace functions a person's clicks call (so every
rule holds and the audit log reads like a real programme's); only the dates of
what happened months ago are set afterwards, since nobody can act in the past.

* Demo City — **Faster pothole repair**: testing & action. Rated, accepted, a
  signed charter (version 2), a valid team, the kickoff, weekly analysis meetings
  (one cancelled, one missed), monthly action meetings, follow-ups done, open and
  overdue; moved on twice by the coach's override while the readiness and
  analysis features that the gates ask for are still to come.
* Demo City — **Bulky-item pickup waits**: scoping, off-ramped with the reason and
  the other help offered.
* Riverton — **Lead service line outreach**: analysis, behind the calendar, with
  missed weekly meetings and overdue follow-ups: the coach's cohort view flags it.
* Lakeside — **Shelter bed availability**: still scoping; its charter was signed,
  then edited, so the sign-offs are invalidated; no subject-matter expert on the
  team yet.
* Lakeside — **Snow-plough routing**: close-out.

The cohort keeps the seed calendar (April to December of its year). When today
falls outside that year's testing & action phase, the calendar is moved as a whole
so that today sits in it, so the demo is a living programme on any day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final

from django.db import transaction
from django.db.models import F
from django.utils import timezone as django_timezone

from ridp.workspace import charter, cohorts, comments, gates, meetings, project_team, scoping
from ridp.workspace.models import City, CohortPhase, Dataset, Meeting, PhaseChange, Project, User
from ridp.workspace.projects import start_project

__all__ = ["PROJECTS", "seed_analysis", "seed_places", "seed_projects"]


@dataclass(frozen=True)
class Team:
    leader: str
    analyst: str
    expert: str | None
    coach: str
    programme_analyst: str


@dataclass(frozen=True)
class DemoProject:
    city: str
    title: str
    problem: str
    why: str
    service_change: str
    phase: str  # where it stands today
    team: Team
    ratings: tuple[int, int, int, int, int]
    value: str
    complexity: str
    decision: str
    decision_reason: str
    other_help: str = ""
    charter: dict[str, str] = field(default_factory=dict)
    sign: bool = True
    edit_after_signing: dict[str, str] = field(default_factory=dict)  # by the analyst: invalidates the sign-offs
    missed_weeks: tuple[int, ...] = ()  # weekly meetings (by number) left unrecorded
    overdue: int = 0  # follow-ups left open past their due date


_DEMO_TEAM = Team("sam", "ana", "eli", "cole", "priya")
_RIVERTON_TEAM = Team("rosa", "raj", "ruth", "cole", "priya")
_LAKESIDE_TEAM = Team("lena", "leo", "lily", "cleo", "priya")

PROJECTS: Final[tuple[DemoProject, ...]] = (
    DemoProject(
        city="demo",
        title="Faster pothole repair",
        problem="Reported potholes wait a median of 19 days for repair, and far longer in the east wards.",
        why="Potholes injure cyclists and damage cars; residents in the east wards report fewer and wait longer.",
        service_change="Street crews' daily work orders would be ranked by risk and by how long a report has waited.",
        phase="testing",
        team=_DEMO_TEAM,
        ratings=(2, 2, 2, 1, 2),
        value="high",
        complexity="low",
        decision="accept",
        decision_reason="Strong data and a department ready to change its work orders.",
        charter={
            "department": "Public Works, Streets Division",
            "affected": "Everyone who travels the city's 1,100 miles of streets; about 9,000 reports a year.",
            "why_now": "A new work-order system goes live this year: ranking can be built into it.",
            "earlier_attempts": "A 2022 dashboard was built but nobody had time to act on it.",
            "stakeholders_inside": "Streets Division crews and supervisors; 311; the mayor's office.",
            "stakeholders_outside": "Ward councils; the cycling coalition.",
            "goals": "Cut the median wait for a repair and close the gap between wards.",
            "trade_off": "equity",
            "trade_off_notes": "Where speed and fairness conflict, the longest-waiting wards come first.",
            "constraint_budget": "No new crews: the same 6 crews work differently.",
            "constraint_people": "One data analyst two days a week.",
            "constraint_time": "Pilot results by December.",
            "constraint_legal": "Reporters' addresses are personal data: only the analyst sees them.",
            "existing_process": "Supervisors assign work orders each morning, first reported first served.",
            "actions_informed": "The order of the morning's work orders.",
            "data_sources": "311 service requests; work orders; street segments.",
            "analysis_type": "prediction",
            "ethics_equity": "Wards with fewer reports must not be served later because they report less.",
            "risks_dependencies": "The new work-order system's launch date.",
            "success_metric": "Median days from report to repair",
            "metric_baseline": "19 days (last year)",
            "metric_target": "10 days, and no ward above 14",
            "deliverable": "A ranked work-order list in the new system, with a weekly check.",
            "maintainer": "Streets Division data lead",
            "milestones": "Findings by August; pilot September to November; decision in December.",
        },
        overdue=1,
    ),
    DemoProject(
        city="demo",
        title="Bulky-item pickup waits",
        problem="Bulky-item pickups take three weeks to schedule.",
        why="Items left on the kerb block pavements and attract dumping.",
        service_change="Pickups would be scheduled by area and day.",
        phase="scoping",
        team=_DEMO_TEAM,
        ratings=(1, 1, 1, 0, 2),
        value="low",
        complexity="low",
        decision="off_ramp",
        decision_reason="No earlier attempt failed: the department already has a routing fix under way.",
        other_help="Office hours with the programme analyst to build the department's own wait-time dashboard.",
        sign=False,
    ),
    DemoProject(
        city="riverton",
        title="Lead service line outreach",
        problem="Half of the homes with a lead service line have not answered the replacement offer.",
        why="Lead in drinking water harms children; the replacement is free only until the grant ends.",
        service_change="Door-to-door outreach would be ordered by risk and by which letters went unanswered.",
        phase="analysis",
        team=_RIVERTON_TEAM,
        ratings=(2, 2, 1, 2, 1),
        value="high",
        complexity="high",
        decision="accept_with_risks",
        decision_reason="The service-line inventory is incomplete: a third of lines are of unknown material.",
        charter={
            "department": "Water Utility",
            "affected": "About 4,200 households, many with young children.",
            "why_now": "The federal grant that pays for replacements ends in two years.",
            "trade_off": "equity",
            "analysis_type": "prediction",
            "success_metric": "Share of offered households that accept a replacement",
            "metric_baseline": "48 %",
            "metric_target": "75 %",
        },
        missed_weeks=(10, 11, 12),
        overdue=2,
    ),
    DemoProject(
        city="lakeside",
        title="Shelter bed availability",
        problem="Outreach workers cannot see which shelters have a free bed tonight.",
        why="People sleep outside on nights when beds are free elsewhere in the city.",
        service_change="Outreach would be dispatched with tonight's free beds on their phones.",
        phase="scoping",
        team=Team("lena", "leo", None, "cleo", "priya"),
        ratings=(2, 2, 1, 2, 2),
        value="high",
        complexity="high",
        decision="accept_with_risks",
        decision_reason="Two shelters keep their counts on paper.",
        charter={
            "department": "Housing and Human Services",
            "affected": "About 600 people a night in winter.",
            "trade_off": "effectiveness",
            "analysis_type": "descriptive",
            "success_metric": "Nights with a free bed while someone was turned away",
            "metric_baseline": "unknown: no shared count yet",
            "metric_target": "none",
        },
        edit_after_signing={"metric_baseline": "31 nights last winter (from the shelters' paper logs)"},
    ),
    DemoProject(
        city="lakeside",
        title="Snow-plough routing",
        problem="Residential streets wait two days for a plough after a storm.",
        why="Older residents are cut off from care and shops.",
        service_change="Plough routes would start from streets with clinics, schools and older residents.",
        phase="closeout",
        team=_LAKESIDE_TEAM,
        ratings=(2, 2, 2, 2, 2),
        value="high",
        complexity="low",
        decision="accept",
        decision_reason="Clear data, a willing department and a process that changes every winter.",
        charter={
            "department": "Public Works, Winter Operations",
            "trade_off": "equity",
            "analysis_type": "descriptive",
            "success_metric": "Hours until every street with a clinic is ploughed",
            "metric_baseline": "30 hours",
            "metric_target": "12 hours",
        },
    ),
)

_PHASE_ORDER: Final = ("scoping", "analysis", "testing", "closeout")


def _living_calendar(city: City) -> dict[str, CohortPhase]:
    """The cohort's calendar, moved as a whole if needed so that today falls in testing & action."""
    cohort = cohorts.cohort_for_city(city)
    by_key = {p.key: p for p in cohorts.phases(cohort)}
    today = django_timezone.localdate()
    testing = by_key["testing"]
    if not testing.starts_on + timedelta(days=21) <= today <= testing.ends_on - timedelta(days=3):
        shift = today - (testing.starts_on + timedelta(days=66))
        with transaction.atomic():
            CohortPhase.objects.filter(cohort=cohort).update(
                starts_on=F("starts_on") + shift, ends_on=F("ends_on") + shift
            )
        by_key = {p.key: p for p in cohorts.phases(cohort)}
    return by_key


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0))  # the city's wall-clock time


def seed_projects(users: dict[str, User]) -> list[Project]:
    """Every demo project, in the phase it stands in today, with its history."""
    calendars: dict[str, dict[str, CohortPhase]] = {}
    for slug in dict.fromkeys(spec.city for spec in PROJECTS):
        calendars[slug] = _living_calendar(City.objects.get(slug=slug))
    return [_seed_one(spec, users, calendars[spec.city]) for spec in PROJECTS]


def _seed_one(spec: DemoProject, users: dict[str, User], calendar: dict[str, CohortPhase]) -> Project:
    leader, analyst, coach = users[spec.team.leader], users[spec.team.analyst], users[spec.team.coach]
    scoping_phase = calendar["scoping"]
    start = scoping_phase.starts_on + timedelta(days=1)
    today = django_timezone.localdate()
    project = start_project(
        leader, spec.city, title=spec.title, problem=spec.problem, why_it_matters=spec.why,
        service_change=spec.service_change,
    )  # fmt: skip
    pid = project.pk
    Project.objects.filter(pk=pid).update(created_at=_aware(_at(start), project), phase_since=start)
    # the team
    for username, role in (
        (spec.team.leader, "senior_leader"),
        (spec.team.analyst, "data_analyst"),
        (spec.team.expert, "subject_matter_expert"),
        (spec.team.coach, "coach"),
        (spec.team.programme_analyst, "programme_analyst"),
    ):
        if username:
            project_team.add_member(leader, spec.city, pid, username, role)
    # scoping: the five criteria, value x complexity, the decision
    evidence = (
        "Residents name it in 311 and at ward meetings.",
        "The department head asked for help and named a champion.",
        "Two years of service requests, joined to work orders by id.",
        "A dashboard was built in 2022; nobody had time to act on it.",
        "The morning assignment of work orders already exists.",
    )
    for spec_criterion, score, words in zip(cohorts.criteria(), spec.ratings, evidence, strict=True):
        scoping.rate(coach, spec.city, pid, spec_criterion.key, score, words, rated_on=start + timedelta(days=7))
    scoping.set_value_complexity(coach, spec.city, pid, spec.value, spec.complexity)
    scoping.decide(coach, spec.city, pid, spec.decision, spec.decision_reason, spec.other_help)
    Project.objects.filter(pk=pid).update(decided_at=_aware(_at(start + timedelta(days=9)), project))
    # the kickoff
    kickoff = meetings.schedule(
        leader, spec.city, pid, kind=Meeting.Kind.KICKOFF, starts_at=_at(start + timedelta(days=6)),
        goal="Agree the problem, the team and the data to ask for.",
    )  # fmt: skip
    _held(spec, users, pid, kickoff, presented="The intake and the five criteria.", decisions="Go on to the charter.")
    _follow_up(spec, users, pid, kickoff, "Ask the department for two years of work orders.", analyst, done=True)
    if spec.decision == "off_ramp":
        return Project.objects.get(pk=pid)
    # the charter
    charter.edit(leader, spec.city, pid, {"title": spec.title, **spec.charter}, note="first draft")
    if spec.charter.get("metric_target"):
        target = spec.charter["metric_target"]
        charter.edit(analyst, spec.city, pid, {"metric_target": target + " (agreed with the champion)"}, note="target")
    signed_on = min(start + timedelta(days=20), today)
    if spec.sign:
        for kind, name, role in (
            ("team", users[spec.team.leader].get_full_name(), "senior leader, for the team"),
            ("champion", "Dana Whitfield", "department director"),
            ("leadership", "Mayor's chief of staff", "leadership"),
        ):
            charter.sign(leader, spec.city, pid, kind, name, role, signed_on)
    if spec.edit_after_signing:
        charter.edit(analyst, spec.city, pid, spec.edit_after_signing, note="a better baseline")
    comments.add_comment(coach, spec.city, pid, "charter", None, "The success metric reads well; keep the target.")
    # the phases after scoping, each entered on its calendar date
    target_index = _PHASE_ORDER.index(spec.phase)
    for index in range(1, target_index + 1):
        phase = calendar[_PHASE_ORDER[index]]
        previous = calendar[_PHASE_ORDER[index - 1]]
        _meetings_of(spec, users, pid, previous, until=phase.starts_on, current=False)
        change = _move_on(users, spec, pid)
        entered = min(phase.starts_on, today - timedelta(days=5))  # a project can be ahead of the calendar
        PhaseChange.objects.filter(pk=change.pk).update(at=_aware(_at(entered, 9), project))
        Project.objects.filter(pk=pid).update(phase_since=entered)
        # meetings the move planned from today on are planned again below, once the phase's history is in
        Meeting.objects.filter(
            project_id=pid, status=Meeting.Status.PLANNED, starts_at__gte=django_timezone.now()
        ).delete()
    current = calendar[spec.phase]
    _meetings_of(spec, users, pid, current, until=min(today, current.ends_on), current=True)
    planned = meetings.plan_phase(Project.objects.get(pk=pid), by=leader)  # the meetings still to come
    if not planned and current.cadence != "none" and spec.decision != "off_ramp":
        meetings.schedule(
            leader, spec.city, pid, kind=Meeting.Kind.AS_NEEDED, starts_at=_at(today + timedelta(days=2), 14),
            goal="Prepare the decision: adopt, adapt or stop.",
        )  # fmt: skip
    return Project.objects.get(pk=pid)


def _aware(moment: datetime, project: Project) -> datetime:
    return moment.replace(tzinfo=meetings.city_zone(project.city))


def _move_on(users: dict[str, User], spec: DemoProject, pid: int) -> PhaseChange:
    """The coach moves the project on: by the gate when it passes, else by an override with a reason."""
    coach = users[spec.team.coach]
    status = gates.evaluate(coach, spec.city, pid)
    if status.passed:
        return gates.advance(coach, spec.city, pid)
    reason = (
        "The team and the coach reviewed what the gate asks for by hand; the features that check it "
        "automatically are still to come."
    )
    return gates.override(coach, spec.city, pid, reason)


def _meetings_of(
    spec: DemoProject, users: dict[str, User], pid: int, phase: CohortPhase, *, until: date, current: bool
) -> None:
    """The phase's regular meetings from its start until ``until``: held, with what was presented and decided.

    In the phase the project is in now, the last meeting leaves ``spec.overdue`` follow-ups open.
    """
    if phase.cadence == "weekly":
        step, kind = timedelta(days=7), Meeting.Kind.WEEKLY_ANALYSIS
    elif phase.cadence == "monthly":
        step, kind = timedelta(days=30), Meeting.Kind.MONTHLY_ACTION
    else:
        return
    leader, analyst = users[spec.team.leader], users[spec.team.analyst]
    day = phase.starts_on + timedelta(days=3)
    number = 0
    today = django_timezone.localdate()
    open_left = spec.overdue if current else 0
    while day < until and day < today:
        number += 1
        meeting = meetings.schedule(
            leader,
            spec.city,
            pid,
            kind=kind,
            starts_at=_at(day),
            goal=f"Review this {'week' if step.days == 7 else 'month'}'s findings.",
        )
        if number in spec.missed_weeks:
            pass  # never recorded: the cohort view counts it as missed
        elif number == 4 and kind == Meeting.Kind.WEEKLY_ANALYSIS:
            meetings.record(leader, spec.city, pid, meeting.pk, status=Meeting.Status.CANCELLED)
        else:
            _held(
                spec, users, pid, meeting,
                presented=f"Findings {number}: waits by ward and by month.",
                decisions="Keep the ward split; add the crews' shifts.",
            )  # fmt: skip
            last = day + step >= min(until, today)
            if last and open_left:
                for n in range(open_left):
                    _follow_up(spec, users, pid, meeting, f"Send the crews' shift log, part {n + 1}.", analyst,
                               due=day + timedelta(days=2 + n), done=False)  # fmt: skip
                open_left = 0
            else:
                _follow_up(spec, users, pid, meeting, f"Check finding {number} with the crews.", analyst, done=True)
        day += step


def _held(
    spec: DemoProject, users: dict[str, User], pid: int, meeting: Meeting, *, presented: str, decisions: str
) -> None:
    team = [u for u in (spec.team.leader, spec.team.analyst, spec.team.expert, spec.team.coach) if u]
    meetings.record(
        users[spec.team.leader], spec.city, pid, meeting.pk, status=Meeting.Status.HELD, attendees=team,
        presented=presented, decisions=decisions, data_requested="The next month of work orders.",
        risks="", usefulness=4,
    )  # fmt: skip


def _follow_up(
    spec: DemoProject,
    users: dict[str, User],
    pid: int,
    meeting: Meeting,
    text: str,
    owner: User,
    *,
    due: date | None = None,
    done: bool,
) -> None:
    held_on = django_timezone.localtime(meeting.starts_at, meetings.city_zone(meeting.project.city)).date()
    item = meetings.add_follow_up(
        users[spec.team.leader], spec.city, pid, meeting.pk, text, owner.username, due or held_on + timedelta(days=5)
    )
    if done:
        meetings.set_follow_up_status(users[spec.team.leader], spec.city, pid, item.pk, "done")


# -- the analysis period of the pothole project (issue 7) ----------------------------------------------------------
POTHOLE_SPEC = """\
name: pothole_days
formula: median(days_to_close) where type == "Pothole Repair"
unit: days
direction: lower_is_better
baseline: {value: null, start: 2023-01-01, end: 2023-12-31}
target: {value: 10, category: accuracy}
disaggregation: [area_id]
source: service_requests
refresh: weekly
owner: Streets Division data lead
"""
#: The Streets Division's targets, days to close per request type.
DEMO_TARGETS = {
    "Pothole Repair": 10.0, "Streetlight Out": 4.0, "Missed Trash Pickup": 2.0, "Graffiti Removal": 7.0,
    "Traffic Signal Repair": 2.0, "Sidewalk Repair": 30.0, "Tree Maintenance": 21.0, "Illegal Dumping": 5.0,
}  # fmt: skip


def seed_analysis(users: dict[str, User]) -> None:
    """The pothole project's analysis: its success metric with the baseline computed from the data, the targets,
    service levels by type and by area with the residents behind them, and a briefing the coach blessed."""
    from ridp.analysis import TargetTable
    from ridp.workspace import analysis
    from ridp.workspace.metric_specs import save_specs, set_success_metric

    project = Project.objects.filter(city__slug="demo", title="Faster pothole repair").first()
    dataset = Dataset.objects.filter(city__slug="demo", name="service_requests").first()
    if project is None or dataset is None or dataset.current_version_id is None:
        return
    analyst, coach = users[_DEMO_TEAM.analyst], users[_DEMO_TEAM.coach]
    pid = project.pk
    save_specs(analyst, "demo", pid, POTHOLE_SPEC)
    set_success_metric(analyst, "demo", pid, "pothole_days")
    analysis.compute_baseline(analyst, "demo", pid, "pothole_days")
    analysis.set_targets(analyst, "demo", "service_requests", TargetTable(DEMO_TARGETS))
    by_type, _ = analysis.analyze_now(analyst, "demo", pid, "service_requests", "service_levels", {"by": ["type"]})
    people = None
    if Dataset.objects.filter(city__slug="demo", name="population", current_version__isnull=False).exists():
        people = {"dataset": "population", "key": "area_id", "value": "population"}
    by_area, _ = analysis.analyze_now(analyst, "demo", pid, "service_requests", "service_levels",
                                      {"by": ["area_id"], "population": people})  # fmt: skip
    week = analysis.create_briefing(analyst, "demo", pid, "Where residents wait longest for a repair")
    analysis.add_finding(analyst, "demo", pid, week.pk, by_type.pk, title="The slowest request types",
                         text="Ranked by the median days to close, open requests counted as still waiting.")  # fmt: skip
    analysis.add_finding(analyst, "demo", pid, week.pk, by_area.pk, title="The slowest areas",
                         text="Some areas wait far longer than the city's median: the pilot starts there.")  # fmt: skip
    analysis.bless_briefing(coach, "demo", pid, week.pk, "Clear: design the pilot around the slowest areas.")


def seed_places(users: dict[str, User]) -> None:
    """The pothole project's places: requests assigned to the 40 neighbourhoods once, hot spots of requests per
    1,000 residents, and the service gaps between neighbourhoods, in a new briefing for the coach to bless."""
    from ridp.workspace import analysis

    project = Project.objects.filter(city__slug="demo", title="Faster pothole repair").first()
    ready = Dataset.objects.filter(city__slug="demo", current_version__isnull=False,
                                   name__in=("service_requests", "population", "neighbourhoods")).count()  # fmt: skip
    if project is None or ready < 3:
        return
    analyst, pid = users[_DEMO_TEAM.analyst], project.pk
    people = {"dataset": "population", "key": "area_id", "value": "population"}
    areas = {"boundaries": "neighbourhoods", "id_field": "area_id"}
    hot, _ = analysis.analyze_now(
        analyst, "demo", pid, "service_requests", "hot_spots", {**areas, "population": people}
    )
    gaps, _ = analysis.analyze_now(analyst, "demo", pid, "service_requests", "service_gaps",
                                   {**areas, "population": people})  # fmt: skip
    week = analysis.create_briefing(analyst, "demo", pid, "Which neighbourhoods wait longest, and who lives there")
    analysis.add_finding(analyst, "demo", pid, week.pk, hot.pk, title="Hot spots of requests per resident",
                         text="Neighbourhoods with far more requests per 1,000 residents than their neighbours, "
                         "significant after the false-discovery-rate correction.", column="z")  # fmt: skip
    analysis.add_finding(analyst, "demo", pid, week.pk, gaps.pk, title="The worst-served neighbourhoods",
                         text="Median days to close against the reference neighbourhood, with bootstrap intervals; "
                         "outside 0.8-1.25 is a gap.", column="median_days")  # fmt: skip
