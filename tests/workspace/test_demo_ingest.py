"""The demo city goes through the same ingest as a real export, and its truths survive."""

from __future__ import annotations

import json

import pyarrow.parquet as pq


def test_demo_city_ingests_whole_with_its_mess_noted(people, tmp_path):
    from ridp.demo import generate_city
    from ridp.workspace.datasets import add_file
    from ridp.workspace.store import check_integrity, home

    city = generate_city(tmp_path / "demo", rows=30_000, seed=11)
    truth = json.loads(city.truth_json.read_text())
    v = add_file(people.ana, city.requests_csv, city="springfield", name="requests").version
    assert v.rows == truth["rows"]["total"] == 30_000
    assert [c["name"] for c in v.schema] == truth["columns"]
    assert any("holds dates in more than one format" in n for n in v.notes)
    table = pq.read_table(home() / v.file, columns=["service_request_id"])
    assert table.num_rows == 30_000
    pop = add_file(people.ana, city.population_csv, city="springfield", name="population").version
    assert pop.rows == truth["city"]["areas"]
    assert check_integrity() == []
