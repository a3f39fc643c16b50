"""The readiness benchmark's input: the demo city's requests as one Parquet file, made once and cached.

:func:`demo_parquet` generates the demo city (``ridp.demo.generate_city``) and
converts its ``service_requests.csv`` to Parquet with DuckDB, each in a child
process, so the benchmark process stays small (its size would otherwise count
towards every contender's peak RSS, see ``_harness.py``). The result is cached
in ``<cache>/city-<rows>-seed<seed>/`` outside the repository and made again
only when the source of ``ridp.demo`` changes. The CSV is deleted once the
Parquet file is written: only the Parquet file is read by the contenders.

The conversion keeps DuckDB's sniffed types (``all_varchar=false``) and reads
quoted empty strings as empty strings, not nulls (``allow_quoted_nulls=false``),
as ridp's own ingest does: the demo's blank descriptions stay blanks. The demo's
datetimes come in three formats, so DuckDB keeps those columns as text, which is
how ridp stores such a column too.

Examples
--------
>>> default_cache().name
'ridp-bench'
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["BenchError", "City", "default_cache", "demo_parquet", "wait_for_demo", "warm_page_cache"]

MARKER = "bench-cache.json"
WAIT_POLL_SECONDS = 30.0

GENERATE = """\
import json, sys
from pathlib import Path
from ridp.demo import generate_city
city = generate_city(Path(sys.argv[1]), rows=int(sys.argv[2]), seed=int(sys.argv[3]))
print(json.dumps({"requests_csv": str(city.requests_csv), "rows": city.rows}))
"""

# zstd level 1, as ridp's ingest writes its Parquet (ridp.ingest.convert).
CONVERT = """\
import json, sys
import duckdb
csv, parquet = (p.replace("'", "''") for p in sys.argv[1:3])
duckdb.sql(
    f"COPY (SELECT * FROM read_csv('{csv}', all_varchar=false, allow_quoted_nulls=false)) "
    f"TO '{parquet}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"
)
rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{parquet}')").fetchone()[0]
schema = duckdb.sql(f"SELECT * FROM read_parquet('{parquet}') LIMIT 0")
types = {name: str(kind) for name, kind in zip(schema.columns, schema.types)}
print(json.dumps({"rows": rows, "types": types, "duckdb": duckdb.__version__}))
"""


class BenchError(Exception):
    """The benchmark cannot go on (its input could not be made; not a contender's measurement)."""


@dataclass(frozen=True)
class City:
    """The cached input: the Parquet file, its folder and what the demo planted."""

    folder: Path
    parquet: Path
    rows: int
    seed: int
    bbox: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat (truth.json)
    export_datetime: str
    columns: tuple[str, ...]
    types: dict[str, str]

    @property
    def bytes(self) -> int:
        return self.parquet.stat().st_size


def default_cache() -> Path:
    """``$XDG_CACHE_HOME/ridp-bench`` (``~/.cache/ridp-bench``): outside the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ridp-bench"


def wait_for_demo(timeout_s: float) -> Path:
    """Wait until ``ridp.demo`` imports (tried in a child process); return its folder."""
    deadline = time.monotonic() + timeout_s
    while True:
        probe = subprocess.run(
            [sys.executable, "-c", "from ridp.demo import generate_city; import ridp.demo; print(ridp.demo.__file__)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            return Path(probe.stdout.strip().splitlines()[-1]).parent
        if time.monotonic() >= deadline:
            raise BenchError(f"ridp.demo is not importable with {sys.executable}:\n{probe.stderr}")
        time.sleep(WAIT_POLL_SECONDS)


def _digest(demo_folder: Path) -> str:
    """SHA-256 over ``ridp.demo``'s source files: a changed generator invalidates the cache."""
    digest = hashlib.sha256()
    for source in sorted(demo_folder.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def _load(folder: Path, cached: dict[str, Any]) -> City:
    truth = json.loads((folder / "truth.json").read_text())
    bbox = tuple(float(v) for v in truth["city"]["bbox"])
    return City(
        folder=folder,
        parquet=folder / str(cached["parquet"]),
        rows=int(cached["rows"]),
        seed=int(cached["seed"]),
        bbox=(bbox[0], bbox[1], bbox[2], bbox[3]),
        export_datetime=str(truth["date_range"]["export_datetime"]),
        columns=tuple(str(c) for c in truth["columns"]),
        types={str(k): str(v) for k, v in cached["types"].items()},
    )


def demo_parquet(cache: Path, rows: int, seed: int, demo_folder: Path) -> City:
    """The demo city's requests as Parquet for ``(rows, seed)``, made once per generator version."""
    folder = cache / f"city-{rows}-seed{seed}"
    digest = _digest(demo_folder)
    marker = folder / MARKER
    if marker.exists():
        cached = json.loads(marker.read_text())
        parquet = folder / str(cached.get("parquet", ""))
        if cached.get("generator") == digest and parquet.is_file() and parquet.stat().st_size == cached.get("bytes"):
            print(f"using the cached {parquet} ({cached['bytes'] / 1e6:,.1f} MB)")
            return _load(folder, cached)
        print(f"the cached city in {folder} is stale (ridp.demo changed, or a file is missing); making it again")
    cache.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=cache))
    try:
        print(f"generating the demo city: {rows:,} rows, seed {seed} ...", flush=True)
        start = time.perf_counter()
        made = _child(GENERATE, str(partial), str(rows), str(seed), what="generate_city")
        csv = Path(made["requests_csv"])
        print(f"generated {csv.stat().st_size / 1e6:,.1f} MB of CSV in {time.perf_counter() - start:.1f} s", flush=True)
        start = time.perf_counter()
        parquet = partial / "service_requests.parquet"
        converted = _child(CONVERT, str(csv), str(parquet), what="the Parquet conversion")
        if int(converted["rows"]) != rows:
            raise BenchError(f"the Parquet file has {converted['rows']:,} rows, not {rows:,}")
        size = parquet.stat().st_size
        print(f"converted to {size / 1e6:,.1f} MB of Parquet in {time.perf_counter() - start:.1f} s (not timed)")
        csv.unlink()  # only the Parquet file is read; a 10M-row CSV is 2.3 GB
        cached = {
            "rows": rows,
            "seed": seed,
            "generator": digest,
            "parquet": parquet.name,
            "bytes": size,
            "types": converted["types"],
            "duckdb": converted["duckdb"],
        }
        (partial / MARKER).write_text(json.dumps(cached, indent=2))
        shutil.rmtree(folder, ignore_errors=True)
        partial.replace(folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return _load(folder, cached)


def _child(script: str, *args: str, what: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{what} failed (exit code {done.returncode}); its error is above")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def warm_page_cache(path: Path) -> None:
    """Read the file once (untimed) so the first contender does not also pay for the disk."""
    buffer = bytearray(1024 * 1024)
    with path.open("rb") as fh:
        while fh.readinto(buffer):
            pass
