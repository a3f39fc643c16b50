"""The architecture, enforced: the core never imports Django; the public face is pinned."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ridp
from ridp import errors

SRC = Path(__file__).resolve().parents[1] / "src" / "ridp"
CORE = ["engine", "errors", "config", "ingest", "readiness", "analysis", "evaluation", "privacy", "strategy", "demo"]


def test_public_face_is_pinned():
    assert sorted(ridp.__all__) == [
        "AnalysisPlan", "Boundaries", "DemoCity", "RidpError", "__version__", "assign_areas", "connect",
        "discovery_rate", "disparities", "evaluate", "generate_city", "hot_spots", "load_parquet", "service_levels", "trends",
    ]  # fmt: skip
    for name in ridp.__all__:
        assert hasattr(ridp, name)


@pytest.mark.parametrize("module", CORE)
def test_core_module_source_never_imports_django(module):
    paths = [SRC / f"{module}.py"] if (SRC / f"{module}.py").exists() else sorted((SRC / module).rglob("*.py"))
    assert paths
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("django", "ridp.workspace", "ridp.web", "ridp.cli")), (
                    f"{path.name} imports {name}"
                )


def test_importing_ridp_and_the_core_loads_no_django():
    code = (
        "import sys, ridp, ridp.engine, ridp.ingest, ridp.readiness, ridp.analysis, ridp.evaluation, "
        "ridp.privacy, ridp.strategy, ridp.demo; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_error_tree_input_errors_are_value_errors():
    for cls in (
        errors.FileFormatError,
        errors.RaggedRowError,
        errors.SettingError,
        errors.FieldError,
        errors.EngineURLError,
    ):
        assert issubclass(cls, ValueError) and issubclass(cls, errors.RidpError)
    assert issubclass(errors.NotFoundError, LookupError)
    documented = errors.__doc__ or ""
    for name in errors.__all__:
        assert name in documented, f"{name} missing from the tree drawn in ridp/errors.py"


def test_file_errors_say_where():
    e = errors.RaggedRowError("has 3 fields", path=Path("/x/requests.csv"), row=41, column="source")
    assert str(e) == 'requests.csv, row 41, column "source": has 3 fields'
    assert (e.row, e.column, e.path.name) == (41, "source", "requests.csv")
