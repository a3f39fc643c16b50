"""Phase gates (PROGRAM.md §9): each implemented condition met, unmet (exactly what is missing) and overridden;
the conditions of later issues blocked with "not available until ..."; advancing, overriding, the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest

from ridp.errors import FieldError, NotFoundError, PermissionDeniedError, WorkspaceError

SCOPING_IMPLEMENTED = ("charter_signed", "team_valid", "agreements_active")
REASON = "The readiness checks do not exist yet; the coach reviewed the data by hand."


@dataclass
class G:
    admin: Any
    city: Any
    project: Any
    users: dict[str, Any]


@pytest.fixture
def g(people: Any) -> G:
    from ridp.workspace.models import City
    from ridp.workspace.people import add_member
    from ridp.workspace.projects import start_project

    spring, shelby = City.objects.get(slug="springfield"), City.objects.get(slug="shelbyville")
    users = {"ana": people.ana, "sam": people.sam, "vera": people.vera, "otto": people.otto}
    users["eve"] = add_member(people.admin, "eve", "subject_matter_expert", city=spring).user
    users["cora"] = add_member(people.admin, "cora", "coach", city=spring).user
    users["pia"] = add_member(people.admin, "pia", "programme_analyst", city=spring).user
    users["cole"] = add_member(people.admin, "cole", "coach", city=shelby).user
    project = start_project(
        people.sam, "springfield", title="Faster pothole repair", problem="Potholes wait weeks",
        why_it_matters="Residents trip", service_change="Crews routed by risk",
    )  # fmt: skip
    return G(people.admin, spring, project, users)


def _charter(g: G, number: int = 1, kinds: tuple[str, ...] = ("team", "champion", "leadership")) -> Any:
    from ridp.workspace.models import CharterVersion, SignOff

    version = CharterVersion.objects.create(
        project=g.project, number=number, fields={"title": "Faster pothole repair", "goals": f"goals v{number}"},
        created_by=g.users["sam"],
    )  # fmt: skip
    for kind in kinds:
        SignOff.objects.create(
            version=version, kind=kind, name=f"{kind} signer", role="director", signed_on=date.today(),
            recorded_by=g.users["sam"],
        )  # fmt: skip
    return version


def _team(g: G, *places: tuple[str, str]) -> None:
    from ridp.workspace.models import ProjectMember

    for username, role in places:
        ProjectMember.objects.create(project=g.project, user=g.users[username], role=role)


FULL_TEAM = (
    ("sam", "senior_leader"),
    ("ana", "data_analyst"),
    ("eve", "subject_matter_expert"),
    ("cora", "coach"),
    ("pia", "programme_analyst"),
)


def _dataset(g: G, name: str = "requests", *, needs_agreement: bool = True) -> Any:
    from ridp.workspace.models import Dataset

    return Dataset.objects.create(city=g.city, name=name, needs_agreement=needs_agreement, created_by=g.admin)


def _agreement(g: G, dataset: Any, status: str, **dates: Any) -> Any:
    from ridp.workspace.models import Agreement, AgreementDataset

    today = date.today()
    agreement = Agreement.objects.create(
        city=g.city, title=f"Sharing ({status})", parties="City and programme", purpose="analysis",
        starts_on=dates.get("starts_on", today - timedelta(days=10)),
        expires_on=dates.get("expires_on", today + timedelta(days=100)),
        ended_on=dates.get("ended_on"), status=status, created_by=g.admin,
    )  # fmt: skip
    AgreementDataset.objects.create(agreement=agreement, dataset=dataset)
    return agreement


def _result(g: G, name: str) -> Any:
    from ridp.workspace import gates

    status = gates.evaluate(g.users["sam"], "springfield", g.project.pk)
    return next(r for r in status.results if r.name == name)


def _only(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """The scoping gate made only of ``names`` (the other issues' conditions cannot pass yet)."""
    from ridp.workspace import cohorts

    real = cohorts.gate_conditions
    monkeypatch.setattr(cohorts, "gate_conditions", lambda phase: names if phase == "scoping" else real(phase))


def _override(g: G, who: str = "cora") -> Any:
    from ridp.workspace import gates

    return gates.override(g.users[who], "springfield", g.project.pk, REASON)


# ---- charter_signed ------------------------------------------------------------------------------------------------


def test_charter_signed_is_met_when_team_champion_and_leadership_signed_the_latest_version(g):
    _charter(g)
    result = _result(g, "charter_signed")
    assert result.met and result.missing == [] and result.available and result.label == "Charter signed"


def test_charter_signed_lists_each_missing_sign_off_exactly(g):
    assert _result(g, "charter_signed").missing == ["there is no charter yet"]
    _charter(g, 1, kinds=("team",))
    result = _result(g, "charter_signed")
    assert not result.met
    assert result.missing == ["the champion has not signed version 1", "leadership has not signed version 1"]


def test_a_later_version_invalidates_the_sign_offs_for_the_gate(g):
    _charter(g, 1)
    _charter(g, 2, kinds=("leadership",))
    assert _result(g, "charter_signed").missing == [
        "the team has not signed version 2",
        "the champion has not signed version 2",
    ]


def test_charter_signed_overridden_keeps_what_was_missing(g):
    _charter(g, 1, kinds=("team", "leadership"))
    change = _override(g)
    assert "Charter signed: the champion has not signed version 1" in change.missing
    assert change.override_reason == REASON and change.from_phase == "scoping" and change.to_phase == "analysis"


# ---- team_valid ---------------------------------------------------------------------------------------------------


def test_team_valid_is_met_with_the_required_roles(g):
    _team(g, *FULL_TEAM)
    result = _result(g, "team_valid")
    assert result.met and result.missing == []


def test_team_valid_lists_each_problem_exactly(g):
    _team(g, ("sam", "senior_leader"), ("ana", "data_analyst"))
    result = _result(g, "team_valid")
    assert not result.met
    assert result.missing == [
        "2 city members: a team has 3 to 5",
        "no subject-matter expert on the team",
        "no coach assigned to the team",
        "no programme analyst assigned to the team",
    ]


def test_team_valid_overridden_keeps_what_was_missing(g):
    _team(g, *FULL_TEAM[:4])
    change = _override(g)
    assert "Team valid: no programme analyst assigned to the team" in change.missing


# ---- agreements_active --------------------------------------------------------------------------------------------


def test_agreements_active_is_met_without_datasets_needing_one_and_with_an_active_covering_one(g):
    _dataset(g, "open data", needs_agreement=False)
    assert _result(g, "agreements_active").met
    _agreement(g, _dataset(g), "active")
    result = _result(g, "agreements_active")
    assert result.met and result.missing == []


def test_agreements_active_names_each_dataset_and_why(g):
    today = date.today()
    _dataset(g, "a requests")
    draft = _agreement(g, _dataset(g, "b permits"), "draft")
    ended = _agreement(g, _dataset(g, "c inspections"), "expired", expires_on=today - timedelta(days=3))
    stopped = _agreement(g, _dataset(g, "d licences"), "terminated", ended_on=today - timedelta(days=1))
    late = _agreement(g, _dataset(g, "e calls"), "active", expires_on=today)  # active, but its last day has passed
    early = _agreement(g, _dataset(g, "f fines"), "active", starts_on=today + timedelta(days=5))
    result = _result(g, "agreements_active")
    assert not result.met
    assert result.missing == [
        "a requests: no data-sharing agreement covers it",
        f"b permits: agreement {draft.pk} (Sharing (draft)) is not yet active: it is draft",
        f"c inspections: agreement {ended.pk} (Sharing (expired)) expired on {today - timedelta(days=3)}",
        f"d licences: agreement {stopped.pk} (Sharing (terminated)) was terminated on {today - timedelta(days=1)}",
        f"e calls: agreement {late.pk} (Sharing (active)) expired on {today}",
        f"f fines: agreement {early.pk} (Sharing (active)) is not yet active: it starts on {today + timedelta(days=5)}",
    ]


def test_agreements_active_ignores_another_citys_datasets(g):
    from ridp.workspace.models import City, Dataset

    Dataset.objects.create(city=City.objects.get(slug="shelbyville"), name="theirs", needs_agreement=True,
                           created_by=g.admin)  # fmt: skip
    assert _result(g, "agreements_active").met


def test_agreements_active_overridden_keeps_what_was_missing(g):
    _dataset(g, "requests")
    change = _override(g)
    assert (
        "Every dataset that needs an agreement has an active one: requests: no data-sharing agreement covers it"
        in change.missing
    )


# ---- the conditions of later issues ------------------------------------------------------------------------------


def test_an_unavailable_condition_blocks_with_not_available_until(g, monkeypatch):
    """A condition a later issue implements is registered as unavailable: it blocks and says until when."""
    from ridp.workspace import gates

    monkeypatch.setattr(gates, "REGISTRY", dict(gates.REGISTRY))
    gates.unavailable("city_strategy_published", "City data strategy published", "the strategy exists")
    result = gates.REGISTRY["city_strategy_published"].check(g.project)
    assert result.met is False and result.available is False
    assert result.missing == ["not available until the strategy exists"]


def test_the_gates_of_programme_yaml_name_only_registered_conditions():
    from ridp.workspace import cohorts, gates

    for phase in cohorts.defaults().gates:
        assert set(cohorts.gate_conditions(phase)) <= set(gates.REGISTRY)
    assert cohorts.gate_conditions("scoping") == (*SCOPING_IMPLEMENTED, "readiness_not_insufficient")


def test_an_unknown_condition_in_programme_yaml_is_a_clear_error(g, monkeypatch):
    from ridp.workspace import gates

    _only(monkeypatch, "charter_signed", "no_such_condition")
    with pytest.raises(WorkspaceError, match="unknown conditions: no_such_condition"):
        gates.evaluate(g.users["sam"], "springfield", g.project.pk)


def test_a_name_registers_once_unless_replaced(g, monkeypatch):
    from ridp.workspace import gates

    monkeypatch.setitem(gates.REGISTRY, "adoption_decision_made", gates.REGISTRY["adoption_decision_made"])
    with pytest.raises(ValueError, match="registered already"):
        gates.condition("charter_signed", "again")(lambda project: [])

    @gates.condition("adoption_decision_made", "Decision made", replace=True)
    def decided(project: Any) -> list[str]:
        return []

    assert gates.REGISTRY["adoption_decision_made"].available and decided(g.project).met


# ---- the gate as a whole, advancing, overriding ------------------------------------------------------------------


def test_the_scoping_gate_lists_everything_missing_and_blocks(g):
    from ridp.workspace import gates

    _charter(g)
    _team(g, *FULL_TEAM)
    status = gates.evaluate(g.users["vera"], "springfield", g.project.pk)  # anyone who sees the project
    assert (status.from_phase, status.to_phase, status.to_name) == ("scoping", "analysis", "Analysis")
    assert [r.name for r in status.results] == [*SCOPING_IMPLEMENTED, "readiness_not_insufficient"]
    assert not status.passed
    assert status.missing == [
        "Data readiness verdict not “insufficient”: add the project's metric specs: readiness is judged against the datasets they read"
    ]


def test_advance_moves_on_when_the_gate_passes_and_plans_the_next_phases_meetings(g, monkeypatch):
    from ridp.workspace import gates
    from ridp.workspace.models import AuditEntry, CohortPhase, Meeting

    today = date.today()
    CohortPhase.objects.filter(cohort=g.project.cohort, key__in=["analysis", "testing", "closeout"]).delete()
    CohortPhase.objects.create(
        cohort=g.project.cohort, key="analysis", name="Analysis", position=1, starts_on=today + timedelta(days=1),
        ends_on=today + timedelta(days=30), cadence="weekly",
    )  # fmt: skip
    _only(monkeypatch, *SCOPING_IMPLEMENTED)
    _charter(g)
    _team(g, *FULL_TEAM)
    change = gates.advance(g.users["sam"], "springfield", g.project.pk)
    g.project.refresh_from_db()
    assert (g.project.phase, g.project.phase_since) == ("analysis", today)
    assert (change.from_phase, change.to_phase, change.missing, change.override_reason) == (
        "scoping", "analysis", [], "",
    )  # fmt: skip
    planned = Meeting.objects.filter(project=g.project, phase="analysis", kind="weekly_analysis")
    assert planned.count() == 5  # days 1, 8, 15, 22, 29
    entry = AuditEntry.objects.filter(action="gate.passed").get()
    assert entry.detail["to_phase"] == "analysis" and entry.object_id == str(g.project.pk)
    assert gates.history(g.project) == [change]


def test_advance_refuses_a_blocked_gate_naming_what_is_missing(g):
    from ridp.workspace import gates
    from ridp.workspace.models import PhaseChange

    _charter(g, 1, kinds=("team",))
    with pytest.raises(FieldError) as caught:
        gates.advance(g.users["sam"], "springfield", g.project.pk)
    assert caught.value.field == "gate"
    assert "Charter signed: the champion has not signed version 1" in caught.value.reason
    assert "add the project's metric specs: readiness is judged against the datasets they read" in caught.value.reason
    g.project.refresh_from_db()
    assert g.project.phase == "scoping" and not PhaseChange.objects.exists()


@pytest.mark.parametrize("who", ["ana", "eve", "vera", "pia"])
def test_advance_is_for_senior_leaders_coaches_and_admins(g, who):
    from ridp.workspace import gates
    from ridp.workspace.models import AuditEntry

    with pytest.raises(PermissionDeniedError):
        gates.advance(g.users[who], "springfield", g.project.pk)
    assert AuditEntry.objects.filter(action="permission.denied", detail__action_tried="phase.advance").exists()


def test_another_citys_project_is_not_found(g):
    from ridp.workspace import gates

    for call in (
        lambda: gates.evaluate(g.users["otto"], "springfield", g.project.pk),
        lambda: gates.advance(g.users["cole"], "springfield", g.project.pk),
        lambda: gates.override(g.users["cole"], "springfield", g.project.pk, REASON),
        lambda: gates.evaluate(g.users["sam"], "shelbyville", g.project.pk),
    ):
        with pytest.raises(NotFoundError):
            call()


def test_override_moves_a_blocked_project_on_with_its_reason_audited_without_the_text(g):
    from ridp.workspace import gates
    from ridp.workspace.models import AuditEntry

    change = gates.override(g.users["cora"], "springfield", g.project.pk, f"  {REASON}  ")
    g.project.refresh_from_db()
    assert g.project.phase == "analysis" and g.project.phase_since == date.today()
    assert change.override_reason == REASON and change.by == g.users["cora"]
    assert change.missing[0] == "Charter signed: there is no charter yet"
    entry = AuditEntry.objects.filter(action="gate.overridden").get()
    assert entry.detail["gate"] == "scoping" and entry.detail["to_phase"] == "analysis"
    assert entry.detail["reason_length"] == len(REASON) and entry.detail["missing_count"] == len(change.missing)
    assert entry.detail["unmet"] == "charter_signed,team_valid,readiness_not_insufficient"
    assert entry.detail["phase_change"] == change.pk
    assert REASON not in str(entry.detail) and "charter yet" not in str(entry.detail)
    assert gates.history(g.project) == [change]


def test_override_needs_a_written_reason_of_twenty_characters(g):
    from ridp.workspace import gates

    for reason in ("", "   ", "too short a reason", "x\x00" * 20):
        with pytest.raises(FieldError) as caught:
            gates.override(g.users["cora"], "springfield", g.project.pk, reason)
        assert caught.value.field == "reason"
    g.project.refresh_from_db()
    assert g.project.phase == "scoping"


@pytest.mark.parametrize("who", ["sam", "ana", "eve", "vera", "pia"])
def test_override_is_for_coaches_and_programme_admins(g, who):
    from ridp.workspace import gates

    with pytest.raises(PermissionDeniedError):
        gates.override(g.users[who], "springfield", g.project.pk, REASON)


def test_the_programme_admin_overrides_too(g):
    from ridp.workspace import gates

    change = gates.override(g.admin, "springfield", g.project.pk, REASON)
    assert (change.to_phase, change.by) == ("analysis", g.admin)


def test_a_gate_that_passes_is_not_overridden(g, monkeypatch):
    _only(monkeypatch, "charter_signed")
    _charter(g)
    with pytest.raises(FieldError) as caught:
        _override(g)
    assert caught.value.field == "gate"


def test_no_phase_after_the_last(g):
    from ridp.workspace import gates

    for _ in range(3):
        _override(g)
    g.project.refresh_from_db()
    assert g.project.phase == "closeout"
    status = gates.evaluate(g.users["sam"], "springfield", g.project.pk)
    assert status.last and not status.passed and status.results == () and status.to_phase is None
    for call in (
        lambda: gates.advance(g.users["sam"], "springfield", g.project.pk),
        lambda: _override(g),
    ):
        with pytest.raises(FieldError) as caught:
            call()
        assert caught.value.field == "phase" and "Close-out is the last phase" in caught.value.reason
    assert [(c.from_phase, c.to_phase) for c in gates.history(g.project)] == [
        ("scoping", "analysis"), ("analysis", "testing"), ("testing", "closeout"),
    ]  # fmt: skip


def test_an_off_ramped_project_does_not_move_on(g):
    g.project.decision = "off_ramp"
    g.project.save()
    with pytest.raises(FieldError) as caught:
        _override(g)
    assert caught.value.field == "decision"
