"""The one error tree of ridp.

Every error ridp raises on purpose is a :class:`RidpError`. Errors caused by the
input a person gave (a file, a field, a URL) also subclass :class:`ValueError`,
so plain Python code that already catches ``ValueError`` keeps working.

Errors carry *where* (file, row, column, field) and *what to do*; they are
translated to a red line (CLI), JSON (API) or a form message (HTML) only at
the edges.

::

    RidpError
    ├── InputError (ValueError)            bad input a person can fix
    │   ├── FileFormatError                the file cannot be read as claimed
    │   │   ├── EmptyFileError             0 bytes, or a header and no rows
    │   │   ├── BinaryFileError            bytes that are not text
    │   │   ├── EncodingError              bytes that are not the detected encoding
    │   │   ├── RaggedRowError             a row with more or fewer fields than the header
    │   │   ├── LineTooLongError           a line longer than the configured maximum
    │   │   ├── TooManyColumnsError        more columns than the configured maximum
    │   │   └── CorruptFileError           a damaged Parquet (or other binary) file
    │   ├── SettingError                   an environment setting with a bad value
    │   ├── EngineURLError                 an engine URL ridp cannot connect to
    │   └── FieldError                     a field of a request or command is wrong
    │       └── SpecError                  a field of a YAML spec (metric, check) is wrong; names its line
    ├── NotFoundError (LookupError)        a city, dataset or version that does not exist
    ├── PermissionDeniedError              the acting person may not do this
    │   └── AgreementRequiredError         no active data-sharing agreement covers this use
    ├── WorkspaceError                     the store is missing, locked or inconsistent
    │   └── IntegrityError                 the store failed its integrity check
    ├── ResourceLimitError                 a parse ran out of its memory or CPU budget
    └── EngineGapError                     an operation one engine cannot run here (e.g. spatial joins on Spark)
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "AgreementRequiredError",
    "BinaryFileError",
    "CorruptFileError",
    "EmptyFileError",
    "EncodingError",
    "EngineGapError",
    "EngineURLError",
    "FieldError",
    "FileFormatError",
    "InputError",
    "IntegrityError",
    "LineTooLongError",
    "NotFoundError",
    "PermissionDeniedError",
    "RaggedRowError",
    "ResourceLimitError",
    "RidpError",
    "SettingError",
    "SpecError",
    "TooManyColumnsError",
    "WorkspaceError",
]


class RidpError(Exception):
    """Root of every error ridp raises on purpose.

    Parameters
    ----------
    message
        What went wrong, in words a city analyst understands.
    hint
        What to do about it, if there is something to do.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class InputError(RidpError, ValueError):
    """Input a person gave is wrong and can be fixed by them."""


class FileFormatError(InputError):
    """A file cannot be read as the format it claims to be.

    The message names the file and, where it applies, the row (1-based line of
    the file, the header being line 1) and the column.

    Examples
    --------
    >>> str(FileFormatError("bad quote", path=Path("a.csv"), row=3, column="name"))
    'a.csv, row 3, column "name": bad quote'
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.row = row
        self.column = column
        self.reason = message
        where = []
        if self.path is not None:
            where.append(self.path.name)
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f'column "{column}"')
        full = f"{', '.join(where)}: {message}" if where else message
        super().__init__(full, hint=hint)


class EmptyFileError(FileFormatError):
    """The file has no bytes, or a header and no data rows."""


class BinaryFileError(FileFormatError):
    """The file holds bytes that are not text (it is not a CSV)."""


class EncodingError(FileFormatError):
    """The file's bytes do not decode with the detected or stated encoding."""


class RaggedRowError(FileFormatError):
    """A row has more or fewer fields than the header."""


class LineTooLongError(FileFormatError):
    """A line is longer than ``RIDP_MAX_LINE_BYTES``."""


class TooManyColumnsError(FileFormatError):
    """The file has more columns than ``RIDP_MAX_COLUMNS``."""


class CorruptFileError(FileFormatError):
    """A binary file (Parquet) is damaged or not what its name says."""


class SettingError(InputError):
    """An environment setting has a value ridp cannot use."""

    def __init__(self, name: str, value: str, expected: str) -> None:
        self.name = name
        self.value = value
        super().__init__(f"setting {name}={value!r} is not valid: expected {expected}")


class EngineURLError(InputError):
    """An engine URL is malformed or names an engine ridp does not support."""


class FieldError(InputError):
    """A field of a command or request has a wrong value."""

    def __init__(self, field: str, message: str, *, hint: str | None = None) -> None:
        self.field = field
        self.reason = message  # without the field's name, for a message shown beside the field
        super().__init__(f"{field}: {message}", hint=hint)


class SpecError(FieldError):
    """A field of a spec written in YAML (a metric, a check) is wrong; says which line, which field and why.

    ``field`` is the field's dotted path in the spec (``baseline.start``), or ``yaml`` when the text is not
    YAML at all; ``line`` is the 1-based line of the YAML text, when known.

    Examples
    --------
    >>> str(SpecError("baseline.start", "is not a date like 2024-01-01", line=5, path="potholes.yaml"))
    'potholes.yaml, line 5, field "baseline.start": is not a date like 2024-01-01'
    >>> SpecError("formula", "unknown field 'dayz'").at(line=3).reason
    "line 3: unknown field 'dayz'"
    """

    def __init__(
        self,
        field: str,
        message: str,
        *,
        line: int | None = None,
        path: Path | str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(field, message, hint=hint)
        self.line = line
        self.path = Path(path) if path is not None else None
        self.problem = message  # without where, for :meth:`at`
        where = [self.path.name] if self.path is not None else []
        if line is not None:
            where.append(f"line {line}")
        where.append(f'field "{field}"')
        self.message = f"{', '.join(where)}: {message}"
        # Beside a form's field the field's name is already shown; the line is not.
        self.reason = f"line {line}: {message}" if line is not None else message
        self.args = (self.message,)

    def at(self, *, line: int | None = None, path: Path | str | None = None) -> SpecError:
        """The same error, placed at ``line`` of the file ``path`` (what is known already is kept)."""
        return SpecError(
            self.field,
            self.problem,
            line=self.line if self.line is not None else line,
            path=self.path if self.path is not None else path,
            hint=self.hint,
        )


class NotFoundError(RidpError, LookupError):
    """A city, dataset, version or person that does not exist (or is not yours)."""


class PermissionDeniedError(RidpError):
    """The acting person may not do this."""


class AgreementRequiredError(PermissionDeniedError):
    """A dataset that needs an agreement has no active one covering it; says what is missing."""


class WorkspaceError(RidpError):
    """The workspace store is missing, locked or inconsistent."""


class IntegrityError(WorkspaceError):
    """The store failed its integrity check; ``problems`` lists every finding."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} integrity problem(s): " + "; ".join(problems[:5]))


class ResourceLimitError(RidpError):
    """Parsing a file ran out of its memory or CPU budget."""


class EngineGapError(RidpError):
    """An operation one engine cannot run here (a declared gap); the message says where it runs."""
