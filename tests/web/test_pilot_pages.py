"""Pilots in the browser: power on the city's history (the red flag when it is too little), the units randomised
and confirmed by a second person, the plan frozen before the outcomes, the estimate in residents' terms and its
reanalysis by the standalone script, and who may do what."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
from django.urls import reverse

from tests.web.conftest import CANARY, _parse_once_per_session, csrf_post

AREAS = [f"A{k:02d}" for k in range(1, 21)]
EFFECT = -1.5  # days the planted second crew saves per request

PLAN = """\
title: A second pothole crew
questions:
  - Do residents of treated areas wait fewer days for a repair?
hypotheses:
  - Requests in treated areas close sooner.
primary:
  column: days_to_close
  label: Days from report to repair
  better: lower
  measure: days of waiting
  per: request
  volume: 9000
  volume_label: pothole reports per year
treatment: treated
unit: request_id
cluster: area_id
estimator: difference_in_means
se: CR2
alpha: 0.05
correction: holm
"""


def _url(world: Any, name: str, key: str = "a", **extra: Any) -> str:
    city = "springfield" if key == "a" else "shelbyville"
    return reverse(name, kwargs={"city": city, "project_id": world.projects[key].pk, **extra})


def _text(response: Any) -> str:
    return html.unescape(bytes(response.content).decode())


def _add(world: Any, tmp: Path, name: str, lines: list[str], who: str = "analyst", city: str = "springfield") -> None:
    from ridp.workspace import datasets

    path = tmp / f"{name}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with _parse_once_per_session():  # the same small files in several tests: each is parsed once
        datasets.add_file(world.users[who], path, city=city, name=name)


def _history_and_units(world: Any, tmp: Path) -> None:
    """Twenty areas: 400 past requests (days to close, each area its own pace) and one row per area."""
    rng = np.random.default_rng(9)
    pace = dict(zip(AREAS, np.exp(rng.normal(0, 0.3, len(AREAS))), strict=True))
    history = ["request_id,area_id,days"]
    for k in range(400):
        area = AREAS[k % len(AREAS)]
        history.append(f"H{k},{area},{4 * pace[area] * np.exp(rng.normal(0, 0.8)):.2f}")
    _add(world, tmp, "pilot_history", history)
    _add(world, tmp, "pilot_units", ["area_id,population", *(f"{a},{rng.integers(2000, 9000)}" for a in AREAS)])


def _outcomes(world: Any, tmp: Path, arms: dict[str, bool]) -> None:
    """Requests during the pilot: 25 per area, EFFECT days faster where the second crew works."""
    rng = np.random.default_rng(11)
    lines, n = ["request_id,area_id,treated,days_to_close"], 0
    for area in AREAS:
        for _ in range(25):
            n += 1
            days = max(4 * np.exp(rng.normal(0, 0.5)) + (EFFECT if arms[area] else 0.0), 0.1)
            lines.append(f"P{n},{area},{int(arms[area])},{days:.2f}")
    _add(world, tmp, "pilot_outcomes", lines)


def test_the_analyst_designs_a_pilot_end_to_end_and_a_second_person_confirms(
    world: Any, as_persona: Any, tmp_path: Path
) -> None:
    from ridp.workspace import pilots
    from ridp.workspace.models import Pilot, PlanRecord

    _history_and_units(world, tmp_path)
    analyst, leader = as_persona("analyst"), as_persona("leader")
    listing = analyst.get(_url(world, "pilots"))
    assert listing.status_code == 200 and "Start a pilot" in _text(listing) and "Matrix pilot" in _text(listing)
    assert f'href="{_url(world, "pilots")}"' in _text(analyst.get(_url(world, "project")))  # the tab
    started = csrf_post(analyst, _url(world, "pilots"), {"name": "second-crew", "title": "A second pothole crew"})
    page_url = _url(world, "pilot", pilot="second-crew")
    assert started.status_code == 302 and started["Location"] == page_url + "#h-power"
    pilot = Pilot.objects.get(project=world.projects["a"], name="second-crew")

    # power: a planned effect far too small for 20 areas is flagged before the pilot starts
    power = csrf_post(analyst, _url(world, "pilot_power", pilot=pilot.name),
                      {"history": "pilot_history", "outcome": "days", "cluster": "area_id", "effects": "-1, -2",
                       "sizes": "10, 20", "planned_effect": "-0.2", "share_treated": "0.5", "draws": "200",
                       "seed": "3"})  # fmt: skip
    assert power.status_code == 302, _text(power)[-3000:]
    page = _text(analyst.get(page_url))
    assert "Too little power" in page and "notice-error" in page and "<svg" in page
    assert "pilot_history version 1 (400 units)" in page and "200 draws per size, seed 3" in page
    assert "<script" not in page.split("</header>", 1)[-1]  # the charts need no script

    # randomisation: the analyst draws it, the analyst may not confirm it, the senior leader reruns it
    drawn = csrf_post(analyst, _url(world, "pilot_randomise", pilot=pilot.name),
                      {"units": "pilot_units", "unit": "area_id", "method": "simple", "share_treated": "0.5",
                       "seed": "2026", "covariates": "population"})  # fmt: skip
    assert drawn.status_code == 302, _text(drawn)[-3000:]
    chosen = pilots.latest_randomisation(pilot)
    assert chosen is not None and chosen.record["seed"] == 2026
    page = _text(analyst.get(page_url))
    assert f"<code>{chosen.fingerprint}</code>" in page and "<code>2026</code>" in page and "population" in page
    assert "Confirm by rerunning" not in page and "a second person confirms it by rerunning it" in page
    assert "Confirm by rerunning" in _text(leader.get(page_url))
    confirmed = csrf_post(leader, _url(world, "pilot_confirm", pilot=pilot.name, randomisation_id=chosen.pk))
    assert confirmed.status_code == 302
    page = _text(analyst.get(page_url))
    assert "leader reran it on" in page and "the same assignment" in page

    # the plan: saved as a draft, then frozen with its SHA-256 and UTC time
    saved = csrf_post(analyst, _url(world, "plan_save", pilot=pilot.name), {"yaml": PLAN})
    assert saved.status_code == 302 and "A draft, not frozen yet" in _text(analyst.get(page_url))
    frozen = csrf_post(analyst, _url(world, "plan_freeze", pilot=pilot.name), {"yaml": PLAN})
    assert frozen.status_code == 302, _text(frozen)[-3000:]
    record = PlanRecord.objects.get(pilot=pilot)
    page = _text(analyst.get(page_url))
    assert record.frozen_at is not None and record.sha256 in page and "by analyst" in page
    assert f"Frozen on {record.frozen_at:%Y-%m-%d %H:%M:%S} UTC" in page and "Save draft" not in page
    assert "Record a deviation" in page and "frozen late" not in page

    # outcomes arrive, are linked, estimated under the plan and reanalysed by the standalone script
    frame = pilots.assignment_of(chosen).arms
    _outcomes(world, tmp_path, {u: a == "treatment" for u, a in zip(frame["unit"], frame["arm"], strict=True)})
    linked = csrf_post(analyst, _url(world, "pilot_outcomes", pilot=pilot.name), {"dataset": "pilot_outcomes"})
    assert linked.status_code == 302
    estimated = csrf_post(analyst, _url(world, "pilot_evaluate", pilot=pilot.name))
    assert estimated.status_code == 302, _text(estimated)[-3000:]
    estimate = pilot.estimates.get()
    page = _text(analyst.get(page_url))
    primary = estimate.result["estimates"][0]
    assert -2.5 < primary["effect"] < -0.5 and primary["se_type"] == "CR2"
    assert "In residents' terms (days_to_close):" in page and "fewer days of waiting per request" in page
    assert "resident-days of waiting saved per year" in page and "CR2 clustered standard errors" in page
    assert "Not reanalysed yet." in page and page.count("<svg") >= 2
    redone = csrf_post(analyst, _url(world, "pilot_reanalyse", pilot=pilot.name, estimate_id=estimate.pk))
    assert redone.status_code == 302
    page = _text(analyst.get(page_url))
    estimate.refresh_from_db()
    assert estimate.reanalysis is not None and estimate.reanalysis["matches"] is True
    assert "the numbers match" in page and f"reanalyse_{record.sha256[:12]}.py" in page
    assert "ridp's numbers and the script's" in page
    listing = _text(analyst.get(_url(world, "pilots")))
    assert "confirmed" in listing and f"frozen {record.frozen_at:%Y-%m-%d}" in listing
    assert CANARY not in page and CANARY not in listing


def _pilot_with_plan(world: Any, *, frozen: bool) -> Any:
    from ridp.workspace import pilots, plans

    analyst = world.users["analyst"]
    pilot = pilots.create_pilot(analyst, "springfield", world.projects["a"].pk, "crew", "A second crew")
    plans.save_plan(analyst, "springfield", world.projects["a"].pk, pilot.name, PLAN)
    if frozen:
        plans.freeze_plan(analyst, "springfield", world.projects["a"].pk, pilot.name)
    return pilot


def test_a_viewer_reads_the_pilot_but_gets_no_form_and_is_refused_on_post(world: Any, as_persona: Any) -> None:
    pilot = _pilot_with_plan(world, frozen=True)
    viewer = as_persona("viewer")
    page = viewer.get(_url(world, "pilot", pilot=pilot.name))
    text = _text(page)
    assert page.status_code == 200 and "A second crew" in text and "The plan as frozen" in text
    assert "<form" not in text.split("</header>", 1)[-1].split("<footer", 1)[0]
    assert "Start a pilot" not in _text(viewer.get(_url(world, "pilots")))
    for name, data in (("pilot_power", {"history": "requests", "outcome": "days_to_close", "effects": "1"}),
                       ("pilot_randomise", {"units": "requests", "unit": "request_id"}),
                       ("plan_deviate", {"yaml": PLAN, "reason": "no"}), ("plan_freeze", {"yaml": PLAN}),
                       ("pilot_outcomes", {"dataset": "requests"}), ("pilot_evaluate", {})):  # fmt: skip
        assert csrf_post(viewer, _url(world, name, pilot=pilot.name), data).status_code == 403, name
    assert csrf_post(viewer, _url(world, "pilots"), {"name": "mine", "title": "Mine"}).status_code == 403


def test_another_citys_pilot_is_not_found(world: Any, as_persona: Any) -> None:
    from ridp.workspace import pilots

    theirs = pilots.create_pilot(world.users["b_analyst"], "shelbyville", world.projects["b"].pk, "their-crew",
                                 f"{CANARY} crew")  # fmt: skip
    analyst = as_persona("analyst")
    assert analyst.get(_url(world, "pilot", "b", pilot=theirs.name)).status_code == 404
    assert analyst.get(_url(world, "pilot", pilot=theirs.name)).status_code == 404  # not in our project either
    refused = csrf_post(analyst, _url(world, "plan_save", "b", pilot=theirs.name), {"yaml": PLAN})
    assert refused.status_code == 404 and CANARY not in _text(refused)
    assert CANARY not in _text(analyst.get(_url(world, "pilots")))


def test_an_estimate_before_the_plan_is_frozen_is_refused_with_the_reason(world: Any, as_persona: Any) -> None:
    from ridp.workspace.models import PilotEstimate

    pilot = _pilot_with_plan(world, frozen=False)
    analyst = as_persona("analyst")
    assert "refused until the analysis plan is frozen" in _text(analyst.get(_url(world, "pilot", pilot=pilot.name)))
    refused = csrf_post(analyst, _url(world, "pilot_evaluate", pilot=pilot.name))
    assert refused.status_code == 400
    assert "outcome analysis of pilot crew is refused until its analysis plan is frozen" in _text(refused)
    assert not PilotEstimate.objects.filter(pilot=pilot).exists()


def test_the_person_who_randomised_cannot_confirm_it(world: Any, as_persona: Any, tmp_path: Path) -> None:
    from ridp.workspace import pilots
    from ridp.workspace.models import Randomisation

    _history_and_units(world, tmp_path)
    pilot = pilots.create_pilot(world.users["analyst"], "springfield", world.projects["a"].pk, "crew", "A crew")
    chosen = pilots.randomise(world.users["analyst"], "springfield", world.projects["a"].pk, pilot.name,
                              units="pilot_units", unit="area_id", seed=5)  # fmt: skip
    refused = csrf_post(
        as_persona("analyst"), _url(world, "pilot_confirm", pilot=pilot.name, randomisation_id=chosen.pk)
    )
    assert refused.status_code == 400
    assert "analyst made this assignment: a second person must confirm it" in _text(refused)
    assert Randomisation.objects.get(pk=chosen.pk).confirmed_by is None


def test_a_wrong_column_and_a_wrong_plan_come_back_beside_their_fields(
    world: Any, as_persona: Any, tmp_path: Path
) -> None:
    _history_and_units(world, tmp_path)
    pilot = _pilot_with_plan(world, frozen=False)
    analyst = as_persona("analyst")
    bad = csrf_post(analyst, _url(world, "pilot_power", pilot=pilot.name),
                    {"history": "pilot_history", "outcome": "days", "cluster": "ward_no", "effects": "1, x",
                     "share_treated": "0.5", "draws": "200", "seed": "0"})  # fmt: skip
    assert bad.status_code == 400 and 'id="id_effects_error">x is not a number.' in _text(bad)
    bad = csrf_post(analyst, _url(world, "pilot_power", pilot=pilot.name),
                    {"history": "pilot_history", "outcome": "days", "cluster": "ward_no", "effects": "1",
                     "share_treated": "0.5", "draws": "200", "seed": "0"})  # fmt: skip
    assert bad.status_code == 400 and "id_cluster_error\">no column 'ward_no'" in _text(bad)
    wrong = csrf_post(
        analyst, _url(world, "plan_save", pilot=pilot.name), {"yaml": PLAN.replace("better: lower", "better: sideways")}
    )
    assert wrong.status_code == 400 and 'id="id_yaml_error">' in _text(wrong) and "primary.better" in _text(wrong)


def test_a_late_freeze_and_a_deviation_are_recorded_and_shown_plainly(world: Any, as_persona: Any) -> None:
    from ridp.workspace.models import PlanDeviation, PlanRecord

    pilot = _pilot_with_plan(world, frozen=False)
    analyst = as_persona("analyst")
    page_url = _url(world, "pilot", pilot=pilot.name)
    assert (
        csrf_post(analyst, _url(world, "pilot_outcomes", pilot=pilot.name), {"dataset": "requests"}).status_code == 302
    )
    assert "Why it is frozen after the outcome data arrived" in _text(analyst.get(page_url))
    refused = csrf_post(analyst, _url(world, "plan_freeze", pilot=pilot.name), {"yaml": PLAN})
    assert refused.status_code == 400 and 'id="id_late_reason_error">the outcome data arrived on' in _text(refused)
    assert PlanRecord.objects.get(pilot=pilot).frozen_at is None
    late = csrf_post(analyst, _url(world, "plan_freeze", pilot=pilot.name),
                     {"yaml": PLAN, "late_reason": "The plan was written late; nobody opened the outcomes."})  # fmt: skip
    assert late.status_code == 302
    page = _text(analyst.get(page_url))
    assert "frozen late" in page and "Reason given: The plan was written late; nobody opened the outcomes." in page
    changed = csrf_post(analyst, _url(world, "plan_deviate", pilot=pilot.name),
                        {"yaml": PLAN.replace("alpha: 0.05", "alpha: 0.1"), "reason": "A looser test was agreed."})  # fmt: skip
    assert changed.status_code == 302
    deviation = PlanDeviation.objects.get(plan__pilot=pilot)
    page = _text(analyst.get(page_url))
    assert "<code>alpha</code>: 0.05 → 0.1" in page and "A looser test was agreed." in page
    assert "The plan as it stands" in page and deviation.sha256 in page
    same = csrf_post(analyst, _url(world, "plan_deviate", pilot=pilot.name),
                     {"yaml": PLAN.replace("alpha: 0.05", "alpha: 0.1"), "reason": "Again"})  # fmt: skip
    assert same.status_code == 400 and "nothing changed" in _text(same)
