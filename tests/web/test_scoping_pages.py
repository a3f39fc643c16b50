"""Scoping in the browser: the five criteria, rating forms, value x complexity, the decision, the overview panel."""

from __future__ import annotations

from datetime import date, timedelta

from tests.web.conftest import CANARY, csrf_post

KEYS = ["resident_impact", "appetite", "data_quality", "earlier_attempts", "fits_process"]


def _url(world, tail=""):
    return f"/c/springfield/projects/{world.projects['a'].pk}/scoping/{tail}"


def test_the_page_lists_the_five_criteria_with_the_readiness_note(world, as_persona):
    page = as_persona("viewer").get(_url(world))
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("Direct positive impact on residents", "Sufficient quality data", "fits an existing process"):
        assert name in html
    assert "data readiness verdict" in html
    assert 'aria-current="page">Scoping' in html
    # a viewer reads but gets no forms
    assert "Save the rating" not in html and "Record the decision" not in html
    assert CANARY not in html


def test_forms_follow_the_role(world, as_persona):
    leader = as_persona("leader").get(_url(world)).content.decode()
    assert leader.count("Save the rating") == 5 and "Save value and complexity" in leader
    assert "Record the decision" not in leader
    coach = as_persona("coach").get(_url(world)).content.decode()
    assert "Record the decision" in coach
    assert 'id="id_appetite_evidence"' in coach and 'for="id_appetite_evidence"' in coach


def test_a_rating_is_saved_and_shown_with_rater_date_and_history(world, as_persona):
    from ridp.workspace.models import CriterionRating

    client = as_persona("leader")
    response = csrf_post(
        client, _url(world, "rate/"), {"criterion": "appetite", "score": "1", "evidence": "Council asked"}
    )
    assert response.status_code == 302 and response["Location"] == _url(world)
    csrf_post(client, _url(world, "rate/"), {"criterion": "appetite", "score": "2", "evidence": "Mayor's speech"})
    page = client.get(_url(world)).content.decode()
    assert "Mayor&#x27;s speech" in page and "Council asked" in page and "History: 2 ratings" in page
    assert "2 — met" in page and "leader" in page and date.today().isoformat() in page
    assert CriterionRating.objects.filter(project=world.projects["a"], criterion="appetite").count() == 2


def test_a_bad_rating_is_sent_back_naming_the_field_and_nothing_is_saved(world, as_persona):
    from ridp.workspace.models import CriterionRating

    client = as_persona("coach")
    cases = [
        ({"criterion": "appetite", "score": "1", "evidence": ""}, 'id="id_appetite_evidence_error"'),
        ({"criterion": "appetite", "score": "5", "evidence": "e"}, 'id="id_appetite_score_error"'),
        (
            {"criterion": "appetite", "score": "1", "evidence": "e",
             "rated_on": (date.today() + timedelta(days=3)).isoformat()},
            'id="id_appetite_rated_on_error"',
        ),
        ({"criterion": "speed", "score": "1", "evidence": "e"}, "Select a valid choice"),
    ]  # fmt: skip
    for data, marker in cases:
        response = csrf_post(client, _url(world, "rate/"), data)
        assert response.status_code == 400, data
        assert marker in response.content.decode(), data
    assert not CriterionRating.objects.exists()


def test_raters_only(world, as_persona):
    from ridp.workspace.models import CriterionRating

    for persona in ("analyst", "expert", "viewer"):
        response = csrf_post(
            as_persona(persona), _url(world, "rate/"), {"criterion": "appetite", "score": "1", "evidence": "e"}
        )
        assert response.status_code == 403
    assert not CriterionRating.objects.exists()


def test_value_and_complexity(world, as_persona):
    from ridp.workspace.models import Project

    client = as_persona("panalyst")
    assert csrf_post(client, _url(world, "value/"), {"value": "high", "complexity": "low"}).status_code == 302
    project = Project.objects.get(pk=world.projects["a"].pk)
    assert (project.value, project.complexity) == ("high", "low")
    bad = csrf_post(client, _url(world, "value/"), {"value": "huge", "complexity": "high"})
    assert bad.status_code == 400 and 'id="id_value_error"' in bad.content.decode()
    assert Project.objects.get(pk=project.pk).complexity == "low"
    assert (
        csrf_post(as_persona("analyst"), _url(world, "value/"), {"value": "low", "complexity": "low"}).status_code
        == 403
    )


def _rate_all(world):
    from ridp.workspace.scoping import rate

    for key in KEYS:
        rate(world.users["coach"], "springfield", world.projects["a"].pk, key, 2, f"evidence {key}")


def test_deciding_before_all_five_are_rated_is_refused_on_the_page(world, as_persona):
    from ridp.workspace.models import Project

    client = as_persona("coach")
    assert "Rate all five criteria before deciding" in client.get(_url(world)).content.decode()
    response = csrf_post(client, _url(world, "decide/"), {"decision": "accept"})
    assert response.status_code == 400 and 'id="id_decision_error"' in response.content.decode()
    assert "not yet rated" in response.content.decode()
    assert Project.objects.get(pk=world.projects["a"].pk).decision == ""


def test_the_coach_decides_off_ramp_needing_the_other_help(world, as_persona):
    from ridp.workspace.models import Project

    _rate_all(world)
    client = as_persona("coach")
    bad = csrf_post(client, _url(world, "decide/"), {"decision": "off_ramp", "reason": "No appetite"})
    assert bad.status_code == 400 and 'id="id_other_help_error"' in bad.content.decode()
    assert Project.objects.get(pk=world.projects["a"].pk).decision == ""
    ok = csrf_post(
        client, _url(world, "decide/"), {"decision": "off_ramp", "reason": "No appetite", "other_help": "A clinic"}
    )
    assert ok.status_code == 302
    project = Project.objects.get(pk=world.projects["a"].pk)
    assert (project.decision, project.other_help, project.decided_by) == ("off_ramp", "A clinic", world.users["coach"])
    page = client.get(_url(world)).content.decode()
    assert "off-ramp" in page and "A clinic" in page
    assert csrf_post(as_persona("leader"), _url(world, "decide/"), {"decision": "accept"}).status_code == 403


def test_another_citys_scoping_is_not_found(world, as_persona):
    b = world.projects["b"].pk
    assert as_persona("leader").get(f"/c/shelbyville/projects/{b}/scoping/").status_code == 404
    assert as_persona("leader").get(f"/c/springfield/projects/{b}/scoping/").status_code == 404


def test_the_overview_shows_the_scoping_and_charter_panels(world, as_persona):
    _rate_all(world)
    page = as_persona("viewer").get(f"/c/springfield/projects/{world.projects['a'].pk}/").content.decode()
    assert "5 of 5 rated; 10 of 10 points." in page
    assert "Open scoping" in page and "Open the charter" in page
    assert "the champion has not signed version 1" in page
