"""Reading the files cities export into ridp's columnar form (pure: no ORM).

The store calls :func:`parse_file`, which sniffs the file in this process and
converts it to Parquet in a child process with memory and CPU limits.
"""

from ridp.ingest.convert import ColumnSpec, ConvertResult
from ridp.ingest.sniff import FileKind, Sniffed, sniff_file
from ridp.ingest.worker import parse_file

__all__ = ["ColumnSpec", "ConvertResult", "FileKind", "Sniffed", "parse_file", "sniff_file"]
