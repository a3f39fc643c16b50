"""Settings: parsed in one place, loud on bad values, every one documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ridp.config import SETTINGS, Config, parse_bytes
from ridp.errors import SettingError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_defaults():
    c = Config.from_env({})
    assert c.home.name == "ridp-data" and c.database_url == "" and c.engine_memory == 2_000_000_000
    assert c.max_columns == 2000 and not c.debug


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RIDP_ENGINE_MEMORY", "lots"),
        ("RIDP_ENGINE_MEMORY", "0GB"),
        ("RIDP_MAX_COLUMNS", "-3"),
        ("RIDP_MAX_COLUMNS", "ten"),
        ("RIDP_DEBUG", "yes"),
        ("DATABASE_URL", "mysql://x/y"),
        ("RIDP_PARSE_CPU_SECONDS", "0"),
        ("RIDP_TYPO", "1"),
    ],
)
def test_bad_values_fail_loudly_naming_the_setting(name, value):
    with pytest.raises(SettingError) as info:
        Config.from_env({name: value})
    assert name in str(info.value)


def test_sizes():
    assert parse_bytes("X", "512MB") == 512_000_000
    assert parse_bytes("X", "2GiB") == 2 * 1024**3


def test_every_setting_is_documented_and_nothing_else():
    text = DOCS.read_text()
    for name, (_default, _meaning) in SETTINGS.items():
        assert f"`{name}`" in text, f"{name} is not in docs/settings.md"
    documented = {line.split("`")[1] for line in text.splitlines() if line.startswith("| `")}
    assert documented == set(SETTINGS)


def test_postgres_url_without_database_is_refused_by_django_settings(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "RIDP_HOME": str(tmp_path), "DATABASE_URL": "postgresql://u@h"}
    r = subprocess.run([sys.executable, "-c", "import ridp.settings"], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "DATABASE_URL" in r.stderr
