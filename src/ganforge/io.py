"""Reading and writing tables; every write goes to a temporary name and is renamed when complete."""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import GanforgeError

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def _table_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise GanforgeError(f"{path}: unsupported table format {suffix or '(no suffix)'!r}; "
                            f"use one of {', '.join(TABLE_SUFFIXES)}")
    return "parquet" if suffix in (".parquet", ".pq") else "csv"


SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}
SNIFFED_LINES = 200


def _dialect(path: Path) -> tuple[str, str]:
    """(separator, decimal mark) of a text table. Commas, unless the header holds none and exactly one other
    common separator: read as commas, a semicolon file (what spreadsheets write where the comma is the decimal
    mark) became one text column, a silently wrong table. Such a file takes decimal commas when its numbers
    show them and no decimal points."""
    if path.suffix.lower() == ".tsv":
        return "\t", "."
    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = handle.readline()
        sample = "".join(handle.readline() for _ in range(SNIFFED_LINES))
    found = [separator for separator in SEPARATORS if separator in header]
    if "," in header or len(found) != 1:
        return ",", "."
    comma_decimals = found[0] == ";" and re.search(r"\d,\d", sample) and not re.search(r"\d\.\d", sample)
    return found[0], "," if comma_decimals else "."


def _check_header(path: Path, delimiter: str) -> None:
    """pandas renames duplicate headers silently ('a', 'a.1'); a user must hear about it instead."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), [])
    duplicates = sorted(name for name, count in Counter(header).items() if count > 1)
    if duplicates:
        raise GanforgeError(f"{path}: duplicate column names: {', '.join(map(repr, duplicates))}")


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV/TSV/Parquet table, turning every way it can be unreadable into one clear error."""
    path = Path(path)
    if not path.exists():
        raise GanforgeError(f"{path}: no such file")
    if path.is_dir():
        raise GanforgeError(f"{path}: is a folder, expected a table file")
    kind = _table_format(path)
    try:
        if kind == "parquet":
            frame = pd.read_parquet(path)
        else:
            if path.stat().st_size == 0:
                raise GanforgeError(f"{path}: file is empty")
            delimiter, decimal = _dialect(path)
            _check_header(path, delimiter)
            frame = pd.read_csv(path, sep=delimiter, decimal=decimal, encoding="utf-8-sig", low_memory=False)
            if delimiter != ("\t" if path.suffix.lower() == ".tsv" else ","):
                frame.attrs["read_as"] = (f"columns separated by {SEPARATORS[delimiter]}"
                                          + (", decimal commas" if decimal == "," else ""))
    except GanforgeError:
        raise
    except UnicodeDecodeError as error:
        raise GanforgeError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except pd.errors.EmptyDataError:
        raise GanforgeError(f"{path}: file is empty") from None
    except (pd.errors.ParserError, ValueError, OSError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise GanforgeError(f"{path}: cannot be read as {kind}: {first_line}") from None
    if frame.columns.duplicated().any():
        duplicates = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise GanforgeError(f"{path}: duplicate column names: {', '.join(map(repr, duplicates))}")
    if len(frame) == 0:
        raise GanforgeError(f"{path}: has a header but no rows")
    return frame


class ParquetColumns:
    """A Parquet table read one column at a time: fitting and encoding need one column at once, so a table
    bigger than memory allows twice never sits whole in memory. Looks like a read-only DataFrame to them
    (`columns`, `len`, `shape`, `table[name]`); `rows` keeps a shard (sorted row numbers) of a distributed fit."""

    def __init__(self, path: str | os.PathLike, rows: np.ndarray | None = None):
        import pyarrow.parquet as pq

        self.path, self.rows = Path(path), rows
        if not self.path.is_file():
            raise GanforgeError(f"{self.path}: no such file")
        try:
            metadata = pq.ParquetFile(self.path).metadata
        except Exception as error:  # pyarrow raises several types for a damaged file
            raise GanforgeError(f"{self.path}: cannot be read as parquet: {_first_line(error)}") from None
        schema = metadata.schema.to_arrow_schema()
        index = {name for name in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(name, str)}
        names = [name for name in schema.names if name not in index]  # what pandas.read_parquet makes columns
        duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
        if duplicates:
            raise GanforgeError(f"{self.path}: duplicate column names: {', '.join(map(repr, duplicates))}")
        self.columns = pd.Index(names)
        self.total_rows = metadata.num_rows
        if self.total_rows == 0:
            raise GanforgeError(f"{self.path}: has a header but no rows")

    def __len__(self) -> int:
        return self.total_rows if self.rows is None else len(self.rows)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), len(self.columns)

    def __getitem__(self, name: str) -> pd.Series:
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(self.path, columns=[name])
        except Exception as error:
            raise GanforgeError(f"{self.path}: column {name!r} cannot be read: {_first_line(error)}") from None
        values = table.to_pandas(self_destruct=True)[name]
        return values if self.rows is None else values.iloc[self.rows].reset_index(drop=True)

    def shard(self, rows: np.ndarray) -> ParquetColumns:
        shard = ParquetColumns.__new__(ParquetColumns)
        shard.__dict__.update(self.__dict__, rows=rows)
        return shard


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def check_writable(path: str | os.PathLike, force: bool) -> Path:
    """Refuse to overwrite what the user has, unless they said --force."""
    path = Path(path)
    if path.exists() and not force:
        raise GanforgeError(f"{path}: already exists (use --force to overwrite)")
    if path.exists() and path.is_dir() and not path.is_file() and path.suffix:
        raise GanforgeError(f"{path}: is a folder, expected a file name")
    if not path.parent.exists():
        raise GanforgeError(f"{path.parent}: output folder does not exist")
    return path


def make_ordinary(path: str | os.PathLike, mode: int = 0o666) -> None:
    """mkstemp and mkdtemp create private files; a finished output gets the permissions the umask allows."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


def _atomic_write(path: Path, write) -> Path:
    """Write through a temporary sibling and rename: a crash leaves the old file (or nothing), never half."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(temporary)
        make_ordinary(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def write_table(frame: pd.DataFrame, path: str | os.PathLike, force: bool = False) -> Path:
    path = check_writable(path, force)
    if _table_format(path) == "parquet":
        return _atomic_write(path, lambda temporary: frame.to_parquet(temporary, index=False))
    separator = "\t" if path.suffix.lower() == ".tsv" else ","
    return _atomic_write(path, lambda temporary: frame.to_csv(temporary, index=False, sep=separator))


def write_table_chunks(chunks: Iterable[pd.DataFrame], path: str | os.PathLike, force: bool = False) -> int:
    """Write frames with the same columns one after another into one table file; returns the row count.
    Parquet chunks are cast to the first chunk's schema, so a chunk whose column happens to be all missing
    keeps the column's type."""
    path = check_writable(path, force)
    written = 0

    def write(temporary: str) -> None:
        nonlocal written
        if _table_format(path) == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            writer = None
            try:
                for frame in chunks:
                    table = pa.Table.from_pandas(frame, preserve_index=False)
                    if writer is None:
                        writer = pq.ParquetWriter(temporary, table.schema)
                    writer.write_table(table.cast(writer.schema))
                    written += len(frame)
            finally:
                if writer is not None:
                    writer.close()
            return
        separator = "\t" if path.suffix.lower() == ".tsv" else ","
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            for frame in chunks:
                frame.to_csv(handle, index=False, sep=separator, header=written == 0)
                written += len(frame)

    _atomic_write(path, write)
    return written


def write_text(text: str, path: str | os.PathLike, force: bool = False) -> Path:
    path = check_writable(path, force)
    return _atomic_write(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))


def spread_rows(rows: int, most: int) -> np.ndarray:
    """At most `most` row numbers, evenly spread through a table of `rows`: where a table's structure is looked
    for without reading every row."""
    return np.linspace(0, rows - 1, min(rows, most)).round().astype(np.int64)
