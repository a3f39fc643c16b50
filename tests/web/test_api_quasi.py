"""Quasi-experimental methods and the adoption decision through the API: a DiD and an interrupted time series
return exactly run_method's result, wrong parameters are a 422 naming the field, viewers and other cities are
refused; the senior leader records a decision and everyone in the city lists it, latest first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.web.test_api_analysis import _send, bearer
from tests.web.test_quasi_pages import DID, ITS, SYNTH, add_quasi_data


def _methods(world: Any, name: str, city: str = "springfield") -> str:
    from ridp.workspace.models import Dataset

    found = Dataset.objects.get(city__slug=city, name=name)
    return f"/api/cities/{city}/datasets/{found.pk}/methods"


def test_did_and_its_return_run_methods_result(world: Any, tmp_path: Path) -> None:
    from ridp.workspace.quasi import run_method

    add_quasi_data(world, tmp_path)
    analyst, viewer = bearer(world, "analyst"), bearer(world, "viewer")
    for name, method, params in (("did_panel", "did", DID), ("bins", "its", ITS), ("sales", "synth", SYNTH)):
        direct = run_method(world.users["analyst"], "springfield", name, method, params)
        answer = _send(analyst, "POST", f"{_methods(world, name)}/{method}", {"params": params, "version": 1})
        assert answer.status_code == 200, answer.content
        assert answer.json() == json.loads(json.dumps(direct.to_dict()))  # every number, table and warning
        if method == "its":
            assert answer.json()["tables"]["rate_ratio"][0]["rate_ratio"] < 1
    assert answer.json()["detail_kind"] == "synthetic" and answer.json()["tables"]["weights"]

    did = f"{_methods(world, 'did_panel')}/did"
    wrong = _send(analyst, "POST", did, {"params": {**DID, "cluster": None, "se": "CR2"}})
    assert wrong.status_code == 422 and wrong.json()["detail"] == [
        {"field": "se", "msg": "CR2 errors need cluster=<column>"}
    ]
    missing = _send(analyst, "POST", did, {"params": {**DID, "outcome": "colour"}})
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "columns"
    assert _send(analyst, "POST", did, {"params": {**DID, "colour": "red"}}).status_code == 422  # unknown key
    twice = _send(analyst, "POST", did, {"params": {**DID, "post": "treated"}})
    assert twice.status_code == 422 and twice.json()["detail"][0]["field"] == "post"
    assert _send(analyst, "POST", did, {"params": DID, "version": 9}).status_code == 404
    bare = analyst.generic("POST", did)  # no body: what is missing, once the permission is checked
    assert bare.status_code == 422 and bare.json()["detail"][0]["field"] == "params"
    assert analyst.generic("POST", f"{_methods(world, 'did_panel')}/anova").status_code == 404

    assert _send(viewer, "POST", did, {"params": DID}).status_code == 403  # viewers read no rows
    assert viewer.generic("POST", did).status_code == 403
    theirs = f"{_methods(world, 'requests', 'shelbyville')}/did"
    assert _send(analyst, "POST", theirs, {"params": {**DID, "outcome": "request_id"}}).status_code == 404


def test_the_leader_records_a_decision_and_everyone_lists_it(world: Any) -> None:
    from ridp.workspace.adoption import describe_decision
    from ridp.workspace.models import AdoptionDecision

    leader, analyst, viewer = bearer(world, "leader"), bearer(world, "analyst"), bearer(world, "viewer")
    url = f"/api/cities/springfield/projects/{world.projects['a'].pk}/decisions"
    estimate = world.estimates["a"].pk
    listed = viewer.get(url)
    assert listed.status_code == 200 and [d["id"] for d in listed.json()] == [world.decisions["a"].pk]
    assert listed.json()[0]["description"] == describe_decision(world.decisions["a"])

    body = {"decision": "stop", "reason": "No effect worth its cost.", "estimate_id": estimate}
    made = _send(leader, "POST", url, body)
    assert made.status_code == 200, made.content
    out = made.json()
    assert (out["decision"], out["estimate_id"], out["pilot"], out["decided_by"]) == ("stop", estimate,
                                                                                     "matrix-pilot", "leader")  # fmt: skip
    assert out["description"] == describe_decision(AdoptionDecision.objects.get(pk=out["id"]))
    assert [d["id"] for d in analyst.get(url).json()] == [out["id"], world.decisions["a"].pk]  # latest first

    assert _send(analyst, "POST", url, body).status_code == 403
    blank = _send(leader, "POST", url, {**body, "reason": "   "})
    assert blank.status_code == 422 and blank.json()["detail"][0]["field"] == "reason"
    assert _send(leader, "POST", url, {**body, "decision": "expand"}).status_code == 422
    assert _send(leader, "POST", url, {**body, "estimate_id": world.estimates["b"].pk}).status_code == 404
    assert leader.generic("POST", url).json()["detail"][0]["field"] == "decision"
    theirs = f"/api/cities/shelbyville/projects/{world.projects['b'].pk}/decisions"
    assert leader.get(theirs).status_code == 404 and _send(leader, "POST", theirs, body).status_code == 404
    assert AdoptionDecision.objects.filter(project=world.projects["a"]).count() == 2
