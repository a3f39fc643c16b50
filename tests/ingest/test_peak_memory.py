"""The parse child's peak memory is its own, however large the process that started it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ridp.ingest import parse_file
from ridp.ingest.worker import last_peak_bytes


def test_a_large_parent_does_not_inflate_the_childs_peak(tmp_path: Path) -> None:
    # Linux carries a parent's peak RSS into a forked child through exec (ru_maxrss), so a long test run
    # of 3 GB once made every small parse look like 3 GB; the child now reports its own VmHWM.
    ballast = np.ones(2_500_000_000 // 8)  # 2.5 GB held by this process while the child runs
    source = tmp_path / "small.csv"
    source.write_text("id,name\n1,a\n2,b\n")
    parse_file(
        source, tmp_path / "out.parquet", max_columns=100, max_line_bytes=1_000_000, memory_bytes=4_000_000_000,
        cpu_seconds=60, engine_memory=1_000_000_000,
    )  # fmt: skip
    peak = last_peak_bytes()
    assert ballast[-1] == 1.0
    assert peak is not None and 10_000_000 < peak < 1_000_000_000
