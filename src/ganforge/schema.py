"""What each column of a table is, inferred from its values and overridable by the user."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types

from .config import COLUMN_KINDS
from .errors import GanforgeError
from .nominal import order_carries_nothing, spread_table

EPOCH = pd.Timestamp("1970-01-01")
MIN_ROWS = 10
CATEGORICAL_NUMERIC_LEVELS = 10  # a number column with this few distinct values is a category
ID_MIN_ROWS = 20
TEXT_MIN_CHARACTERS = 20  # free text: most values have spaces and the median is at least this long
MOSTLY_DISTINCT = 0.5  # strings with at least this share of distinct values are generated anew, not drawn
UNMODELLED = ("id", "constant", "text")  # kinds the table GAN does not see


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str
    dtype: str
    null_rate: float
    datetime_format: str | None = None
    reason: str | None = None  # why this kind: said by `fit` and `info`

    def to_dict(self) -> dict:
        return asdict(self)


def datetime_seconds(values: pd.Series, spec: ColumnSpec, wall_clock: bool = False) -> pd.Series:
    """Seconds since 1970-01-01 UTC for a datetime or date-text column; NaN where missing or unparseable.
    `wall_clock`: a timezone-aware column's times as its clocks show them (a shop's opening hour is 9 all year,
    and its day begins at its own midnight), not as the instants they are in UTC."""
    offsets = 0.0
    if not types.is_datetime64_any_dtype(values.dtype):
        if wall_clock and spec.datetime_format is not None and "%z" in spec.datetime_format:
            offsets = utc_offsets(values).fillna(0.0).to_numpy()  # text written with its offset from UTC
        values = pd.to_datetime(values, format=spec.datetime_format, errors="coerce", utc=True)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None) if wall_clock else values.dt.tz_convert("UTC").dt.tz_localize(None)
    return (values - EPOCH) / pd.Timedelta(seconds=1) + offsets


def utc_offsets(values: pd.Series) -> pd.Series:
    """The offset from UTC, in seconds, that each date text ends with ("-05:00", "+0100", "Z"); NaN where none."""
    parts = values.astype("string").str.extract(r"(?:(Z)|([+-])(\d{2}):?(\d{2}))\s*$")
    seconds = parts[2].astype(float) * 3600 + parts[3].astype(float) * 60
    return pd.Series(np.where(parts[1].eq("-").fillna(False), -seconds,
                              np.where(parts[0].eq("Z").fillna(False), 0.0, seconds)), index=values.index, dtype=float)


def check_table(frame: pd.DataFrame, source: str = "table") -> None:
    """The shape problems that make a table unusable for training, each named plainly."""
    from .io import ParquetColumns

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


def mostly_distinct(values: pd.Series, distinct: int | None = None) -> bool:
    """At least MOSTLY_DISTINCT of the (non-missing) `values` differ: names, codes, titles, free text."""
    values = values.dropna()
    return (values.nunique() if distinct is None else distinct) >= MOSTLY_DISTINCT * len(values)


def _mostly_held_once(values: pd.Series) -> bool:
    """Most of the distinct values are held by one row each: drawn as a category, a synthetic row would point
    at that row. Two-letter state codes of 100 senators, each held twice, are a category."""
    counts = values.value_counts()
    return bool((counts == 1).sum() >= 0.5 * len(counts))


def _is_free_text(values: pd.Series, distinct: int) -> bool:
    """Sentences, titles, addresses: mostly distinct strings of several words."""
    if (len(values) < ID_MIN_ROWS or not mostly_distinct(values, distinct)
            or not all(isinstance(v, str) for v in values.iloc[:100])):
        return False
    text = values.astype(str)
    return bool(text.str.contains(" ").mean() >= 0.8 and text.str.len().median() >= TEXT_MIN_CHARACTERS)


# Words that mark whole numbers as codes for categories rather than quantities: states, zip and ICD codes,
# regions, school ids or product numbers, races. A word of the name must be one of them, alone or joined to a
# code suffix or another such word (state, state_code, STATEFIP, schidkn, zipCode, producttype); a quantity about
# a coded thing is not a code (statemb, a state's maximum benefit, 138 amounts that a prefix match took for
# codes; classsize). "school" alone is left out, as it more often counts years of schooling.
CODE_WORDS = ("state|fips|zip|postcode|postal|code|region|county|district|country|nation|schid|schoolid|category|"
              "categ|class|type|group|sector|industry|occupation|race|ethn|ethnic|ethnicity|gender|sex|status|dept|"
              "department|station|site|store|product|brand|icd|id")
CODE_WORD = re.compile(rf"(?:{CODE_WORDS})(?:_?(?:{CODE_WORDS}|cd|codes|fip|icp|no|num|nr|key|kn))?\d*", re.IGNORECASE)
NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")  # snake_case, camelCase and ALLCAPS words


ID_WORD = re.compile(r"(?:p|u|row|case|doc|rec|obs|serial)?(?:id|no|nr|num|key|idx|index)|id(?:case|num|no|nr)",
                     re.IGNORECASE)
ID_MIN_DENSITY = 0.5  # whole numbers, one per row, filling this share of their range: a sample of row numbers


def reads_as_identifier(name: str) -> bool:
    """Whether a column's name says it numbers the rows (id, PID, docno, idcase, row_nr)."""
    return any(ID_WORD.fullmatch(word) for word in NAME_WORDS.findall(str(name)))


def reads_as_codes(name: str) -> bool:
    """Whether a column's name says its whole numbers are codes."""
    return any(CODE_WORD.fullmatch(word) for word in NAME_WORDS.findall(str(name)))


CODE_MAX_LEVELS = 200
CODE_MIN_ROWS_PER_LEVEL = 3


def infer_kind(column: pd.Series) -> tuple[str, str | None]:
    """(kind, datetime format) from the values alone; the rules are in the README's column-kind table."""
    kind, fmt, _ = infer_kind_and_reason(column)
    return kind, fmt


def infer_kind_and_reason(column: pd.Series, private: bool = False) -> tuple[str, str | None, str]:
    """(kind, datetime format, the reason in a few words). `private`: for a fit under differential privacy,
    where a category's rare levels are never released, so mostly distinct strings may stay a category."""
    values = column.dropna()
    if len(values) == 0:
        return "constant", None, "every value is missing"
    if _is_boolean(values):
        return "boolean", None, "true/false values"
    if types.is_datetime64_any_dtype(column.dtype):
        return "datetime", None, "date/time values"
    distinct = values.nunique()
    if distinct == 1 and len(values) == len(column):
        return "constant", None, "one value in every row"
    if types.is_numeric_dtype(column.dtype):
        numbers = values.astype("float64")
        integral = bool(np.all(np.mod(numbers, 1) == 0))
        if integral and distinct == len(values) >= ID_MIN_ROWS:
            span = numbers.max() - numbers.min() + 1
            if span == distinct:
                return "id", None, "consecutive whole numbers, one per row"
            # a sample of row numbers (a split, a filter) is no longer consecutive, and was modelled as a quantity
            if distinct >= ID_MIN_DENSITY * span:
                return "id", None, f"whole numbers, one per row, filling {distinct / span:.0%} of their range"
            if reads_as_identifier(str(column.name or "")):
                return "id", None, "whole numbers, one per row, under a name that reads as an identifier"
        if distinct <= CATEGORICAL_NUMERIC_LEVELS:
            return "categorical", None, f"{distinct} distinct numbers"
        name = str(column.name or "")
        if integral and reads_as_codes(name) and _learnable_as_codes(distinct, len(values)):
            return "categorical", None, (f"whole numbers with {distinct} levels under a name that reads as codes "
                                         f"({name!r}); --column-kind {name}=integer if they are quantities")
        if integral:
            return "integer", None, f"whole numbers ({distinct} distinct)"
        return "continuous", None, "numbers"
    fmt = guess_datetime_format(values)
    if fmt is not None:
        return "datetime", fmt, f"dates in the format {fmt}"
    if _is_free_text(values, distinct):
        return "text", None, "free text: mostly distinct strings of several words"
    if distinct == len(values) >= ID_MIN_ROWS:
        return "id", None, "a different text in every row"
    if len(values) >= ID_MIN_ROWS and mostly_distinct(values, distinct) and _mostly_held_once(values):
        name = str(column.name or "")
        if private:
            return "categorical", None, (f"text with {distinct} levels in {len(values)} values; under differential "
                                         "privacy only levels held by enough rows are released")
        # names, titles, models, codes: as a category, synthetic rows could only copy them, and most point at one
        # training row
        return "text", None, (f"mostly distinct strings ({distinct} of {len(values)}), generated anew rather than "
                              f"copied; --column-kind {name}=categorical draws the seen values")
    return "categorical", None, f"text with {distinct} levels"


MISSING_TOKENS = frozenset({"", "n/a", "na", "nan", "null", "none", "unknown", "missing", "-", "--", "?", ".",
                            "not available", "#n/a"})


FORMATTED_NUMBER = re.compile(r"^(?P<sign>[-+]?)(?P<currency>[$€£¥]?)\s?(?P<digits>\d{1,3}(?:,\d{3})+|\d+)"
                              r"(?P<fraction>\.\d+)?\s?(?P<percent>%?)$")


def _reads_as_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return bool(FORMATTED_NUMBER.match(text))


def _as_numbers(text: pd.Series, stop_at_words: bool = False) -> tuple[pd.Series | None, bool]:
    """Each text as a number, plain (".5", "1e-3") or written as "886,440", "$1,200.50" or "45%" (the number
    45), NaN where it is none; and whether any needed the written form. With `stop_at_words`, None as soon as
    one text is neither: a column of words is decided without the pattern reading every cell."""
    if stop_at_words and len(text) and not _reads_as_number(text.iloc[0]):
        return None, True  # parsing every cell of a text column costs far more than this first look
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    unread = numbers.isna()
    if not unread.any():
        return numbers, False
    if stop_at_words and not FORMATTED_NUMBER.match(text[unread].iloc[0]):
        return None, True
    parts = text[unread].str.extract(FORMATTED_NUMBER)
    written = parts["sign"] + parts["digits"].str.replace(",", "", regex=False) + parts["fraction"].fillna("")
    numbers[unread] = pd.to_numeric(written, errors="coerce")
    return numbers, True


def read_numbers_in_text(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Text columns that hold numbers become numbers, with a note for each: numbers with a few "n/a",
    "unknown" or "-" cells (those become missing), and numbers written with thousands separators, currency or
    percent signs ("886,440", "$1,200.50", "45%"). Otherwise the column would be taken for categories, and
    synthetic rows could only copy the values already seen. Synthetic values come back as plain numbers."""
    notes, converted = [], {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        observed = column.dropna()
        text = observed.astype(str).str.strip()
        tokens = text.str.lower().isin(MISSING_TOKENS)
        if tokens.all():
            continue
        numbers, formatted = _as_numbers(text[~tokens], stop_at_words=True)
        if numbers is None or numbers.isna().any() or not (tokens.any() or formatted):
            continue
        said = []
        if formatted:
            example = text[~tokens].iloc[int(np.argmax(text[~tokens].str.len().to_numpy()))]
            said.append(f"text such as {example!r} read as numbers (synthetic values come back as plain numbers)")
        if tokens.any():
            seen = sorted(set(text[tokens]))[:3]
            said.append(f"read {int(tokens.sum())} cell(s) such as {', '.join(map(repr, seen))} as missing; the "
                        f"other values are numbers")
        notes.append(f"column {name!r}: " + "; ".join(said))
        numbers = numbers.reindex(column.index)  # tokens and gaps become NaN
        whole = numbers.notna().all() and bool((numbers % 1 == 0).all())
        converted[name] = numbers.astype("int64") if whole else numbers
    return _with_columns(frame, converted), notes


def _with_columns(frame: pd.DataFrame, columns: dict[str, pd.Series]) -> pd.DataFrame:
    """`frame` with `columns` in place of its own, the frame itself untouched (`assign` takes the names as
    keywords, and a column named "self", a survey's self-employed flag, clashed with its own argument)."""
    if not columns:
        return frame
    frame = frame.copy(deep=False)
    for name, values in columns.items():
        frame[name] = values
    return frame


def numbers_as_read(real: pd.DataFrame, *others: pd.DataFrame | None) -> list[pd.DataFrame | None]:
    """`real` with its numbers in text read as `fit` reads them, and the same columns of `others` (a synthetic
    table, which holds plain numbers, or a holdout, which holds text like the real one) read alike, so the
    tables compare as numbers, not as text against numbers."""
    real, _ = read_numbers_in_text(real)
    out: list[pd.DataFrame | None] = [real]
    for frame in others:
        if frame is not None:
            converted = {}
            for name in real.columns:
                if (name in frame.columns and types.is_numeric_dtype(real[name])
                        and not types.is_bool_dtype(real[name]) and frame[name].dtype == object):  # (True/False
                    # objects beside a column of bools are not numbers in text: read as numbers, all were NaN)
                    text = frame[name].dropna().astype(str).str.strip()
                    converted[name] = _as_numbers(text)[0].reindex(frame.index)  # tokens and the unreadable: NaN
            frame = _with_columns(frame, converted)
        out.append(frame)
    return out


SDV_SDTYPES = {"numerical": None, "categorical": "categorical", "boolean": "boolean", "datetime": "datetime",
               "id": "id", "text": "text", "unknown": "text"}
SDV_PII = ("email", "phone_number", "address", "name", "first_name", "last_name", "ssn", "ipv4_address",
           "ipv6_address", "url", "street_address", "city", "postcode", "country_code", "license_plate")


def read_metadata(path: str | Path, frame: pd.DataFrame) -> dict[str, str]:
    """Column kinds from a metadata file: SDV's single-table metadata ({"columns": {name: {"sdtype": ...}}},
    optionally inside {"tables": {name: ...}}) or the project's own {"column_kinds": {name: kind}}.
    Numerical columns become integer or continuous by their values."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise GanforgeError(f"{path}: metadata file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GanforgeError(f"{path}: not a readable JSON metadata file ({error})") from None
    if not isinstance(data, dict):
        raise GanforgeError(f"{path}: expected a JSON object with 'columns' or 'column_kinds'")
    if "column_kinds" in data:
        kinds = data["column_kinds"]
        if not isinstance(kinds, dict):
            raise GanforgeError(f"{path}: 'column_kinds' must map column names to kinds")
        for name, kind in kinds.items():
            if kind not in COLUMN_KINDS:
                raise GanforgeError(f"{path}: column {name!r}: unknown kind {kind!r}; use one of "
                                    f"{', '.join(COLUMN_KINDS)}")
        return dict(kinds)
    if "tables" in data:
        tables = data["tables"]
        if not isinstance(tables, dict) or len(tables) != 1:
            raise GanforgeError(f"{path}: holds {len(tables) if isinstance(tables, dict) else 'no'} tables; "
                                "a fit reads one table's metadata")
        data = next(iter(tables.values()))
    columns = data.get("columns")
    if not isinstance(columns, dict):
        raise GanforgeError(f"{path}: no 'columns' object (SDV metadata) or 'column_kinds' object")
    kinds = {}
    for name, entry in columns.items():
        sdtype = entry.get("sdtype") if isinstance(entry, dict) else None
        if sdtype in SDV_PII:
            kinds[name] = "text"
        elif sdtype not in SDV_SDTYPES:
            raise GanforgeError(f"{path}: column {name!r}: unknown sdtype {sdtype!r}; use one of "
                                f"{', '.join(list(SDV_SDTYPES) + list(SDV_PII))}")
        elif sdtype == "numerical":
            values = frame[name].dropna() if name in frame.columns else pd.Series(dtype=float)
            integral = types.is_numeric_dtype(values.dtype) and bool(np.all(np.mod(values.astype(float), 1) == 0))
            kinds[name] = "integer" if integral and len(values) else "continuous"
        else:
            kinds[name] = SDV_SDTYPES[sdtype]
    return kinds


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


def _learnable_as_codes(distinct: int, rows: int) -> bool:
    """Whole numbers with few enough levels, each held by enough rows, to be learned as a category's codes."""
    return CATEGORICAL_NUMERIC_LEVELS < distinct <= CODE_MAX_LEVELS and rows >= CODE_MIN_ROWS_PER_LEVEL * distinct


def infer_schema(frame: pd.DataFrame, overrides: dict[str, str] | None = None,
                 declared: str = "declared", private: bool = False) -> list[ColumnSpec]:
    """One ColumnSpec per column, in the table's order; `overrides` maps column -> kind (`declared` says by
    whom, for the reason); `private` as for `infer_kind_and_reason`."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(frame.columns))
    if unknown:
        raise GanforgeError(f"column kind given for unknown column(s): {', '.join(map(repr, unknown))}")
    specs, candidates = [], []
    for name in frame.columns:
        column = frame[name]
        if types.is_float_dtype(column.dtype) and np.isinf(column.to_numpy(np.float64, na_value=np.nan)).any():
            raise GanforgeError(f"column {name!r}: has infinite values; replace them or drop those rows")
        if name in overrides:
            kind = overrides[name]
            if kind not in COLUMN_KINDS:
                raise GanforgeError(f"column {name!r}: unknown kind {kind!r}; use one of {', '.join(COLUMN_KINDS)}")
            fmt, reason = _check_override(column, name, kind), declared
        else:
            kind, fmt, reason = infer_kind_and_reason(column, private)
            if kind == "integer" and not private and _learnable_as_codes(column.nunique(), column.notna().sum()):
                candidates.append(len(specs))
        specs.append(ColumnSpec(name=name, kind=kind, dtype=str(column.dtype),
                                null_rate=float(column.isna().mean()), datetime_format=fmt, reason=reason))
    if candidates:  # the other columns read once, over rows spread through the table (a Parquet file's too)
        table = spread_table(frame)
        for index in candidates:
            name = specs[index].name
            nominal, shown_by = order_carries_nothing(table, name)
            if nominal:
                specs[index] = replace(specs[index], kind="categorical", reason=(
                    f"whole numbers with {frame[name].nunique()} levels in no meaningful order: {shown_by} changes "
                    f"as much between neighbouring values as between any two; --column-kind {name}=integer if "
                    "they are quantities"))
    return specs
