"""``ridp.disparities``: the mayor's question in one call, on the demo city — which neighbourhoods are served
worst (the planted slow ones), who lives there (income fifths from the census table), and where the requests go
(the planted hot spots get more than their share of residents)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

import ridp
from ridp.analysis.census import read_acs
from ridp.errors import FieldError
from tests.readiness.test_demo_truth import _mapping, demo_city, demo_table, raw, truth

__all__ = ["demo_city", "demo_table", "raw", "truth"]  # session fixtures, shared with the readiness tests


@pytest.fixture(scope="module")
def inputs(demo_city: Any, demo_table: Any, raw: pd.DataFrame) -> tuple[Any, Any, Any]:
    return demo_table, _mapping(raw), read_acs(demo_city.population_csv, key="area_id")


def test_the_slow_areas_are_the_worst_served_and_the_hot_spots_get_more_than_their_share(inputs, truth):
    table, mapping, acs = inputs
    found = ridp.disparities(table, mapping, by="area_id", census=acs, baseline="population",
                             demographics=["pct_poverty"], resamples=400)  # fmt: skip
    worst = found.served.worst(len(truth["closure"]["slow_area_ids"]), by="median_days")
    assert set(worst["group"]) == set(truth["closure"]["slow_area_ids"])
    # every area's residents come from the census table when no population is given
    people = dict(zip(acs.keys, acs.estimates["population"], strict=True))
    served = found.served.to_pandas()
    assert all(row.residents == people[row.group] for row in served.itertuples())
    assert found.resources is not None
    scores = found.resources.to_pandas().set_index("area")
    for area in truth["hot_spots"]["area_ids"]:
        assert scores.loc[area, "score"] > 0 and bool(scores.loc[area, "significant"])
    again = type(found).from_dict(json.loads(json.dumps(found.to_dict())))
    assert again.to_dict() == found.to_dict() and "Reference group" in found.summary()


def test_gaps_between_income_fifths_and_what_is_refused(inputs):
    table, mapping, acs = inputs
    grouped = ridp.disparities(table, mapping, by="area_id", census=acs, baseline="population",
                               groups="median_household_income", resamples=200)  # fmt: skip
    assert grouped.groups is not None and len(set(grouped.groups.values())) == 5
    assert len(grouped.served.to_pandas()) == 5  # one row per fifth, not per area
    with pytest.raises(FieldError, match="baseline"):
        ridp.disparities(table, mapping, by="area_id", census=acs)
    with pytest.raises(FieldError, match="census"):
        ridp.disparities(table, mapping, by="area_id", groups="median_household_income")
