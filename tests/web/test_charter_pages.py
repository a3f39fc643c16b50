"""The charter in the browser: the page, editing (versions), history and diff, one version, sign-offs."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.web.conftest import CANARY, csrf_post

TODAY = date.today().isoformat()


def _url(world, tail=""):
    return f"/c/springfield/projects/{world.projects['a'].pk}/charter/{tail}"


def _form(world, **changes):
    """Every field of the charter as the edit page sends it, from the current version."""
    from ridp.workspace import charter

    version = charter.current(world.projects["a"])
    data = {spec.key: charter.value_of(version, spec.key) for spec in charter.CHARTER_FIELDS}
    data.update(changes)
    return data


def test_the_page_shows_the_current_version_its_sign_offs_and_the_comments_marker(world, as_persona):
    page = as_persona("viewer").get(_url(world))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Version 1" in html and "Public Works" in html and "Pat Team" in html
    assert "Not signed" in html and "the champion has not signed version 1" in html
    assert "Record the sign-off" not in html and "Edit the charter" not in html
    assert CANARY not in html
    leader = as_persona("leader").get(_url(world)).content.decode()
    assert "Record the sign-off" in leader and "Edit the charter" in leader
    analyst = as_persona("analyst").get(_url(world)).content.decode()
    assert "Edit the charter" in analyst and "Record the sign-off" not in analyst
    source = (Path(__file__).resolve().parents[2] / "src/ridp/web/templates/ridp/scoping/charter.html").read_text()
    assert '{% include "ridp/projects/_comments.html" %}' in source


def test_the_first_version_starts_from_the_intake(world, as_persona):
    from ridp.workspace.models import CharterVersion, Project

    client = as_persona("leader")
    new = Project.objects.create(
        city=world.springfield, cohort=world.cohorts["a"], title="Bulky items", problem="Three weeks' wait",
        why_it_matters="Kerbs blocked", service_change="Pickups by area", created_by=world.users["leader"],
    )  # fmt: skip
    url = f"/c/springfield/projects/{new.pk}/charter/"
    assert "No charter yet" in client.get(url).content.decode()
    history = client.get(url + "history/")
    assert history.status_code == 200 and "No charter yet." in history.content.decode()
    assert "the champion" not in client.get(f"/c/springfield/projects/{new.pk}/").content.decode()
    assert "there is no charter yet" in client.get(f"/c/springfield/projects/{new.pk}/").content.decode()
    form = client.get(url + "edit/").content.decode()
    assert 'value="Bulky items"' in form and "Three weeks&#x27; wait" in form
    response = csrf_post(
        client,
        url + "edit/",
        {
            "title": "Bulky items",
            "problem_statement": "Three weeks' wait",
            "service_change": "Pickups by area",
            "department": "Sanitation",
        },
    )
    assert response.status_code == 302 and response["Location"] == url
    version = CharterVersion.objects.get(project=new)
    assert version.number == 1 and version.fields["department"] == "Sanitation"


def test_editing_makes_a_new_version_only_when_something_changed(world, as_persona):
    from ridp.workspace.models import CharterVersion

    client = as_persona("expert")
    assert client.get(_url(world, "edit/")).status_code == 200
    same = csrf_post(client, _url(world, "edit/"), _form(world))
    assert same.status_code == 302
    assert CharterVersion.objects.filter(project=world.projects["a"]).count() == 1
    changed = csrf_post(
        client, _url(world, "edit/"), _form(world, goals="Repair within a week\r\nand say so", note="goals")
    )
    assert changed.status_code == 302
    latest = CharterVersion.objects.filter(project=world.projects["a"]).order_by("-number").first()
    assert (
        latest.number == 2 and latest.note == "goals" and latest.fields["goals"] == "Repair within a week\nand say so"
    )


def test_a_bad_edit_is_sent_back_naming_the_field_and_nothing_is_saved(world, as_persona):
    from ridp.workspace.models import CharterVersion

    client = as_persona("leader")
    for changes, marker in (
        ({"title": ""}, 'id="id_title_error"'),
        ({"trade_off": "speed"}, 'id="id_trade_off_error"'),
        ({"department": "x" * 201}, 'id="id_department_error"'),
        ({"department": "two\nlines"}, 'id="id_department_error"'),
        ({"note": "n" * 301}, 'id="id_note_error"'),
    ):
        response = csrf_post(client, _url(world, "edit/"), _form(world, **changes))
        assert response.status_code == 400, changes
        assert marker in response.content.decode(), changes
    assert CharterVersion.objects.filter(project=world.projects["a"]).count() == 1
    assert csrf_post(as_persona("viewer"), _url(world, "edit/"), _form(world, goals="x")).status_code == 403


def test_history_lists_versions_and_shows_an_accessible_word_diff(world, as_persona):
    from ridp.workspace import charter

    leader = world.users["leader"]
    pid = world.projects["a"].pk
    charter.edit(leader, "springfield", pid, {"goals": "Repair potholes within two weeks."})
    charter.edit(leader, "springfield", pid, {"goals": "Repair potholes within one week.", "trade_off": "equity"})
    client = as_persona("viewer")
    page = client.get(_url(world, "history/")).content.decode()
    assert "Version 3" in page and "Version 1" in page and "latest" in page
    diff = client.get(_url(world, "history/") + "?from=2&to=3")
    assert diff.status_code == 200
    html = diff.content.decode()
    assert "What changed from version 2 to version 3" in html
    assert '<del><span class="visually-hidden">removed: </span>two weeks</del>' in html
    assert '<ins><span class="visually-hidden">added: </span>one week</ins>' in html
    assert '<ins><span class="visually-hidden">added: </span>equity</ins>' in html
    for query in ("?from=1&to=9", "?from=x&to=2", "?from=1"):
        bad = client.get(_url(world, "history/") + query)
        assert bad.status_code == 400 and "Choose two versions" in bad.content.decode()


def test_one_version_by_id_and_another_projects_version_is_not_found(world, as_persona):
    client = as_persona("viewer")
    v1 = world.charters["a"]
    page = client.get(_url(world, f"versions/{v1.pk}/"))
    assert page.status_code == 200 and "Charter version 1" in page.content.decode()
    assert "This is the latest version." in page.content.decode()
    other = world.charters["b"].pk
    assert client.get(_url(world, f"versions/{other}/")).status_code == 404


def test_sign_offs_and_the_journey_an_edit_invalidates_them(world, as_persona):
    from ridp.workspace import charter

    leader = as_persona("leader")
    # the leader edits the charter, then team, champion and leadership sign version 2
    assert csrf_post(leader, _url(world, "edit/"), _form(world, metric_target="7 days")).status_code == 302
    for kind, name in (("team", "Ana Analyst"), ("champion", "Pat Lee"), ("leadership", "Mayor Quimby")):
        response = csrf_post(
            leader, _url(world, "sign/"), {"kind": kind, "name": name, "role": "Director", "signed_on": TODAY}
        )
        assert response.status_code == 302
    assert charter.signature_status(world.projects["a"]).signed is True
    page = leader.get(_url(world)).content.decode()
    assert "Signed" in page and "signed version 2, the latest" in page
    # the analyst changes a field: the sign-offs are shown invalidated, naming it
    analyst = as_persona("analyst")
    assert csrf_post(analyst, _url(world, "edit/"), _form(world, metric_baseline="21 days")).status_code == 302
    status = charter.signature_status(world.projects["a"])
    assert status.signed is False and status.version == 3
    page = leader.get(_url(world)).content.decode()
    assert "Not signed" in page and "the champion has not signed version 3" in page
    assert page.count("invalidated</span> signed version 2; version 3 changed it") == 3
    assert "Success metric: baseline" in page and "?from=2&amp;to=3" in page


def test_a_bad_sign_off_names_the_field_and_saves_nothing(world, as_persona):
    from ridp.workspace.models import SignOff

    before = SignOff.objects.count()
    client = as_persona("admin")
    future = (date.today() + timedelta(days=2)).isoformat()
    for data, marker in (
        ({"kind": "champion", "name": "", "role": "Director", "signed_on": TODAY}, 'id="id_name_error"'),
        ({"kind": "mayor", "name": "P", "role": "Director", "signed_on": TODAY}, 'id="id_kind_error"'),
        ({"kind": "champion", "name": "P", "role": "Director", "signed_on": future}, 'id="id_signed_on_error"'),
    ):
        response = csrf_post(client, _url(world, "sign/"), data)
        assert response.status_code == 400, data
        assert marker in response.content.decode(), data
    assert SignOff.objects.count() == before
    refused = csrf_post(
        as_persona("coach"), _url(world, "sign/"), {"kind": "team", "name": "P", "role": "R", "signed_on": TODAY}
    )
    assert refused.status_code == 403 and SignOff.objects.count() == before
