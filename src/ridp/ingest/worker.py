"""Parsing an untrusted file in a child process with memory and CPU limits.

:func:`parse_file` (the parent side) starts ``python -m ridp.ingest.worker``,
sends it the job as JSON on standard input and reads JSON lines back: progress
fractions, then one result or one typed error. The child sets its own
``RLIMIT_AS`` and ``RLIMIT_CPU`` before it reads a byte, and asks the kernel to
kill it if its parent dies, so a killed ingest leaves no orphan working on.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ridp import errors
from ridp.ingest.convert import ColumnSpec, ConvertResult
from ridp.ingest.sniff import ColumnGuess, Sniffed

__all__ = ["last_peak_bytes", "parse_file"]

#: The peak resident memory of the last parse child this thread reaped (its own figure, from ``wait4``).
_LAST = threading.local()


def last_peak_bytes() -> int | None:
    """The peak RSS, in bytes, of the last child :func:`parse_file` ran and reaped in this thread (None before)."""
    return getattr(_LAST, "peak", None)


def parse_file(
    source: Path,
    target: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_columns: int,
    max_line_bytes: int,
    memory_bytes: int,
    cpu_seconds: int,
    engine_memory: int,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    sheet: str | None = None,
) -> tuple[Sniffed, ConvertResult] | None:
    """Sniff and convert ``source`` to the Parquet file ``target`` in a limited child process.

    ``target``'s folder is the only one the child may write. Raises the same
    typed errors the child raised; :class:`~ridp.errors.ResourceLimitError` if
    it was killed for using too much memory or CPU. ``should_stop`` is asked
    about four times a second; when it answers true the child is killed, its
    output removed, and ``None`` returned.
    """
    job = {
        "source": str(Path(source).absolute()),
        "target": str(Path(target).absolute()),
        "encoding": encoding,
        "delimiter": delimiter,
        "max_columns": max_columns,
        "max_line_bytes": max_line_bytes,
        "memory_bytes": memory_bytes,
        "cpu_seconds": cpu_seconds,
        "engine_memory": engine_memory,
        "sheet": sheet,
    }
    outcome: dict[str, Any] | None = None
    # stderr goes to a file, not a pipe: a chatty child must never block on a full pipe.
    with (
        tempfile.TemporaryFile(mode="w+") as errfile,
        subprocess.Popen(
            [sys.executable, "-m", "ridp.ingest.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errfile,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        ) as proc,
    ):
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(job))
        proc.stdin.close()
        for line in proc.stdout:
            message = json.loads(line)
            if "progress" in message:
                if progress is not None:
                    progress(float(message["progress"]))
                if should_stop is not None and should_stop():
                    proc.kill()
                    proc.wait()
                    target.unlink(missing_ok=True)
                    target.with_suffix(".utf8.csv").unlink(missing_ok=True)
                    return None
            else:
                outcome = message
        code = _reap(proc)
        if outcome is not None and outcome.get("peak"):
            _LAST.peak = int(outcome["peak"])  # the child's own figure (see _own_peak)
        errfile.seek(0)
        stderr = errfile.read()
    if outcome is not None and "result" in outcome:
        return _decode_result(outcome["result"])
    if outcome is not None and "error" in outcome:
        raise _decode_error(outcome["error"])
    if code < 0 and -code in (signal.SIGKILL, signal.SIGXCPU):
        raise errors.ResourceLimitError(f"{Path(source).name}: parsing was stopped: it passed its memory or CPU limit")
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {code}"
    if any(sign in stderr for sign in ("MemoryError", "bad_alloc", "failed to map segment", "Cannot allocate memory")):
        raise errors.ResourceLimitError(f"{Path(source).name}: parsing ran out of memory")
    raise errors.FileFormatError(f"the parser failed: {last}", path=source)


def _reap(proc: subprocess.Popen[str]) -> int:
    """Wait for the child and keep its own peak RSS (``wait4``; other children of this process do not count)."""
    if not hasattr(os, "wait4"):
        return proc.wait()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, kilobytes on Linux
    _LAST.peak = usage.ru_maxrss * scale
    return proc.returncode


def _decode_result(payload: dict[str, Any]) -> tuple[Sniffed, ConvertResult]:
    s = payload["sniffed"]
    sniffed = Sniffed(
        path=Path(s["path"]),
        kind=s["kind"],
        size=s["size"],
        encoding=s["encoding"],
        delimiter=s["delimiter"],
        columns=tuple(ColumnGuess(**c) for c in s["columns"]),
        sample_rows=s["sample_rows"],
        warnings=tuple(s["warnings"]),
    )
    r = payload["result"]
    result = ConvertResult(
        rows=r["rows"],
        columns=tuple(ColumnSpec(**c) for c in r["columns"]),
        encoding=r["encoding"],
        delimiter=r["delimiter"],
        demoted=tuple(r["demoted"]),
    )
    return sniffed, result


def _decode_error(payload: dict[str, Any]) -> Exception:
    cls = getattr(errors, payload["type"], None)
    if not (isinstance(cls, type) and issubclass(cls, errors.RidpError)):
        return errors.FileFormatError(payload["message"])
    if issubclass(cls, errors.FileFormatError):
        return cls(
            payload["reason"],
            path=payload.get("path"),
            row=payload.get("row"),
            column=payload.get("column"),
            hint=payload.get("hint"),
        )
    return cls(payload["message"])


def _encode_error(exc: errors.RidpError) -> dict[str, Any]:
    payload: dict[str, Any] = {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}
    if isinstance(exc, errors.FileFormatError):
        payload.update(reason=exc.reason, path=str(exc.path) if exc.path else None, row=exc.row, column=exc.column)
    return payload


def _limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    import ctypes
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    try:  # die with the parent (Linux); elsewhere the parent's wait() still reaps us
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:
            os._exit(3)
    except OSError:
        pass


def _unwrap(sniffed: Sniffed, source: Path, inner: Path, job: dict[str, Any]) -> tuple[Sniffed, Path]:
    """An .xlsx becomes its sheet as CSV; a zip its shapefile or its one data file.

    Errors about the unwrapped file still name the file the person gave.
    """
    from dataclasses import replace

    from ridp.ingest.formats import unpack_zip, xlsx_to_csv
    from ridp.ingest.sniff import sniff_file

    def sniff_inner(path: Path, what: str) -> Sniffed:
        try:
            found = sniff_file(
                path, encoding=job["encoding"], delimiter=job["delimiter"],
                max_columns=job["max_columns"], max_line_bytes=job["max_line_bytes"],
            )  # fmt: skip
        except errors.FileFormatError as exc:
            raise type(exc)(
                f"{what}: {exc.reason}", path=source, row=exc.row, column=exc.column, hint=exc.hint
            ) from None
        return replace(found, path=source, size=sniffed.size)

    if sniffed.kind == "xlsx":
        inner.mkdir(parents=True, exist_ok=True)
        sheet_csv = inner / "sheet.csv"
        chosen, names = xlsx_to_csv(source, sheet_csv, job.get("sheet"))
        found = sniff_inner(sheet_csv, f"sheet {chosen!r}")
        note = (
            f"read sheet {chosen!r} of {len(names)}: {', '.join(names)}" if len(names) > 1 else f"read sheet {chosen!r}"
        )
        return replace(found, kind="csv", warnings=(note, *found.warnings)), sheet_csv
    if sniffed.kind == "zip":
        files = unpack_zip(source, inner)
        shapes = [f for f in files if f.suffix.lower() == ".shp"]
        if len(shapes) > 1:
            raise errors.FileFormatError(f"holds {len(shapes)} shapefiles; upload one per dataset", path=source)
        if shapes:
            if not shapes[0].with_suffix(".prj").exists() and not any(f.suffix.lower() == ".prj" for f in files):
                raise errors.FileFormatError("the shapefile has no .prj: its coordinate system is unknown", path=source)
            return replace(sniffed, kind="shapefile", warnings=(f"read {shapes[0].name}, converted to WGS84",)), shapes[
                0
            ]
        data = [
            f
            for f in files
            if f.suffix.lower() in (".csv", ".tsv", ".txt", ".json", ".ndjson", ".jsonl", ".geojson", ".parquet")
        ]
        if len(data) != 1:
            listed = ", ".join(f.name for f in files[:10]) or "nothing"
            raise errors.FileFormatError(f"should hold one data file or one shapefile; it holds {listed}", path=source)
        found = sniff_inner(data[0], data[0].name)
        return replace(found, warnings=(f"read {data[0].name} from the archive", *found.warnings)), data[0]
    if sniffed.kind == "json":
        from ridp.ingest.formats import records_from_portal_json

        inner.mkdir(parents=True, exist_ok=True)
        rewritten = inner / "records.ndjson"
        what = records_from_portal_json(source, rewritten)
        if what is not None:
            return replace(sniffed, kind="ndjson", warnings=(f"read {what}",)), rewritten
    return sniffed, source


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _own_peak() -> int | None:
    """This process's own peak RSS since it started (``VmHWM``, which exec resets).

    ``wait4``'s ``ru_maxrss`` is not enough: Linux carries the parent's peak into a
    forked child through exec, so a child of a 3 GB test run reports 3 GB however
    little it used.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def main() -> int:
    job = json.loads(sys.stdin.read())
    _limit_self(int(job["memory_bytes"]), int(job["cpu_seconds"]))
    from ridp.engine import locked_duckdb
    from ridp.ingest.convert import convert_to_parquet, transcode_to_utf8
    from ridp.ingest.sniff import sniff_file

    source = Path(job["source"])
    target = Path(job["target"])
    transcoded = target.with_suffix(".utf8.csv")
    inner = target.with_suffix(".inner")  # what an .xlsx or a zip unwraps to
    try:
        sniffed = sniff_file(
            source,
            encoding=job["encoding"],
            delimiter=job["delimiter"],
            max_columns=job["max_columns"],
            max_line_bytes=job["max_line_bytes"],
        )
        sniffed, read_from = _unwrap(sniffed, source, inner, job)
        if sniffed.kind == "csv" and sniffed.encoding not in ("utf-8", "utf-8-sig", "ascii"):
            transcode_to_utf8(source, transcoded, sniffed.encoding, lambda f: _emit({"progress": f}))
            read_from = transcoded
        con = locked_duckdb(
            ":memory:",
            allowed_directories=[target.parent],
            allowed_paths=[read_from],
            # A quarter of the child's address space: DuckDB spills beyond it, and
            # the Python side, Arrow and the thread stacks fit in the rest.
            memory_limit=min(int(job["engine_memory"]), int(job["memory_bytes"]) // 4),
            temp_directory=target.parent,
            spatial=sniffed.kind in ("geojson", "shapefile"),
        )
        result = convert_to_parquet(
            sniffed,
            read_from,
            target,
            con,
            max_line_bytes=job["max_line_bytes"],
            progress=lambda f: _emit({"progress": f}),
        )
        con.close()
    except errors.RidpError as exc:
        target.unlink(missing_ok=True)
        _emit({"error": _encode_error(exc), "peak": _own_peak()})
        return 2
    except MemoryError:
        target.unlink(missing_ok=True)
        _emit({"error": {"type": "ResourceLimitError", "message": f"{source.name}: parsing ran out of memory"},
               "peak": _own_peak()})  # fmt: skip
        return 2
    finally:
        transcoded.unlink(missing_ok=True)
        if inner.exists():
            shutil.rmtree(inner)
    sniffed_payload = asdict(sniffed)
    sniffed_payload["path"] = str(sniffed.path)
    _emit({"result": {"sniffed": sniffed_payload, "result": asdict(result)}, "peak": _own_peak()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
