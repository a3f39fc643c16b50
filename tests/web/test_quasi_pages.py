"""Quasi-experimental analysis of a dataset in the browser, and the project's adoption decision: a DiD and an
interrupted time series run through the page give run_method's numbers with the method's chart and tables, a
wrong input comes back beside its field, a pilot's outcome data wait for its frozen plan, viewers and other
cities are refused, and the senior leader's decision appears in the list everyone reads."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.urls import reverse

from tests.web.conftest import CANARY, _parse_once_per_session, csrf_post

DID = {"outcome": "days", "group": "treated", "post": "after", "cluster": "area", "se": "auto"}
SYNTH = {"outcome": "sales", "unit": "town", "time": "year", "treated_unit": "T0", "start": 2010,
         "predictors": ["income"], "special": [("sales", 2005, 2005)], "placebos": True, "starts": 1}  # fmt: skip
ITS = {"outcome": "missed", "time": "week", "post": "optimised", "family": "quasipoisson", "slope_change": False,
       "se": "auto"}  # fmt: skip


def _text(response: Any) -> str:
    return html.unescape(bytes(response.content).decode())


def add_quasi_data(world: Any, tmp: Path) -> None:
    """Three datasets of Springfield: ``did_panel`` (20 areas, half treated, before and after: 1.5 days faster
    where treated, after), ``bins`` (104 weeks of missed-bin counts, 30% fewer from week 60) and ``sales``
    (8 towns, 2000-2015: town T0 sells 6 fewer from 2010)."""
    from ridp.workspace import datasets

    rng = np.random.default_rng(4)
    rows = [{"area": f"A{a:02d}", "treated": int(a < 10), "after": p, "days": round(6 + rng.normal(0, 1) + 0.5 * p
             - 1.5 * (a < 10) * p, 3)} for a in range(20) for p in (0, 1) for _ in range(10)]  # fmt: skip
    weeks = pd.date_range("2024-01-01", periods=104, freq="7D")
    after = np.arange(104) >= 60
    bins = pd.DataFrame({"week": weeks.strftime("%Y-%m-%d"), "optimised": after.astype(int),
                         "missed": rng.poisson(80 * np.exp(0.002 * np.arange(104)) * np.where(after, 0.7, 1.0))})  # fmt: skip
    towns = []
    for town in range(8):
        base = rng.normal(50, 5)
        towns += [{"town": f"T{town}", "year": year, "income": round(base / 10 + rng.normal(0, 0.1), 3),
                   "sales": round(base + 0.5 * (year - 2000) + rng.normal(0, 1) - 6 * (town == 0 and year >= 2010), 3)}
                  for year in range(2000, 2016)]  # fmt: skip
    with _parse_once_per_session():
        for name, frame in (("did_panel", pd.DataFrame(rows)), ("bins", bins), ("sales", pd.DataFrame(towns))):
            path = tmp / f"{name}.csv"
            frame.to_csv(path, index=False)
            datasets.add_file(world.users["analyst"], path, city="springfield", name=name)


def _quasi_url(world: Any, name: str, city: str = "springfield") -> str:
    from ridp.workspace.models import Dataset

    found = Dataset.objects.get(city__slug=city, name=name)
    return reverse("dataset_quasi", kwargs={"city": city, "dataset_id": found.pk})


def _form(params: dict[str, Any], method: str) -> dict[str, Any]:
    """The form's fields for ``params`` (an unticked box is left out, as a browser does)."""
    fields = {"method": method, **{k: v for k, v in params.items() if v is not False}}
    if "special" in fields:
        fields["special"] = "\n".join(":".join(map(str, item)) for item in fields["special"])
    return fields


def test_did_and_its_through_the_page_give_run_methods_numbers_and_refusals_come_back(
    world: Any, as_persona: Any, tmp_path: Path
) -> None:
    from ridp.workspace import pilots, plans
    from ridp.workspace.datasets import get_dataset
    from ridp.workspace.quasi import run_method

    add_quasi_data(world, tmp_path)
    analyst = as_persona("analyst")
    url = _quasi_url(world, "did_panel")
    overview = _text(analyst.get(reverse("dataset", kwargs={"city": "springfield",
                                                             "dataset_id": get_dataset(world.users["analyst"], "springfield", "did_panel").pk})))  # fmt: skip
    assert f'href="{url}"' in overview and "Quasi-experimental analysis" in overview

    page = analyst.get(url)
    text = _text(page)
    assert page.status_code == 200 and 'name="method"' in text and '<option value="its">' in text
    for column in ("area", "treated", "after", "days"):  # the column selects offer the dataset's own columns
        assert f'<option value="{column}">{column}</option>' in text
    assert "<script" not in text.split("</header>", 1)[-1]
    its_form = _text(analyst.get(url + "?method=its"))
    assert 'id="id_family"' in its_form and 'id="id_group"' not in its_form

    for name, method, params in (("did_panel", "did", DID), ("bins", "its", ITS), ("sales", "synth", SYNTH)):
        direct = run_method(world.users["analyst"], "springfield", name, method, params)
        ran = csrf_post(analyst, _quasi_url(world, name), _form(params, method))
        text = _text(ran)
        assert ran.status_code == 200, text[-3000:]
        for line in direct.summary().splitlines():  # the same numbers, line by line, warnings apart
            assert line.removeprefix("Warning: ") in text, line
        assert "<svg" in text and 'id="result-detail"' in text
        assert "<script" not in text.split("</header>", 1)[-1]
        if method == "its":
            assert 'id="result-rate_ratio"' in text and "Rate ratio at the change" in text
    assert 'id="result-weights"' in text and 'id="result-placebos"' in text  # the synthetic control's tables

    # a wrong input: beside its field (the form's own check, and the estimator's FieldError)
    bad = csrf_post(analyst, url, _form({**DID, "outcome": "colour"}, "did"))
    assert bad.status_code == 400 and 'id="id_outcome_error">Select a valid choice.' in _text(bad)
    bad = csrf_post(analyst, url, _form({**DID, "cluster": "", "se": "CR2"}, "did"))
    assert bad.status_code == 400 and 'id="id_se_error">CR2 errors need cluster=&lt;column&gt;' in bad.content.decode()
    bad = csrf_post(analyst, url, _form({**DID, "post": "treated"}, "did"))
    assert bad.status_code == 400 and 'id="id_post_error">treated is the Treated group column already' in _text(bad)
    assert csrf_post(analyst, url, {"method": "anova"}).status_code == 400

    # a pilot's outcome data: refused until its plan is frozen, with the reason above the form
    pk = world.projects["a"].pk
    pilots.create_pilot(world.users["analyst"], "springfield", pk, "bins-pilot", "Optimised bin routes")
    plans.link_outcomes(world.users["analyst"], "springfield", pk, "bins-pilot", "bins")
    refused = csrf_post(analyst, _quasi_url(world, "bins"), _form(ITS, "its"))
    assert refused.status_code == 400
    assert "bins is the outcome data of pilot bins-pilot, whose analysis plan is not frozen" in _text(refused)

    # viewers read no rows; another city's dataset does not exist here
    viewer = as_persona("viewer")
    assert viewer.get(url).status_code == 403 and csrf_post(viewer, url, _form(DID, "did")).status_code == 403
    theirs = _quasi_url(world, "requests", "shelbyville")
    assert analyst.get(theirs).status_code == 404
    other = csrf_post(analyst, theirs, _form({"outcome": "request_id"}, "did"))
    assert other.status_code == 404 and CANARY not in _text(other)


def test_the_senior_leader_records_the_adoption_decision_and_everyone_reads_it(world: Any, as_persona: Any) -> None:
    from ridp.workspace.adoption import describe_decision
    from ridp.workspace.models import AdoptionDecision

    project, estimate = world.projects["a"], world.estimates["a"]
    url = reverse("adoption", kwargs={"city": "springfield", "project_id": project.pk})
    leader, analyst = as_persona("leader"), as_persona("analyst")
    page = _text(leader.get(url))
    assert "Record the decision" in page and f'<option value="{estimate.pk}">Estimate {estimate.pk} of pilot' in page
    assert describe_decision(world.decisions["a"]) in page  # the world's decision

    empty = csrf_post(leader, url, {"decision": "scale", "reason": " ", "estimate": str(estimate.pk)})
    assert empty.status_code == 400 and 'id="id_reason_error">' in _text(empty)
    wrong = csrf_post(leader, url, {"decision": "expand", "reason": "More", "estimate": str(estimate.pk)})
    assert wrong.status_code == 400 and 'id="id_decision_error">' in _text(wrong)
    assert AdoptionDecision.objects.filter(project=project).count() == 1

    made = csrf_post(leader, url, {"decision": "scale", "reason": "Repairs came 1.5 days sooner; citywide next year.",
                                   "estimate": str(estimate.pk)})  # fmt: skip
    assert made.status_code == 302 and made["Location"] == url + "#h-decisions"
    latest = AdoptionDecision.objects.filter(project=project).first()
    assert latest is not None and latest.decision == "scale" and latest.decided_by == world.users["leader"]

    seen = _text(analyst.get(url))  # the analyst reads the list (latest first) but gets no form
    assert seen.index(describe_decision(latest)) < seen.index(describe_decision(world.decisions["a"]))
    assert "Record the decision" not in seen and "<form" not in seen.split("</header>", 1)[-1].split("<footer", 1)[0]
    assert (
        csrf_post(analyst, url, {"decision": "stop", "reason": "No", "estimate": str(estimate.pk)}).status_code == 403
    )
    assert as_persona("viewer").get(url).status_code == 200

    pilot_page = _text(analyst.get(reverse("pilot", kwargs={"city": "springfield", "project_id": project.pk,
                                                            "pilot": world.pilots["a"].name})))  # fmt: skip
    assert "Repairs came 1.5 days sooner; citywide next year." in pilot_page and f'href="{url}"' in pilot_page
    listing = _text(analyst.get(reverse("pilots", kwargs={"city": "springfield", "project_id": project.pk})))
    assert "Repairs came 1.5 days sooner" in listing and "Adoption decision" in listing
    overview = _text(analyst.get(reverse("project", kwargs={"city": "springfield", "project_id": project.pk})))
    assert "Repairs came 1.5 days sooner" in overview and f'href="{url}"' in overview  # the tab and the decision

    theirs = reverse("adoption", kwargs={"city": "shelbyville", "project_id": world.projects["b"].pk})
    assert leader.get(theirs).status_code == 404
    assert csrf_post(leader, theirs, {"decision": "stop", "reason": "x", "estimate": "1"}).status_code == 404
    assert csrf_post(leader, url, {"decision": "stop", "reason": "x",
                                   "estimate": str(world.estimates["b"].pk)}).status_code == 400  # fmt: skip
