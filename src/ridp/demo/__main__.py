"""Command line: ``python -m ridp.demo OUT_DIR --rows N --seed S``.

Writes the demo city into ``OUT_DIR`` and prints the paths of the files.

Examples
--------
>>> import contextlib, io, tempfile
>>> from ridp.demo.__main__ import main
>>> out = io.StringIO()
>>> with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(out):
...     status = main([tmp, "--rows", "300", "--seed", "3"])
>>> status
0
>>> out.getvalue().splitlines()[0].startswith("service_requests.csv: ")
True
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ridp.demo import generate_city


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        end = "\n" if done >= total else ""
        print(f"\r{done:,}/{total:,} rows ({100 * done / total:.0f}%)", end=end, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, generate the city and print the file paths.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Process exit status (0 on success).
    """
    parser = argparse.ArgumentParser(prog="python -m ridp.demo", description="Generate the ridp demo city.")
    parser.add_argument("out_dir", type=Path, help="output directory (created if missing)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows (default 100000)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    args = parser.parse_args(argv)
    try:
        city = generate_city(args.out_dir, rows=args.rows, seed=args.seed, progress=_progress)
    except ValueError as exc:
        parser.error(str(exc))
    for label, path in (
        ("service_requests.csv", city.requests_csv),
        ("neighbourhoods.geojson", city.neighbourhoods_geojson),
        ("population.csv", city.population_csv),
        ("truth.json", city.truth_json),
    ):
        print(f"{label}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
