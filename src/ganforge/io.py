"""Reading and writing tables; every write goes to a temporary name and is renamed when complete."""

from __future__ import annotations

import csv
import os
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd

from .errors import GanforgeError

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def _table_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise GanforgeError(f"{path}: unsupported table format {suffix or '(no suffix)'!r}; "
                            f"use one of {', '.join(TABLE_SUFFIXES)}")
    return "parquet" if suffix in (".parquet", ".pq") else "csv"


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
            delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
            _check_header(path, delimiter)
            frame = pd.read_csv(path, sep=delimiter, encoding="utf-8-sig", low_memory=False)
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


def write_text(text: str, path: str | os.PathLike, force: bool = False) -> Path:
    path = check_writable(path, force)
    return _atomic_write(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))
