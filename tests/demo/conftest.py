"""Shared fixtures for the demo-city tests: one 50k-row city, read back once."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ridp.demo import DemoCity
from ridp.demo._generate import _write_city

ROWS = 50_000
SEED = 11
#: Small chunks so that the shared city spans several chunks, like a big one.
CHUNK_ROWS = 12_000


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return _write_city(tmp_path_factory.mktemp("city"), ROWS, SEED, progress=None, chunk_rows=CHUNK_ROWS)


@pytest.fixture(scope="session")
def truth(city: DemoCity) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(city.truth_json.read_text())
    return data


@pytest.fixture(scope="session")
def requests(city: DemoCity) -> pd.DataFrame:
    # Every column as text, exactly as written (empty fields become '').
    return pd.read_csv(city.requests_csv, dtype=str, keep_default_na=False, na_values=[])


@pytest.fixture(scope="session")
def rings(city: DemoCity) -> dict[str, np.ndarray]:
    geo = json.loads(city.neighbourhoods_geojson.read_text())
    return {f["properties"]["area_id"]: np.array(f["geometry"]["coordinates"][0], dtype=float) for f in geo["features"]}
