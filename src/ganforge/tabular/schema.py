"""What each column of a table is, inferred from its values and overridable by the user."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from pandas.api import types

from ..config import COLUMN_KINDS
from ..errors import GanforgeError

EPOCH = pd.Timestamp("1970-01-01")
MIN_ROWS = 10
CATEGORICAL_NUMERIC_LEVELS = 10  # a number column with this few distinct values is a category
ID_MIN_ROWS = 20
TEXT_MIN_CHARACTERS = 20  # free text: most values have spaces and the median is at least this long
UNMODELLED = ("id", "constant", "text")  # kinds the table GAN does not see


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str
    dtype: str
    null_rate: float
    datetime_format: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def datetime_seconds(values: pd.Series, spec: ColumnSpec) -> pd.Series:
    """Seconds since 1970-01-01 UTC for a datetime or date-text column; NaN where missing or unparseable."""
    if not types.is_datetime64_any_dtype(values.dtype):
        values = pd.to_datetime(values, format=spec.datetime_format, errors="coerce", utc=True)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return (values - EPOCH) / pd.Timedelta(seconds=1)


def check_table(frame: pd.DataFrame, source: str = "table") -> None:
    """The shape problems that make a table unusable for training, each named plainly."""
    from ..io import ParquetColumns

    if not isinstance(frame, (pd.DataFrame, ParquetColumns)):
        raise GanforgeError(f"{source}: expected a pandas DataFrame, got {type(frame).__name__}")
    if frame.shape[1] == 0:
        raise GanforgeError(f"{source}: has no columns")
    bad_names = [name for name in frame.columns if not isinstance(name, str)]
    if bad_names:
        raise GanforgeError(f"{source}: column names must be text, got {bad_names[0]!r}")
    duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
    if duplicated:
        raise GanforgeError(f"{source}: duplicate column names: {', '.join(map(repr, duplicated))}")
    if len(frame) < MIN_ROWS:
        raise GanforgeError(f"{source}: has {len(frame)} row(s); a GAN needs at least {MIN_ROWS}")


def _is_boolean(values: pd.Series) -> bool:
    if types.is_bool_dtype(values.dtype):
        return True
    return values.dtype == object and len(values) > 0 and all(isinstance(v, (bool, np.bool_)) for v in values)


def guess_datetime_format(values: pd.Series) -> str | None:
    """A strftime format that parses every value of a text column, or None when it is not a date column."""
    if len(values) == 0 or not all(isinstance(v, str) for v in values.iloc[:100]):
        return None
    for day_first in (False, True):
        fmt = pd.tseries.api.guess_datetime_format(str(values.iloc[0]), dayfirst=day_first)
        if fmt is None or not any(p in fmt for p in ("%d", "%m", "%b", "%B")) or not any(
                p in fmt for p in ("%Y", "%y")):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        if parsed.notna().all():
            return fmt
    return None


def _is_free_text(values: pd.Series, distinct: int) -> bool:
    """Sentences, titles, addresses: mostly distinct strings of several words."""
    if len(values) < ID_MIN_ROWS or distinct < len(values) / 2 or not all(isinstance(v, str) for v in values.iloc[:100]):
        return False
    text = values.astype(str)
    return bool(text.str.contains(" ").mean() >= 0.8 and text.str.len().median() >= TEXT_MIN_CHARACTERS)


def infer_kind(column: pd.Series) -> tuple[str, str | None]:
    """(kind, datetime format) from the values alone; the rules are in the README's column-kind table."""
    values = column.dropna()
    if len(values) == 0:
        return "constant", None
    if _is_boolean(values):
        return "boolean", None
    if types.is_datetime64_any_dtype(column.dtype):
        return "datetime", None
    distinct = values.nunique()
    if distinct == 1 and len(values) == len(column):
        return "constant", None
    if types.is_numeric_dtype(column.dtype):
        numbers = values.astype("float64")
        integral = bool(np.all(np.mod(numbers, 1) == 0))
        if integral and distinct == len(values) >= ID_MIN_ROWS and numbers.max() - numbers.min() + 1 == distinct:
            return "id", None
        if distinct <= CATEGORICAL_NUMERIC_LEVELS:
            return "categorical", None
        return ("integer" if integral else "continuous"), None
    fmt = guess_datetime_format(values)
    if fmt is not None:
        return "datetime", fmt
    if _is_free_text(values, distinct):
        return "text", None
    if distinct == len(values) >= ID_MIN_ROWS:
        return "id", None
    return "categorical", None


def _check_override(column: pd.Series, name: str, kind: str) -> str | None:
    """Validate a kind the user asked for; return the datetime format when one is needed."""
    values = column.dropna()
    if kind in ("continuous", "integer") and not types.is_numeric_dtype(column.dtype):
        raise GanforgeError(f"column {name!r}: cannot be {kind}, its values are not numbers "
                            f"(e.g. {values.iloc[0]!r})")
    if kind == "integer" and len(values) and not np.all(np.mod(values.astype("float64"), 1) == 0):
        raise GanforgeError(f"column {name!r}: cannot be integer, it has fractions")
    if kind == "boolean" and values.nunique() > 2:
        raise GanforgeError(f"column {name!r}: cannot be boolean, it has {values.nunique()} distinct values")
    if kind == "datetime" and not types.is_datetime64_any_dtype(column.dtype):
        fmt = guess_datetime_format(values)
        if fmt is None:
            raise GanforgeError(f"column {name!r}: cannot be datetime, values such as "
                                f"{values.iloc[0] if len(values) else None!r} are not dates")
        return fmt
    return None


def infer_schema(frame: pd.DataFrame, overrides: dict[str, str] | None = None) -> list[ColumnSpec]:
    """One ColumnSpec per column, in the table's order; `overrides` maps column -> kind."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(frame.columns))
    if unknown:
        raise GanforgeError(f"column kind given for unknown column(s): {', '.join(map(repr, unknown))}")
    specs = []
    for name in frame.columns:
        column = frame[name]
        if types.is_float_dtype(column.dtype) and np.isinf(column.to_numpy(np.float64, na_value=np.nan)).any():
            raise GanforgeError(f"column {name!r}: has infinite values; replace them or drop those rows")
        if name in overrides:
            kind = overrides[name]
            if kind not in COLUMN_KINDS:
                raise GanforgeError(f"column {name!r}: unknown kind {kind!r}; use one of {', '.join(COLUMN_KINDS)}")
            fmt = _check_override(column, name, kind)
        else:
            kind, fmt = infer_kind(column)
        specs.append(ColumnSpec(name=name, kind=kind, dtype=str(column.dtype),
                                null_rate=float(column.isna().mean()), datetime_format=fmt))
    return specs
