"""The ridp command as a person runs it: real processes, a real workspace folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
BOSTON = SHARED_DATA / "city" / "boston"


@pytest.fixture
def ridp(tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RIDP_", "DJANGO_", "DATABASE_URL"))}
    base["RIDP_HOME"] = str(tmp_path / "home")
    base["COLUMNS"] = "200"

    def run(*args: str, user: str = "", ok: bool = True) -> subprocess.CompletedProcess[str]:
        env = dict(base, RIDP_USER=user) if user else base
        result = subprocess.run(
            [sys.executable, "-m", "ridp.cli", *args], env=env, capture_output=True, text=True, timeout=300
        )
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    return run


def test_commands_before_init_say_what_to_do(ridp):
    r = ridp("city", "list", ok=False)
    assert r.returncode == 1
    assert "no ridp workspace" in r.stderr and "ridp init" in r.stderr
    assert "Traceback" not in r.stderr


def test_init_is_idempotent_and_names_the_admin(ridp):
    assert "programme admin: admin" in ridp("init").stdout
    assert "programme admin: admin" in ridp("init", "--admin", "someone-else").stdout


def test_catalog_flow_add_list_show_versions_preview(ridp):
    ridp("init")
    ridp("city", "add", "Boston", "--timezone", "America/New_York")
    assert "boston" in ridp("city", "list").stdout
    out = ridp("data", "add", str(BOSTON / "boston311-100.csv"), "--city", "boston", "--name", "requests").stdout
    assert "requests v1: 100 rows, 29 columns" in out
    again = ridp("data", "add", str(BOSTON / "boston311-100.csv"), "--city", "boston", "--name", "requests").stdout
    assert "unchanged" in again
    ridp("data", "add", str(BOSTON / "boston311-100-notime.csv"), "--city", "boston", "--name", "requests")
    listing = ridp("data", "list", "--city", "boston").stdout
    assert "requests" in listing and "100" in listing
    show = ridp("data", "show", "requests", "--city", "boston").stdout
    assert "version 2" in show and "100 rows" in show and "case_enquiry_id" in show
    versions = ridp("data", "versions", "requests", "--city", "boston").stdout
    assert "boston311-100.csv" in versions and "boston311-100-notime.csv" in versions
    preview = ridp("data", "preview", "requests", "--city", "boston", "--rows", "3", "--version", "1").stdout
    assert "first 3 of 100 rows" in preview
    assert "store is whole" in ridp("check").stdout


def test_bad_file_is_one_red_line_and_exit_one(ridp):
    ridp("init")
    ridp("city", "add", "Boston")
    r = ridp("data", "add", str(BOSTON / "boston311-100-bad.tsv"), "--city", "boston", ok=False)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        'error: boston311-100-bad.tsv, row 41, column "source": has 30 fields, more than the header\'s 29'
    ]
    assert "boston311-100-bad" not in ridp("data", "list", "--city", "boston").stdout


def test_ridp_user_selects_the_acting_person_and_roles_hold(ridp):
    ridp("init")
    ridp("city", "add", "Springfield")
    ridp("city", "add", "Shelbyville")
    ridp("member", "ana", "--role", "data_analyst", "--city", "springfield")
    denied = ridp("city", "add", "Ogdenville", user="ana", ok=False)
    assert denied.returncode == 1 and "only a programme admin" in denied.stderr
    assert "springfield" in ridp("city", "list", user="ana").stdout
    assert "shelbyville" not in ridp("city", "list", user="ana").stdout
    hidden = ridp("data", "list", "--city", "shelbyville", user="ana", ok=False)
    assert hidden.returncode == 1 and "no city 'shelbyville'" in hidden.stderr
    ridp("data", "add", str(BOSTON / "NYC311-5.parquet"), "--city", "springfield", user="ana")
    nobody = ridp("city", "list", user="nobody", ok=False)
    assert "RIDP_USER='nobody'" in nobody.stderr


def test_every_command_is_documented():
    from ridp.cli import app

    text = DOCS.read_text()
    commands = []
    for info in app.registered_commands:
        commands.append(info.name)
    for group in app.registered_groups:
        for info in group.typer_instance.registered_commands:
            commands.append(f"{group.name} {info.name}")
    assert len(commands) >= 10
    for command in commands:
        assert f"`ridp {command}" in text, f"`ridp {command}` is not in docs/cli.md"


def test_data_map_shows_corrects_and_confirms(ridp):
    ridp("init")
    ridp("city", "add", "Boston", "--timezone", "America/New_York")
    ridp("data", "add", str(BOSTON / "boston311-100.csv"), "--city", "boston", "--name", "requests")
    shown = ridp("data", "map", "requests", "--city", "boston").stdout
    assert "proposed, not confirmed" in shown and "open_dt" in shown and "closed_dt" in shown
    done = ridp("data", "map", "requests", "--city", "boston", "--set", "type=reason", "--accept").stdout
    assert "confirmed by admin" in done and "set by admin" in done
    bad = ridp("data", "map", "requests", "--city", "boston", "--set", "opened=nope", ok=False)
    assert bad.returncode == 1 and "requests has no column 'nope'" in bad.stderr


def test_data_classify_suggests_and_confirms(ridp):
    ridp("init")
    ridp("city", "add", "Boston", "--timezone", "America/New_York")
    ridp("data", "add", str(BOSTON / "boston311-100.csv"), "--city", "boston", "--name", "requests")
    shown = ridp("data", "classify", "requests", "--city", "boston").stdout
    assert "street addresses with house numbers" in shown
    ridp("data", "classify", "requests", "--city", "boston", "--set", "type=public", "--accept")
    preview = ridp("data", "preview", "requests", "--city", "boston", "--rows", "2").stdout
    assert "•••" in preview


def test_agreement_commands_gate_the_data(ridp, tmp_path):
    import datetime as dt

    today = dt.date.today()
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    ridp("init")
    ridp("city", "add", "Boston")
    ridp("data", "add", str(BOSTON / "boston311-100.csv"), "--city", "boston", "--name", "requests")
    ridp("data", "inventory", "requests", "--city", "boston", "--needs-agreement")
    refused = ridp("data", "preview", "requests", "--city", "boston", ok=False)
    assert refused.returncode == 1 and "needs a data-sharing agreement" in refused.stderr
    out = ridp(
        "agreement", "add", "--city", "boston", "--title", "311 study", "--parties", "Boston; Programme",
        "--purpose", "service levels", "--dataset", "requests", "--starts", str(today), "--expires", str(today + dt.timedelta(days=90)),
    ).stdout  # fmt: skip
    assert "agreement 1 drafted" in out
    ridp("agreement", "review", "1", "--city", "boston")
    ridp("agreement", "sign", "1", "--city", "boston", "--signatory", f"Ana Chief|CDO|{today}", "--document", str(pdf))
    assert "is active" in ridp("agreement", "activate", "1", "--city", "boston").stdout
    assert "first 10 of 100 rows" in ridp("data", "preview", "requests", "--city", "boston").stdout
    shown = ridp("agreement", "show", "1", "--city", "boston").stdout
    assert "legal review" in shown and "covers requests: all columns" in shown
    assert "is terminated" in ridp("agreement", "terminate", "1", "--city", "boston", "--reason", "study over").stdout
    gone = ridp("data", "preview", "requests", "--city", "boston", ok=False)
    assert "terminated on" in gone.stderr
    assert "store is whole" in ridp("check").stdout
    assert "terminated" in ridp("agreement", "list", "--city", "boston").stdout


def test_data_add_refuses_unsafe_urls(ridp):
    ridp("init")
    ridp("city", "add", "Boston")
    for url, says in (
        ("http://data.example.org/x.csv", "only https"),
        ("https://127.0.0.1/x.csv", "private or local address"),
    ):
        r = ridp("data", "add", url, "--city", "boston", ok=False)
        assert r.returncode == 1 and says in r.stderr and "Traceback" not in r.stderr
