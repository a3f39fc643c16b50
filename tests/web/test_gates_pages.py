"""The phase gate in the browser: what is missing, moving on when it passes, a coach's override with a reason."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import CANARY, csrf_post

REASON = "Readiness is checked by hand this cohort; the coach reviewed the data."


def _url(world: Any, tail: str = "") -> str:
    return f"/c/springfield/projects/{world.projects['a'].pk}/gate/{tail}"


@pytest.fixture
def implemented_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scoping gate without the readiness condition (a later issue's), so it can pass."""
    from ridp.workspace import cohorts

    real = cohorts.gate_conditions
    monkeypatch.setattr(
        cohorts,
        "gate_conditions",
        lambda phase: ("charter_signed", "team_valid", "agreements_active") if phase == "scoping" else real(phase),
    )


def _complete(world: Any) -> None:
    """Sign the charter by all three and make the team valid."""
    from datetime import date

    from ridp.workspace.models import ProjectMember, SignOff

    project, charter = world.projects["a"], world.charters["a"]
    for kind in ("champion", "leadership"):
        SignOff.objects.create(version=charter, kind=kind, name="Pat", role="director", signed_on=date.today(),
                               recorded_by=world.users["leader"])  # fmt: skip
    for persona, role in (("leader", "senior_leader"), ("expert", "subject_matter_expert"), ("coach", "coach"),
                          ("panalyst", "programme_analyst")):  # fmt: skip
        ProjectMember.objects.create(project=project, user=world.users[persona], role=role)


def test_everyone_sees_what_the_gate_misses_and_only_coaches_get_the_override_form(world, as_persona):
    page = as_persona("viewer").get(_url(world)).content.decode()
    assert "The gate from Scoping to Analysis" in page
    assert "the champion has not signed version 1" in page and "no senior leader on the team" in page
    assert "add the project&#x27;s metric specs: readiness is judged against the datasets they read" in page
    assert "gate blocked: 8 things missing" in page
    assert "Override the gate" not in page and "Move on to" not in page and CANARY not in page
    assert 'aria-current="page">Phase gates' in page
    coach = as_persona("coach").get(_url(world)).content.decode()
    assert "Override the gate" in coach and 'name="reason"' in coach
    assert "Override the gate" not in as_persona("leader").get(_url(world)).content.decode()


def test_advancing_a_blocked_gate_says_what_is_missing(world, as_persona):
    response = csrf_post(as_persona("leader"), _url(world, "advance/"))
    assert response.status_code == 400
    assert "the gate out of Scoping is blocked" in response.content.decode()
    world.projects["a"].refresh_from_db()
    assert world.projects["a"].phase == "scoping"


def test_a_passing_gate_offers_to_move_on_and_moves_on(world, as_persona, implemented_only):
    from ridp.workspace.models import PhaseChange

    _complete(world)
    client = as_persona("leader")
    page = client.get(_url(world)).content.decode()
    assert "gate passes" in page and "Move on to Analysis" in page
    assert "Move on to Analysis" not in as_persona("analyst").get(_url(world)).content.decode()
    response = csrf_post(client, _url(world, "advance/"))
    assert response.status_code == 302 and response["Location"] == _url(world)
    assert "The project moved on to Analysis." in client.get(response["Location"]).content.decode()
    change = PhaseChange.objects.get(project=world.projects["a"])
    assert (change.from_phase, change.to_phase, change.override_reason) == ("scoping", "analysis", "")


def test_a_coach_overrides_a_blocked_gate_with_a_reason(world, as_persona):
    from ridp.workspace.models import PhaseChange

    client = as_persona("coach")
    short = csrf_post(client, _url(world, "override/"), {"reason": "because"})
    assert short.status_code == 400 and 'id="id_reason_error"' in short.content.decode()
    assert not PhaseChange.objects.exists()
    response = csrf_post(client, _url(world, "override/"), {"reason": REASON})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "The gate is overridden: the project moved on to Analysis." in page
    assert REASON in page and "overridden" in page
    change = PhaseChange.objects.get(project=world.projects["a"])
    assert (
        change.override_reason == REASON and "Charter signed: the champion has not signed version 1" in change.missing
    )
    assert csrf_post(as_persona("leader"), _url(world, "override/"), {"reason": REASON}).status_code == 403


def test_the_overview_shows_the_gate(world, as_persona):
    page = as_persona("viewer").get(f"/c/springfield/projects/{world.projects['a'].pk}/").content.decode()
    assert "Phase gate" in page and "From Scoping to Analysis." in page and "gate blocked" in page
