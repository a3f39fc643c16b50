"""The input of the readiness and analysis benchmarks: the demo city's requests as one Parquet file, cached.

:func:`demo_parquet` generates the demo city (``ridp.demo.generate_city``) and
converts its ``service_requests.csv`` to Parquet with DuckDB, each in a child
process, so the benchmark process stays small (see ``_common.py``). The result
is cached in ``<cache>/city-<rows>-seed<seed>/`` outside the repository and made
again only when the source of ``ridp.demo`` changes (``_common.cached_demo``).
The CSV is deleted once the Parquet file is written: only the Parquet file is
read by the contenders.

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

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import BenchError, cached_demo, run_child

__all__ = ["City", "default_cache", "demo_parquet"]

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

    def convert(folder: Path, csv: Path) -> dict[str, Any]:
        start = time.perf_counter()
        parquet = folder / "service_requests.parquet"
        converted = run_child(CONVERT, str(csv), str(parquet), what="the Parquet conversion")
        if int(converted["rows"]) != rows:
            raise BenchError(f"the Parquet file has {converted['rows']:,} rows, not {rows:,}")
        size = parquet.stat().st_size
        print(f"converted to {size / 1e6:,.1f} MB of Parquet in {time.perf_counter() - start:.1f} s (not timed)")
        csv.unlink()  # only the Parquet file is read; a 10M-row CSV is 2.3 GB
        return {"parquet": parquet.name, "bytes": size, "types": converted["types"], "duckdb": converted["duckdb"]}

    folder, cached = cached_demo(cache, rows, seed, demo_folder, "parquet", convert)
    return _load(folder, cached)
