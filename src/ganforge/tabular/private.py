"""The column transform under differential privacy: every statistic it takes from the real rows is noisy.

The statistics budget (epsilon_s, delta_s) is split evenly over the modelled columns (basic composition):

- categories, booleans and constants: Laplace-noised counts of the observed levels; a level is released only
  when its noisy count clears 1 + ln(1 / (2 delta)) / epsilon (Laplace thresholding), so a level held by one
  row stays hidden. With public levels declared, those are counted with noise and all kept. Integer codes
  under a name that reads as codes (states, schools) take candidate levels from a private range of their codes
  instead (`integer_levels`), which needs no row count per level; other whole-number categories take the
  numbers 0-15 as candidates known in advance (`small_number_levels`), and their other values (incomes 2,500
  ... 75,000) are released by threshold; where three or more such numbers, none of them 0-15, would hold
  fewer rows a level than the threshold needs, the column is released as a number instead (`_as_quantity`;
  where they are every whole number between their ends, years, with a bin for each). A number with fractions
  and at most 30 values, each holding 1.5 times the rows a release needs on average (brackets, half-inch
  heights), is released as those values by threshold instead (`_as_levels`).
  Text flags (every value one of yes/no, y/n, true/false, t/f, in lower, capitalised or upper case) take
  those words as candidates the same way (`flag_word_levels`). Booleans have their two levels from their type.
  (Every whole-number
  category through the range was tried: a small table's years were released rather than refused, but the half
  of the budget the range takes cost far-apart codes and plentiful levels more: males at epsilon 3, 0.777 ->
  0.761 quality.)
- numbers and dates (seconds from 2000-01-01): one Laplace-noised histogram over fixed power-of-two magnitude
  bins finds the range (unless public bounds are declared). Pairs of neighbouring bins are summed too, against
  thresholds for the summed noise, and widen the range where they pass (a column spread thinly over many bins;
  beside a bin that passes alone, a partner joins only where its own count stands out); a passing group apart
  from the main one needs three more noise scales (a stray); where nothing passes (a narrow column on a small
  table), or zero's bin alone (dry days beside rain spread thinly over many magnitudes), runs of 4, 8, 16, 32
  of the other bins: a coarser range instead of a refusal or a column of zeros, at
  no extra cost (post-processing of the same noisy counts), and a bin more toward zero (and away from it
  where the histogram will have many bins, `with_far_tail`). A noisy histogram over that range, with as many
  bins as the noise allows (thin runs of bins pooled, so a long tail survives the fine bins; where it allows
  many, a coarse histogram at a quarter of the shape's budget first finds where the values lie, and half the
  bins go there: years 1980-1987 in a range of 512-2,048, latitudes of 47.4-47.9 in one of 16-64), gives the
  shape: the distribution function the quantile encoder maps through (or draws the mixture modes are fitted
  to, for `numeric_encoding="modes"`). Values at exactly zero, where their magnitude bin clears the bar alone, are a
  share of their own (`_with_zero_atom`).
- whether a number or date column has missing values: a Laplace-noised count of them against a threshold, a
  cell of the range's histogram (or, with public bounds, of the shape histogram where the budget plan bought a
  row count, else beside the count of values present);
- data-dependent details that would leak single rows are dropped: numbers are rounded by their kind
  (integers) and never snapped onto real values, identifiers are numbered from 1, and the stored null rates
  are left out.

Each column's statistics are pure epsilon_c-DP but for their thresholds' delta, so with the pair marginals
they may also be composed in zero-concentrated DP and converted once (`marginals_rho`), which leaves the pairs
more where the columns are many; the statistics are the same either way.

Not covered: the column kinds, which are inferred from the data unless declared (`column_kinds`), and
whether a category holds whole numbers or flag words only.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import numpy as np
import pandas as pd
from pandas.api import types

from ..config import PrivacyConfig, TabularConfig
from ..errors import GanforgeError
from ..schema import ColumnSpec, datetime_seconds, mostly_distinct, reads_as_codes
from .encoders import CategoricalEncoder, ContinuousEncoder, QuantileEncoder, to_python
from .marginals import BINS, DEPENDENCE_SHOWN, pair_noise, strongest_dependence, zcdp_rho
from .transform import SECONDS_PER_DAY, ColumnTransform, TableTransform

SMALLEST_POWER, LARGEST_POWER = -30, 63  # magnitude bins [2^k, 2^(k+1)) for k in this range, and zero
SHAPE_BINS = 1024  # at most; fewer where the noise would swamp the counts (64 blurred large tables' shapes:
# a price over its power-of-two range of 256-32,768 got ten bins below 5,000, where most prices lie)
MIN_SHAPE_BINS = 4
NOISE_FLOOR = 2.0  # shape bins under this many noise scales count as empty (an empty one passes 7% of the time)
COUNTS_PER_NOISE = 4  # shape bins are sized to hold about this many noise scales of rows each
FILL_RUNS = (8, 64)  # runs of neighbouring shape bins pooled, in turn, where each alone falls under NOISE_FLOOR
FINE_GROUPINGS = (1, 2)  # neighbouring magnitude bins summed; every run that passes widens the range
COARSE_GROUPINGS = (4, 8, 16, 32)  # tried in turn only when no fine run passes
GROUPINGS = FINE_GROUPINGS + COARSE_GROUPINGS
SMALL_NUMBERS = 16  # a whole-number category's candidate levels 0-15 (`small_number_levels`)
LONE_RISK = 0.01  # chance that some empty one of them passes on its own (a made-up level of a cut's rows)
LEVEL_NUMBERS = 30  # numbers with fractions and at most this many values may be released as levels
LEVEL_ROWS = 1.5  # ... where they hold this many times the rows a release needs on average (`_as_levels`)
MAX_CODES = 4096  # integer-coded categories spanning more numbers are released by threshold
CODES_HELD = 0.5  # share of a run's noisy rows the released codes must hold, or the run is released blurred
MAX_BLURRED_CODES = 256  # where no code or run of codes clears its bar, a range this narrow is released blurred
FLAG_PAIRS = tuple(dict.fromkeys((spell(a), spell(b)) for a, b in (("yes", "no"), ("y", "n"), ("true", "false"),
                                                                    ("t", "f"))
                                  for spell in (str.lower, str.capitalize, str.upper)))  # a text flag's candidates
FLAG_WORDS = tuple(word for pair in FLAG_PAIRS for word in pair)  # each beside its partner: yes, no, Yes, No, ...
SLIVER = 1e-6  # of a histogram's mass, spread evenly over its bins: the distribution function strictly increases
DRAWS = 5000  # draws from the noisy histogram that the mixture modes are fitted to (a handful of modes)
EMPTY_BIN_RISK = 0.05  # chance that some empty magnitude bin passes the range threshold by noise alone
ROW_COUNT_SHARE = 0.03  # of epsilon, from the statistics: the noisy row count that decides whether pairs pay
LOG_SPAN = 8.0  # a range from zero, or whose top is this many times its bottom, gets log-spaced bins when few
COARSE_SHARE = 0.25  # of a column's shape epsilon: a coarse histogram that says where the fine bins go
COARSE_LEVELS = (16, 4, 1)  # its bins pooled in runs, coarsest first: runs of 16 are as many as its noise
# allows (`shape_bins`), single bins fine enough to find eight years in a range of 1,536
PLACING_BINS = 16  # shape bins from which a coarse histogram places them (tuning half: 32 left males' years
# at epsilon 1 in one bin)
FAR_TAIL_BINS = 64  # shape bins from which a private range also takes the next magnitude bin away from zero
STRAY_GAP, STRAY_MARGIN = 1, 3.0  # a group of passing bins apart from the largest: bins between, extra noise scales
MIRROR_RISK = 1e-4  # chance that the empty mirror image of a one-signed range clears its bar by noise alone
NEIGHBOUR_BAR = 3.0  # noise scales a magnitude bin beside a private range needs to join it (an empty one: 2.5%)
FAR_NEIGHBOUR_SHARE = 0.05  # ... and away from zero, this share of the range's values: a doubled range thins every
# shape bin (tuning half, the released distribution functions against their rows: 0.05 lost no column by 0.02)
STRAY_FAR, STRAY_FAR_MARGIN = 4, 8.0  # a group more bins than this from the largest (16 times its values) clears
# this many more: at 3, one column in 1,000 (ages 18-70 at epsilon 0.05) got a range to 2^34 or beyond, or below zero
DATE_ORIGIN = 946_684_800.0  # 2000-01-01 in seconds from 1970: dates of 2012-2015 had a private range of
# 1987-2038 (from 1970, every date of 2004-2038 lies in one power of two of seconds), now of 2004-2017
TINY = 2.0 ** SMALLEST_POWER  # the magnitude bin of zero is [-TINY, TINY]
ZERO_BIN = LARGEST_POWER - SMALLEST_POWER + 1  # its index: the negative magnitudes come first


def fit_private_transform(frame, schema: list[ColumnSpec], config: TabularConfig, privacy: PrivacyConfig,
                          epsilon: float, delta: float, rng: np.random.Generator,
                          rows: float | None = None) -> TableTransform:
    """The transform's statistics at (epsilon, delta) in total, read one column at a time. `rows`: a noisy row
    count already paid for (the budget plan's), which spares columns with declared bounds a count of their own."""
    texts = [spec.name for spec in schema if spec.kind == "text"]
    if texts:
        raise GanforgeError(f"column {texts[0]!r} is free text, which differential privacy does not cover yet: "
                            f"drop it, or declare it --column-kind {texts[0]}=id (new identifiers, nothing learned)")
    modelled = modelled_columns(schema)
    epsilon_column = epsilon / max(1, modelled)
    delta_column = delta / max(1, modelled)
    columns, failures = [], []
    # a noise stream of its own for each column: how one column's statistics are drawn leaves every other
    # column's noise as it was (and the parent stream, which the marginals go on with)
    for spec, stream in zip(schema, rng.spawn(len(schema))):
        values = frame[spec.name]
        spec = dataclasses.replace(spec, null_rate=None)  # a stored rate would be an exact statistic
        try:
            columns.append(_fit_column(values, spec, config, privacy, epsilon_column, delta_column, stream, rows))
        except _TooFew as failure:
            failures.append(failure)
    if failures:  # every column that needs a hand, in one message
        raise GanforgeError(
            f"differential privacy: {len(frame)} rows are too few for statistics epsilon {epsilon:.3g} "
            f"({epsilon_column:.3g} for each of {modelled} columns): "
            + "; ".join(f"column {f.column!r}: {f.reason}" for f in failures)
            + "; declare " + " ".join(f.option for f in failures) + ", or raise --dp-epsilon")
    return TableTransform(columns)


class _TooFew(GanforgeError):
    """A column whose statistic the budget cannot release; collected so one message names them all."""

    def __init__(self, column: str, reason: str, option: str):
        super().__init__(f"column {column!r}: {reason}")
        self.column, self.reason, self.option = column, reason, option


def _fit_column(values: pd.Series, spec: ColumnSpec, config: TabularConfig, privacy: PrivacyConfig,
                epsilon: float, delta: float, rng: np.random.Generator, rows: float | None = None) -> ColumnTransform:
    if spec.kind == "id":
        return ColumnTransform(spec, None, {"start": 1})
    unit = False  # a category of consecutive large whole numbers (years) too thin for a release by threshold
    if spec.kind == "categorical":
        quantity = _as_quantity(values, spec, config, privacy, epsilon, delta, rows)
        unit = quantity is not spec and _consecutive(values)
        if unit:
            quantity = dataclasses.replace(quantity, reason=f"{quantity.reason} (consecutive: a bin for each "
                                                            "whole number)")
        spec = quantity
    elif spec.kind == "continuous":
        spec = _as_levels(values, spec, config, privacy, epsilon, delta, rows)
    if spec.kind in ("categorical", "boolean", "constant"):
        public = privacy.dp_public_categories.get(spec.name)
        public = None if public is None else _declared_levels(public, values, spec.name)
        if spec.kind == "boolean" and public is None and types.is_bool_dtype(values.dtype):
            public = [False, True]  # the type fixes the levels, as it fixes a category's whole numbers
        if spec.kind == "categorical" and public is None and _whole_numbers(values):
            levels, counts = (integer_levels if reads_as_codes(spec.name) else small_number_levels)(
                values, spec.name, epsilon, delta, rng)
        elif spec.kind == "categorical" and public is None and _flag_words(values):
            levels, counts = flag_word_levels(values, spec.name, epsilon, delta, rng)
        else:
            try:
                levels, counts = noisy_levels(values, spec.name, epsilon, delta, rng, public)
            except _TooFew as failure:
                if not mostly_distinct(values):
                    raise
                # names or codes: no count of theirs will ever clear the bar, and their levels cannot be listed
                raise _TooFew(spec.name, f"most of its values are distinct (names or codes?): {failure.reason}",
                              f"--column-kind {spec.name}=id") from None
        if spec.kind == "constant":
            if len(levels) != 1:
                raise _TooFew(spec.name, "its constant value is not frequent enough to release "
                              f"(needs about {_level_rows(epsilon, delta):,} rows)",
                              f"--dp-categories {spec.name}=VALUE")
            return ColumnTransform(spec, None, {"value": levels[0]})
        top = len(levels) if len(levels) <= config.max_categories else config.max_categories - 1
        return ColumnTransform(spec, CategoricalEncoder(levels, counts, top))
    numbers = datetime_seconds(values, spec) if spec.kind == "datetime" else values
    numbers = numbers.to_numpy(np.float64, na_value=np.nan)
    missing = int(values.isna().sum())
    # dates as seconds from DATE_ORIGIN, not from 1970: the magnitude bins near zero are the fine ones
    origin = DATE_ORIGIN if spec.kind == "datetime" else 0.0
    numbers = numbers[~np.isnan(numbers)] - origin
    public = privacy.dp_public_bounds.get(spec.name)
    if public is None:  # half the column's budget finds the range, the values in it and the missing ones (one
        # histogram: each row is missing or in one magnitude bin), half the shape
        low, high, total, zeros, noisy_missing = private_range(numbers, spec.name, epsilon / 2, rng, missing)
        count_epsilon = shape_epsilon = epsilon / 2
        low, high = with_far_tail(low, high, total, shape_epsilon)
    else:
        low, high, zeros = float(public[0]) - origin, float(public[1]) - origin, False
        if rows is None:  # with no range to find, a quarter counts the values present and missing (which sizes
            # the bins)
            present, noisy_missing = np.asarray([len(numbers), missing]) + rng.laplace(0, 4 / epsilon, 2)
            total, count_epsilon, shape_epsilon = max(1.0, present), epsilon / 4, epsilon * 3 / 4
        else:  # the table's noisy row count, already paid for, sizes the bins, and the missing values are one
            # more cell of the shape's partition (each row is missing or in one bin): the whole budget goes to the
            # shape (simulated, the tuning half's small tables: KS complement 0.785 -> 0.813)
            noisy_missing = missing + rng.laplace(0, 1 / epsilon)
            total = max(1.0, rows - max(noisy_missing, 0.0))
            count_epsilon = shape_epsilon = epsilon
    # whether values are ever missing: a column with none is called nullable with chance EMPTY_BIN_RISK / 2
    nullable = noisy_missing > math.log(1 / EMPTY_BIN_RISK) / count_epsilon
    edges, masses = noisy_histogram(numbers, low, high, total, shape_epsilon, rng, zeros, public is not None,
                                    whole=spec.kind == "integer", unit=unit and public is None)
    edges, low, high = edges + origin, low + origin, high + origin
    decimals = 0 if spec.kind == "integer" else (6 if spec.kind == "datetime" else None)
    if config.numeric_encoding == "quantile":
        cumulative = np.concatenate([[0.0], np.cumsum(masses)])
        encoder = QuantileEncoder(edges.tolist(), (cumulative / cumulative[-1]).tolist(), False, decimals,
                                  bool(nullable))
    else:
        draws = _draws(edges, masses, min(config.mixture_sample_size, DRAWS), rng)
        encoder = ContinuousEncoder.fit(draws, config.max_modes, config.mixture_sample_size, rng, decimals=decimals)
        encoder.minimum, encoder.maximum, encoder.support, encoder.support_counts = low, high, None, None
        encoder.nullable = bool(nullable)
    extra = {}
    if spec.kind == "datetime":
        daily = spec.datetime_format is not None and not any(p in spec.datetime_format for p in ("%H", "%M", "%S"))
        extra = {"step_seconds": SECONDS_PER_DAY if daily else None}
    if nullable:  # what independent columns take for the missing-value indicator (post-processing)
        extra["missing_share"] = round(float(noisy_missing / (noisy_missing + total)), 4)
    return ColumnTransform(spec, encoder, extra)


def noisy_levels(values: pd.Series, name: str, epsilon: float, delta: float, rng: np.random.Generator,
                 public: list | None = None) -> tuple[list, list[int]]:
    """Levels and their noisy counts, most frequent first. Without `public`, only levels whose noisy count
    clears the Laplace threshold are released: (epsilon, delta)-DP for a histogram with unknown keys."""
    frequencies = values.value_counts(dropna=False)
    # a dict, not an index: a float index would turn the missing level (None) back into NaN
    observed = {to_python(v): int(c) for v, c in zip(frequencies.index, frequencies.to_numpy())}
    if public is not None:
        levels = [to_python(v) for v in public]
        undeclared_missing = None not in levels and (values.isna().any() or not types.is_integer_dtype(values.dtype))
        levels = levels + ([None] if undeclared_missing else [])
        noisy = np.asarray([observed.get(level, 0) for level in levels], dtype=float)
        noisy = noisy + rng.laplace(0, 1 / epsilon, len(levels))
        keep = np.ones(len(levels), dtype=bool)
        if undeclared_missing:  # missing values are not a declared level: released as any unknown key would be,
            # or a column with none got a noise scale's rows of made-up missing values (150 rows: 25 in one run)
            keep[-1] = noisy[-1] >= _release_bar(epsilon, delta)
        # each declared level's count clipped at zero and raised by one noise scale: the shares shrink toward
        # even as far as the noise blurs them (simulated on the tuning half's categories, every level declared,
        # epsilon 0.5-3: total variation complement 0.887 -> 0.910; a count of at least one row alone, 0.887)
        noisy = np.maximum(noisy, 0.0) + 1 / epsilon
    else:
        levels = list(observed)
        noisy = np.asarray(list(observed.values()), dtype=float) + rng.laplace(0, 1 / epsilon, len(levels))
        keep = noisy >= _release_bar(epsilon, delta)
        if not keep.any():
            raise _TooFew(name, f"no value is held by the {_level_rows(epsilon, delta):,} rows a release needs",
                          f"--dp-categories {name}=A,B,...")
    order = np.argsort(-noisy[keep], kind="stable")
    kept = [level for level, k in zip(levels, keep) if k]
    counts = np.maximum(np.round(noisy[keep]), 1).astype(int)
    return [kept[i] for i in order], [int(counts[i]) for i in order]


def _as_quantity(values: pd.Series, spec: ColumnSpec, config: TabularConfig, privacy: PrivacyConfig,
                 epsilon: float, delta: float, rows: float | None) -> ColumnSpec:
    """An inferred category of three or more large whole numbers (town sizes 3,750-250,000, years 1980-1987)
    whose levels would hold fewer rows each, on average, than a release by threshold needs: released as a
    number (its private range and shape) rather than cut to the one or two levels that clear the bar. `chile`'s
    `population` at epsilon 0.5 kept only 250,000 and came out constant. The rows are the budget plan's noisy
    count, so the choice is post-processing; without one, or where the kind or the levels were declared, or
    the numbers are codes by name or lie among the candidates 0-15 that need no threshold, the column stays a
    category. (Tuning half, `males`' years paired on the same noise: as a number at epsilon 1, where a level
    holds 1.7 times the bar, quality 0.845 -> 0.788; at 0.5, 0.83 times, 0.69 where the category was refused.)"""
    if (rows is None or spec.name in config.column_kinds or spec.name in privacy.dp_public_categories
            or reads_as_codes(spec.name) or not _whole_numbers(values)):
        return spec
    present = values.dropna()
    distinct = present.nunique()
    bar = _release_bar(epsilon, delta)
    if distinct < 3 or present.between(0, SMALL_NUMBERS - 1).any() or rows / distinct >= bar:
        return spec
    return dataclasses.replace(spec, kind="integer", reason=(
        f"{spec.reason}; under differential privacy released as a number: about {rows / distinct:,.0f} rows a "
        f"level, fewer than the {bar:,.0f} a level's release needs; --column-kind {spec.name}=categorical keeps "
        "its levels"))


def _as_levels(values: pd.Series, spec: ColumnSpec, config: TabularConfig, privacy: PrivacyConfig,
               epsilon: float, delta: float, rows: float | None) -> ColumnSpec:
    """An inferred number with fractions and few distinct values (LEVEL_NUMBERS at most: income brackets coded
    0.15, 0.25, 0.55, age groups in hundredths, years of schooling in halves), whose values hold LEVEL_ROWS times
    the rows a release by threshold needs on average: released as levels, each value's noisy count, rather than a
    histogram that spreads every value over its bin (`DoctorAUS`' 14 income values came out 0.77 from the truth,
    KS complement, at epsilon 3; 0.96 as levels). The rows are the budget plan's noisy count, so the choice is
    post-processing; a declared kind or range keeps the number."""
    if (rows is None or spec.name in config.column_kinds or spec.name in privacy.dp_public_bounds):
        return spec
    distinct = values.nunique()
    bar = _release_bar(epsilon, delta)
    if distinct > LEVEL_NUMBERS or rows / distinct < LEVEL_ROWS * bar:
        return spec
    return dataclasses.replace(spec, kind="categorical", reason=(
        f"{spec.reason}; under differential privacy released as its {distinct} values: about {rows / distinct:,.0f} "
        f"rows each, where a value's release needs {bar:,.0f}; --column-kind {spec.name}=continuous keeps a number"))


def _consecutive(values: pd.Series) -> bool:
    """Whether a column's whole numbers are every one from its lowest to its highest (years 1980-1987): like
    its kind, a property read from the values outside the guarantee."""
    present = values.dropna()
    return len(present) > 0 and present.max() - present.min() + 1 == present.nunique()


def _declared_levels(levels: list, values: pd.Series, name: str) -> list:
    """Declared levels in the column's own type: the command line hands them over as text, and the codes 1,2,3
    of a column of numbers would otherwise match none of its values."""
    if types.is_bool_dtype(values.dtype):
        truth = {"true": True, "false": False, "1": True, "0": False}
        return [truth.get(level.lower(), level) if isinstance(level, str) else level for level in levels]
    if not types.is_numeric_dtype(values.dtype):
        return list(levels)
    numbers = []
    for level in levels:
        try:
            number = float(level)
        except (TypeError, ValueError):
            raise GanforgeError(f"--dp-categories {name}: {level!r} is not a number, and the column holds "
                                "numbers") from None
        numbers.append(int(number) if number.is_integer() else number)
    return numbers


def _flag_words(values: pd.Series) -> bool:
    """Whether a text category is a flag: every value present one of FLAG_WORDS (a property of the column, like
    its kind; a colour F beside D, E and G is not one, and its partner T is never made up)."""
    present = values.dropna()
    return len(present) > 0 and bool(present.isin(FLAG_WORDS).all())


def _whole_numbers(values: pd.Series) -> bool:
    """Whether a column holds integer codes (a property of its type, like its kind, not a statistic)."""
    present = values.dropna()
    return (types.is_numeric_dtype(values.dtype) and not types.is_bool_dtype(values.dtype) and len(present) > 0
            and bool(np.all(np.mod(present.to_numpy(np.float64), 1) == 0)))


def integer_levels(values: pd.Series, name: str, epsilon: float, delta: float,
                   rng: np.random.Generator) -> tuple[list, list[int]]:
    """Levels of an integer-coded category (states 1-56, say) without a release threshold: half the budget
    finds a range of the codes, and every whole number in it is a candidate level, known before any count is
    read, so each candidate's noisy count can be released as it is (and empty ones mostly fall below a small
    cut, except inside a dense run of codes, or where none clears the cut: there every candidate with a
    positive noisy count is kept, so 79 school ids held by 25-95 rows each come out blurred rather than cut to
    the 30 that clear it). Where the range spans more than MAX_CODES numbers, the other half of the budget goes
    to the thresholded release."""
    codes = values.dropna().to_numpy(np.float64)
    try:
        low, high = _far_bin(*private_range(codes, name, epsilon / 2, rng, grow=False)[:2])  # a bin each side
    except _TooFew as failure:  # the range only finds the levels: declared levels are what the column needs
        raise _TooFew(name, failure.reason, f"--dp-categories {name}=A,B,...") from None
    if not 0 < math.floor(high) - math.ceil(low) + 1 <= MAX_CODES:
        return noisy_levels(values, name, epsilon / 2, delta, rng)
    candidates = np.arange(math.ceil(low), math.floor(high) + 1)
    noisy = np.bincount(np.clip(codes - candidates[0], 0, len(candidates) - 1).astype(np.int64),
                        minlength=len(candidates)).astype(float)
    missing = float(values.isna().sum())
    noisy = np.append(noisy, missing) + rng.laplace(0, 2 / epsilon, len(candidates) + 1)
    cut = 2 / epsilon * math.log(len(noisy) / EMPTY_BIN_RISK)  # any empty candidate passes: chance < 2.5%
    keep = np.flatnonzero(noisy > cut)
    # where the codes lie: the runs of neighbouring codes whose summed noisy counts clear their bar (years
    # 1980-1987 inside the range 1024-2048). In a sparse run (most candidates empty, as those years) a code
    # needs the cut for that many candidates; in a dense one (the median candidate holds more than a noise
    # scale's rows), and wherever none clears the cut, the run is released blurred (`_blurred_run`: every code
    # up to where the codes stop, with its count shrunk towards the run's mean) rather than cut (star's 79
    # school ids, 25-95 rows each, at epsilon 3 kept the 30 that cleared the cut, and the column scored 0.37
    # where epsilon 1, blurred, scored 0.75). Post-processing of the same counts throughout.
    span = np.flatnonzero(_passing(noisy[:-1], GROUPINGS, epsilon / 2, shifted=True))
    blurred = False
    if len(span):
        inside = np.arange(span[0], span[-1] + 1)
        chosen = inside[noisy[inside] > 2 / epsilon * math.log(len(inside) / EMPTY_BIN_RISK)]
        dense = np.median(noisy[inside]) > 2 / epsilon
        keep = keep if dense or not len(chosen) else np.union1d(keep, chosen)
        blurred = dense or not len(chosen) or _holds_little(noisy, np.intersect1d(keep, inside), inside)
    elif len(candidates) <= MAX_BLURRED_CODES and _holds_little(noisy, keep, np.arange(len(candidates))):
        blurred = True
    if blurred:  # post-processing of the same counts
        first, last, counts = _blurred_run(noisy[:-1], 2 / epsilon)
        run = np.arange(first, last + 1)
        noisy[run] = np.where(np.isin(run, keep), noisy[run], counts)  # codes that clear the cut, at their counts
        keep = np.union1d(keep, run)
    if len(keep) == 0:  # over a wide range a blurred release would be mostly made-up codes
        raise _TooFew(name, f"no code is held by the {math.ceil(cut):,} rows a release needs",
                      f"--dp-categories {name}=A,B,...")
    levels = [int(candidates[i]) if i < len(candidates) else None for i in keep]
    order = np.argsort(-noisy[keep], kind="stable")
    return [levels[i] for i in order], [int(max(round(noisy[keep][i]), 1)) for i in order]


def small_number_levels(values: pd.Series, name: str, epsilon: float, delta: float,
                        rng: np.random.Generator) -> tuple[list, list[int]]:
    """Levels of a whole-number category (flags 0/1, counts of visits, classes 1-9) where the whole numbers 0 to
    SMALL_NUMBERS - 1 are the candidates, known before any row is read: each one's noisy count is released
    where it clears a cut for that many candidates (an empty one passes alone with chance under LONE_RISK),
    about half the rows a level of unknown key needs, or half that beside a kept number. Which to keep is
    post-processing: every candidate's count is epsilon-DP. The other values and the missing ones are released
    as unknown keys (`noisy_levels`). A row is in one part or the other by its own value, so each part spends
    the whole epsilon (parallel composition)."""
    numbers = values.to_numpy(np.float64, na_value=np.nan)
    small = (numbers >= 0) & (numbers < SMALL_NUMBERS)
    noisy = np.bincount(numbers[small].astype(np.int64), minlength=SMALL_NUMBERS) + rng.laplace(
        0, 1 / epsilon, SMALL_NUMBERS)
    cut = math.log(SMALL_NUMBERS / LONE_RISK) / epsilon
    kept = noisy > cut
    while True:  # a neighbour of a kept number needs less: whole-number levels come in runs (0-1, 1-5)
        beside = ~kept & (np.convolve(kept, [1, 1, 1], "same") > 0) & (noisy > math.log(2 / EMPTY_BIN_RISK) / epsilon)
        if not beside.any():
            break
        kept |= beside
    keep = np.flatnonzero(kept)
    levels, counts = [int(i) for i in keep], [int(max(round(noisy[i]), 1)) for i in keep]
    return _with_the_rest(levels, counts, values[~small], name, epsilon, delta, rng, cut)


def flag_word_levels(values: pd.Series, name: str, epsilon: float, delta: float,
                     rng: np.random.Generator) -> tuple[list, list[int]]:
    """Levels of a text category where the words of a yes/no flag (FLAG_WORDS, in the spellings tables use) are
    the candidates, known before any row is read: each one's noisy count is released where it clears a cut for
    that many candidates (an empty one passes with chance under LONE_RISK), about half the rows a level of
    unknown key needs, or a third beside its kept partner (yes beside no), so a flag held by a third of 382
    rows is not refused where the threshold wants 252. Missing values are released as an unknown key; a row is
    in one part or the other by its own value, so each part spends the whole epsilon (parallel composition)."""
    words = np.asarray(FLAG_WORDS, dtype=object)
    flagged = values.isin(FLAG_WORDS).to_numpy()
    observed = values[flagged].value_counts()
    noisy = observed.reindex(words, fill_value=0).to_numpy(np.float64) + rng.laplace(0, 1 / epsilon, len(words))
    cut = math.log(len(words) / LONE_RISK) / epsilon
    kept = noisy > cut
    partner = np.arange(len(words)) ^ 1  # a flag's other word (no beside yes) needs less, as a number beside a kept one
    kept |= kept[partner] & (noisy > math.log(1 / LONE_RISK) / epsilon)  # made up one time in a hundred
    keep = np.flatnonzero(kept)
    levels, counts = [str(words[i]) for i in keep], [int(max(round(noisy[i]), 1)) for i in keep]
    return _with_the_rest(levels, counts, values[~flagged], name, epsilon, delta, rng, cut)


def _with_the_rest(levels: list, counts: list[int], rest: pd.Series, name: str, epsilon: float, delta: float,
                   rng: np.random.Generator, cut: float) -> tuple[list, list[int]]:
    """Candidate levels released beside the column's other values (and missing ones) as unknown keys, most
    frequent first; refused only where neither part releases anything."""
    try:
        other_levels, other_counts = noisy_levels(rest, name, epsilon, delta, rng)
    except _TooFew:
        if not levels:
            raise _TooFew(name, f"no value is held by the {math.ceil(cut):,} rows a release needs",
                          f"--dp-categories {name}=A,B,...") from None
        other_levels, other_counts = [], []
    order = np.argsort(-np.asarray(counts + other_counts), kind="stable")
    return [(levels + other_levels)[i] for i in order], [(counts + other_counts)[i] for i in order]


def _blurred_run(noisy: np.ndarray, scale: float) -> tuple[int, int, np.ndarray]:
    """Where a run of codes released blurred starts and stops among the candidates' noisy counts (Laplace of
    `scale`), and each code's count inside: post-processing. Keeping every candidate with a positive noisy
    count, as before, made up about half the codes past the run's real end, with half a noise scale of rows
    each, and left each real code its noise: `cigar`'s 46 states of 21 rows each, codes 1-51 in a range to 128,
    came out 0.35-0.60 from the truth in total variation at epsilon 1. The run ends where the sum of the counts
    less a bar peaks, seen from either side (each count floored at three noise scales below zero, so one
    draw from the noise's long tail does not end it): the bar is half the mean count, at most a noise scale
    (rare codes at the ends of a skewed run stay), the mean taken over every candidate and then again over the
    run found. Inside, each count is shrunk towards the run's mean by the share of their spread that is the
    noise's (empirical Bayes, positive part): a balanced panel's states come out even, codes of unequal sizes
    keep their sizes."""
    floored = np.maximum(noisy, -3 * scale)
    first, last, run = 0, len(noisy) - 1, noisy
    for _ in range(2):
        bar = min(max(float(run.mean()), 0.0) / 2, scale)
        last = int(np.argmax(np.cumsum(floored - bar)))
        first = last - int(np.argmax(np.cumsum((floored[:last + 1] - bar)[::-1])))
        run = noisy[first:last + 1]
    mean, spread = float(run.mean()), float(run.var())
    factor = max(0.0, 1 - 2 * scale ** 2 / spread) if spread > 0 else 0.0
    return first, last, np.maximum(mean + factor * (run - mean), 1.0)


def _holds_little(noisy: np.ndarray, kept: np.ndarray, among: np.ndarray) -> bool:
    """Whether the codes that cleared the cut hold too little of the noisy rows `among` their candidates to
    stand for them, so that those are better released blurred: 51 state codes of 3,413 rows at a column's
    epsilon of 0.037 came out as the one code 93 in 8 draws of 40 (1 in 40 blurred where they hold less than
    CODES_HELD; their shares 0.64 -> 0.58 from the truth in total variation, and 0.36 -> 0.20 at 0.11)."""
    return np.clip(noisy[kept], 0, None).sum() < CODES_HELD * np.clip(noisy[among], 0, None).sum()


def _release_bar(epsilon: float, delta: float) -> float:
    """The noisy count a key no one declared must reach to be released: Laplace noise of scale 1/epsilon
    passes it for an absent key with probability at most delta."""
    return 1 + math.log(1 / (2 * delta)) / epsilon


def _level_rows(epsilon: float, delta: float) -> int:
    """Rows a level needs for its noisy count to clear the release threshold (on average)."""
    return math.ceil(_release_bar(epsilon, delta))


def _magnitude_bins() -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edges of the range bins, in value order: negative magnitudes, zero, positive."""
    powers = np.arange(SMALLEST_POWER, LARGEST_POWER + 1, dtype=float)
    negative = (-(2.0 ** (powers[::-1] + 1)), -(2.0 ** powers[::-1]))
    zero = (np.asarray([-TINY]), np.asarray([TINY]))
    positive = (2.0 ** powers, 2.0 ** (powers + 1))
    return (np.concatenate([negative[0], zero[0], positive[0]]), np.concatenate([negative[1], zero[1], positive[1]]))


class PrivateRange(NamedTuple):
    """A released range: `total` is a noisy count of the values inside, `zeros` whether the magnitude bin of
    zero cleared the bar alone (a column with many values at exactly zero: rainfall, a count, a share)."""

    low: float
    high: float
    total: float
    zeros: bool
    missing: float  # a noisy count of the `missing` values the range was told of


def private_range(numbers: np.ndarray, name: str, epsilon: float, rng: np.random.Generator,
                  missing: int = 0, grow: bool = True) -> PrivateRange:
    """[low, high] covering the values, and a noisy count of the values inside, from Laplace-noised counts over
    fixed magnitude bins (epsilon-DP; the count is post-processing of the same counts): the outermost bins,
    or pairs of bins, whose noisy sum clears a threshold that empty ones almost never reach. Where none
    does, runs of 4, 8, 16, 32 bins, so a narrow column on a small table gets a coarser range rather than
    none; where zero's bin alone does, the same runs of the other bins (also half a run later, against the bar
    for twice the runs), so the values beside a spike of zeros are not all cut. With `grow`, bins beside the
    range join it on a lower bar (`_with_neighbours`); not for a range of codes, where a bin joined by noise
    alone doubles the candidates, and with them the cut each must clear (`fatality`'s 48 states were refused
    in one draw of five at epsilon 3)."""
    lower, upper = _magnitude_bins()
    clipped = np.clip(numbers, lower[0], upper[-1])
    bins = np.clip(np.searchsorted(upper, clipped, side="right"), 0, len(upper) - 1)
    counts = np.append(np.bincount(bins, minlength=len(upper)), missing).astype(float)  # missing: a cell too
    noisy = counts + rng.laplace(0, 1 / epsilon, len(counts))
    noisy, noisy_missing = noisy[:-1], float(noisy[-1])
    sizes = FINE_GROUPINGS  # every bin, and every pair of bins, that clears its bar (see skip_explained)
    covered = _passing(noisy, sizes, epsilon, skip_explained=True)
    if not np.delete(covered, ZERO_BIN).any():  # none does, or zero's bin alone: coarser runs of the other
        # bins, the first size that passes. Beside 569 dry days, 454 rainy ones spread over eight magnitudes
        # (16-90 rows each) were all cut in 78% of draws at a column's epsilon of 0.11; now in 8%, and with
        # runs also half a run later, days over 16 mm are inside the range in 67% of draws (4% without)
        beside_zeros = bool(covered[ZERO_BIN])
        others = noisy.copy()
        others[ZERO_BIN] = 0.0 if beside_zeros else others[ZERO_BIN]
        for size in COARSE_GROUPINGS:
            if (coarse := _passing(others, (size,), epsilon, shifted=beside_zeros)).any():
                sizes, covered = (size,), covered | coarse
                break
    if covered.any():
        first, last = _with_mirror(noisy, *_without_strays(noisy, covered, sizes, epsilon), epsilon)
        total = float(max(noisy[first:last + 1].sum(), 1.0))
        zeros = bool(first <= ZERO_BIN <= last and noisy[ZERO_BIN] > _group_threshold(1, len(noisy)) / epsilon)
        if zeros:  # the magnitudes just beside zero's (below 2^-28) join a spike of zeros as its pair partners
            # by noise alone (a noisy count over two noise scales): values of 1e-9 beside many exact zeros
            first = ZERO_BIN if ZERO_BIN - 2 <= first < ZERO_BIN else first
            last = ZERO_BIN if ZERO_BIN < last <= ZERO_BIN + 2 else last
        # one more bin on the side toward zero, where the tails rarely clear the threshold and the bin is
        # narrow; on the far side it would double the range and leave the values in a few coarse shape bins
        # (tuning half, the numbers' released distribution functions against their rows, KS complement:
        # 0.695 with a bin each side, 0.749 with none, 0.769 toward zero only)
        if lower[first] > 0:
            first -= 1
        if upper[last] < 0:
            last += 1
        if grow and (wider := _with_neighbours(noisy, first, last, epsilon)) != (first, last):
            first, last = wider
            total = float(max(noisy[first:last + 1].sum(), 1.0))
        return PrivateRange(float(lower[first]), float(upper[last]), total, zeros, noisy_missing)
    needed = math.ceil(_group_threshold(1, len(noisy)) / epsilon)
    raise _TooFew(name, f"its range needs about {needed:,} values within one power of two",
                  f"--dp-bounds {name}=LOW:HIGH")


def _with_neighbours(noisy: np.ndarray, first: int, last: int, epsilon: float) -> tuple[int, int]:
    """The range grown a magnitude bin at a time while the next bin out holds NEIGHBOUR_BAR noise scales of rows
    and, away from zero, FAR_NEIGHBOUR_SHARE of the range's values (never into zero's bin). The bar every bin
    and pair of bins had to clear alone is set for a hundred of them, about nine noise scales; a bin beside
    values already found needs far less to be believed, and where a column's values cross a power of two the
    part past it was clipped to the edge: `cigar`'s prices above 128 cents, 13% of its rows, at epsilon 1;
    `chile`'s town sizes under 65,536, a third of its rows, at 0.5. Post-processing of the same counts."""
    bar = NEIGHBOUR_BAR / epsilon

    def joins(index: int) -> bool:
        far = index < min(first, ZERO_BIN) or index > max(last, ZERO_BIN)  # away from zero
        share = FAR_NEIGHBOUR_SHARE * noisy[first:last + 1].sum() if far else 0.0
        return index != ZERO_BIN and noisy[index] > max(bar, share)

    while first > 0 and joins(first - 1):
        first -= 1
    while last < len(noisy) - 1 and joins(last + 1):
        last += 1
    return first, last


def with_far_tail(low: float, high: float, total: float, shape_epsilon: float) -> tuple[float, float]:
    """A private range one magnitude bin wider on the side away from zero, where its shape histogram will
    have bins enough (FAR_TAIL_BINS) that doubling the range still leaves the values many of them: there the
    tails that never cleared the range's threshold are kept, and clipping them would cost more. With fewer
    bins the wider range would leave the values in a few coarse ones. Post-processing."""
    return (low, high) if shape_bins(total, shape_epsilon) < FAR_TAIL_BINS else _far_bin(low, high)


def _far_bin(low: float, high: float) -> tuple[float, float]:
    """A private range with the next magnitude bin away from zero: a power of two, so twice the edge (zero's
    own bin has none)."""
    return (2 * low if low < -TINY else low), (2 * high if high > TINY else high)


def _passing(noisy: np.ndarray, sizes: tuple[int, ...], epsilon: float, shifted: bool = False,
             margin: float = 0.0, skip_explained: bool = False) -> np.ndarray:
    """Which bins lie in a run (of each size in `sizes`, smallest first) whose noisy sum clears its threshold,
    plus `margin` noise scales. With `shifted`, runs also start half a run later (twice the runs, against a
    bar for twice as many), so values that straddle a run boundary (years 1982-1988 around code 1984 = 1024 +
    960) are found together. With `skip_explained`, a run holding a bin that passed in a smaller run may pass
    because of that bin alone, so its other bins join only where their own noisy counts clear NOISE_FLOOR
    noise scales (test scores of 320-626 had their range stretched to 4,096 by the pair of [512, 1024) and an
    empty [1024, 2048); school ids 1-79 still need [8, 16), which holds 280 rows but does not pass alone)."""
    covered = np.zeros(len(noisy), dtype=bool)
    for size in sorted(sizes):
        before = covered.copy()
        for offset in (0, size // 2) if shifted and size > 1 else (0,):
            starts = np.arange(offset, len(noisy), size)
            if len(starts) == 0:
                continue
            sums = np.add.reduceat(noisy, starts)
            bar = _group_threshold(size, math.ceil(len(noisy) / size) * (2 if shifted and size > 1 else 1))
            for start in starts[sums > (bar + margin) / epsilon]:
                run = np.arange(start, min(start + size, len(noisy)))
                if skip_explained and before[run].any():  # its other bins join only where their counts stand out
                    run = run[before[run] | (noisy[run] > NOISE_FLOOR / epsilon)]
                covered[run] = True
    return covered


def _without_strays(noisy: np.ndarray, covered: np.ndarray, sizes: tuple[int, ...],
                    epsilon: float) -> tuple[int, int]:
    """First and last bin of the range: the passing bins around the largest group of them (groups apart by
    more than STRAY_GAP bins), and the other groups only where they clear the bar by STRAY_MARGIN noise
    scales more, STRAY_FAR_MARGIN more where they lie beyond STRAY_FAR bins. An empty bin passes by noise
    alone with chance EMPTY_BIN_RISK, and one far out (2^50 beside prices in the thousands) would spread the
    column over a range where all its values share one shape bin; a group of real values clears the higher
    bar too, unless it is thin. Post-processing."""
    near = _passing(noisy, sizes, epsilon, margin=STRAY_MARGIN, skip_explained=True)
    far = _passing(noisy, sizes, epsilon, margin=STRAY_FAR_MARGIN, skip_explained=True)
    kept = covered.copy()
    main, strays = _groups(noisy, covered, apart=ZERO_BIN)
    for group in strays:
        distance = group[0] - main[-1] if group[0] > main[-1] else main[0] - group[-1]
        kept[group] &= (far if distance > STRAY_FAR else near)[group].any()
    bins = np.flatnonzero(kept)
    return int(bins[0]), int(bins[-1])


def _with_mirror(noisy: np.ndarray, first: int, last: int, epsilon: float) -> tuple[int, int]:
    """A range found on one side of zero takes the same magnitudes on the other side too where their noisy
    counts, summed, clear the bar of that one test, far below the bar any of the many bins and runs had to
    clear (a standardised scale of 1,323 rows at a column's epsilon of 0.04 kept only its positive half, and
    its synthetic values all came out above 0.25). Post-processing."""
    if first <= ZERO_BIN <= last:
        return first, last
    mirror_first, mirror_last = 2 * ZERO_BIN - last, 2 * ZERO_BIN - first
    if noisy[mirror_first:mirror_last + 1].sum() > _mirror_threshold(last - first + 1) / epsilon:
        return min(first, mirror_first), max(last, mirror_last)
    return first, last


@functools.cache
def _mirror_threshold(size: int) -> float:
    """The level, in units of 1/epsilon, that a sum of `size` unit Laplace draws exceeds with chance
    MIRROR_RISK; drawn once from a fixed seed."""
    rng = np.random.default_rng(size)
    sums = np.concatenate([rng.laplace(0, 1, (20_000, size)).sum(axis=1) for _ in range(10)])  # in chunks:
    return float(np.quantile(sums, 1 - MIRROR_RISK))  # a mirror may span a hundred bins


def _groups(noisy: np.ndarray, marked: np.ndarray, apart: int | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """The group of marked bins holding the most noisy mass (groups split where more than STRAY_GAP unmarked
    bins lie between), and the others, one index array per group. The bin `apart` (zero's, in a range) is
    neither a stray nor the main group: values at exactly zero are no far-out value that would stretch the
    range, and beside a spike of them (56% of days without rain) the rest of the values were cut as strays."""
    bins = np.flatnonzero(marked)
    bins = bins[bins != apart]
    if len(bins) == 0:
        return bins, []
    groups = np.split(bins, np.flatnonzero(np.diff(bins) > STRAY_GAP + 1) + 1)
    main = max(groups, key=lambda group: noisy[group].sum())
    return main, [group for group in groups if group is not main]


@functools.cache
def _group_threshold(size: int, groups: int) -> float:
    """The level, in units of 1/epsilon, that the largest of `groups` sums of `size` unit Laplace draws
    exceeds with chance EMPTY_BIN_RISK (a union bound over the groupings tried). It depends on the bins
    alone, never on the data; drawn once from a fixed seed."""
    draws = np.random.default_rng(size).laplace(0, 1, (4000, groups, size)).sum(axis=2).max(axis=1)
    return float(np.quantile(draws, 1 - EMPTY_BIN_RISK / len(GROUPINGS)))


def shape_bins(total: float, epsilon: float) -> int:
    """How many even bins a shape histogram of `total` values at `epsilon` gets: each expects about
    COUNTS_PER_NOISE noise scales of rows."""
    return int(np.clip(total * epsilon / COUNTS_PER_NOISE, MIN_SHAPE_BINS, SHAPE_BINS))


def noisy_histogram(numbers: np.ndarray, low: float, high: float, total: float, epsilon: float,
                    rng: np.random.Generator, zeros: bool = False,
                    declared: bool = False, whole: bool = False, unit: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges over [low, high] and each bin's share of the values clipped into it, from Laplace-noised
    counts (epsilon-DP; the rest is post-processing). Fewer bins where the noise would swamp them: with a
    noisy `total` (already paid for), each bin expects about COUNTS_PER_NOISE noise scales of rows. Where
    that allows PLACING_BINS or more, a coarse histogram at COARSE_SHARE of epsilon first says where the
    values are, and half the bins go there (`_placed_edges`): over even bins alone, years 1980-1987 in a
    range of 512-2,048 fell into one bin. Every bin keeps a sliver of mass, so the distribution function is
    strictly increasing. With `zeros` (the range found many values at exactly zero), those are counted apart,
    in a bin of no width at zero: spread over the even bin around zero, 56% of days without rain came out as
    rainfall between 0 and 9 mm. `declared`: [low, high] are bounds the user declared, not a private range.
    `whole`: the values are whole numbers (an integer column). `unit`: they are a few consecutive whole numbers
    (`_as_quantity`'s years), so every whole number of the range gets a bin, however many: the floor and the
    stray test of `_kept_counts` find the run among empty bins (`EmplUK`'s nine years, 115 rows each, over a
    range of 512-2,048 in the 11 bins the noise allowed fell into one bin of 140 years)."""
    if zeros and -TINY <= low and high <= TINY:  # the range is zero's magnitude bin: exactly zero, not 1e-9s
        return np.zeros(2), np.ones(1)
    placing = shape_bins(total, epsilon) >= PLACING_BINS  # with fewer, the coarse histogram would find
    # nothing (a run of all the values falls under its bar) and its share would cost the shape
    # whole numbers (`whole`) that the noise allows a bin each get one, edges halfway between them: bins placed
    # by mass cut between whole numbers, and a value drawn inside such a bin rounds to either side of its cut
    # (`males`' years of experience, 1-18 at a shape epsilon of 0.022, came out as 3-11)
    between = math.floor(high) - math.ceil(low) + 1
    one_each = whole and not zeros and 2 <= between <= (MAX_CODES if unit else shape_bins(total, epsilon))
    # (bins of one whole number over a span of spaced levels, ages 20-65 in steps of 5, left each level alone
    # among empty bins, and the stray test took levels under ten noise scales: so consecutive ones only; and not
    # over declared bounds, where the noise is only clipped at zero and every empty bin would keep some)
    placing = placing and not one_each
    if placing:
        coarse_epsilon, epsilon = epsilon * COARSE_SHARE, epsilon * (1 - COARSE_SHARE)
    at_zero = np.abs(numbers) <= TINY if zeros else None  # a range with zeros holds zero's bin
    if at_zero is not None:  # a partition of the rows with the fine bins: the same epsilon covers both
        zero_count = at_zero.sum() + rng.laplace(0, 1 / epsilon)
        numbers = numbers[~at_zero]
    numbers = np.clip(numbers, low, high)
    if placing:
        size = COARSE_LEVELS[0]  # coarse bins in a run of the coarsest level: runs as many as its noise allows
        nodes = min(shape_bins(total, coarse_epsilon), SHAPE_BINS // size)
        coarse_edges = np.linspace(low, high, nodes * size + 1)
        coarse = np.histogram(numbers, bins=coarse_edges)[0] + rng.laplace(0, 1 / coarse_epsilon, nodes * size)
        masses, solid = _placement(coarse, total, coarse_epsilon)
        edges = _placed_edges(coarse_edges, masses, solid, shape_bins(total, epsilon))
    elif one_each:
        edges = np.clip(np.arange(math.ceil(low) - 0.5, math.floor(high) + 1.0), low, high)
    else:
        edges = _few_edges(low, high, shape_bins(total, epsilon))
    raw = np.histogram(numbers, bins=edges)[0] + rng.laplace(0, 1 / epsilon, len(edges) - 1)
    # over declared bounds (the values' own span, no empty stretches) in fewer than PLACING_BINS bins, each
    # holding few noise scales of rows, the floor cut real bins more often than made-up ones (simulated, the
    # tuning half's small tables: KS complement 0.813 -> 0.839): there the noise is only clipped at zero. A
    # private range is made of powers of two, its empty stretches are likely, and the floor stays
    noisy = np.maximum(raw, 0.0) if declared and not placing else _kept_counts(raw, epsilon)
    masses = noisy + SLIVER * max(noisy.sum(), 1.0) / len(noisy)
    if at_zero is not None:  # zero's share against the other bins' noisy counts as drawn: the floor above takes
        # rows from thin bins, and against what it leaves zeros got 0.79 of a column where they are 0.56 (the
        # range's noisy total sums the noise of every magnitude bin between, 28 of them from 2^-30 to 0.25)
        share = float(np.clip(zero_count / max(zero_count + raw.sum(), 1.0), 1e-6, 0.99))
        edges, masses = _with_zero_atom(edges, masses / masses.sum() * (1 - share), share)
    return edges, masses / masses.sum()


def _few_edges(low: float, high: float, count: int) -> np.ndarray:
    """Edges of a histogram of few bins: even, or where the range starts at zero or above and its top is
    LOG_SPAN times its bottom or more, even in log(value + shift) (shift high / LOG_SPAN from zero, none from
    above): amounts, counts and sizes are skewed, and 4 even bins put 88% of school enrolments of 81-27,176
    into one bin of 81-6,855 (KS complement 0.60). Simulated on the tuning half's numbers at epsilon 0.5-3:
    0.839 -> 0.871 with declared bounds on the three small tables, 0.887 -> 0.897 with private ranges on the
    three larger ones (even 4-15 bins over a percentage of 0-100 lost nothing: 0.90 -> 0.90)."""
    if high > 0 and low >= -TINY and (low <= 0 or high / low >= LOG_SPAN):
        shift = high / LOG_SPAN if low <= 0 else 0.0
        edges = np.geomspace(max(low, 0.0) + shift, high + shift, count + 1) - shift  # zero's bin starts at -TINY
        edges[[0, -1]] = low, high
        return edges
    return np.linspace(low, high, count + 1)


def _kept_counts(noisy: np.ndarray, epsilon: float) -> np.ndarray:
    """Noisy bin counts with the noise's made-up mass taken out (post-processing): a bin under NOISE_FLOOR
    noise scales counts as empty (clipping the noise at zero alone leaves every empty bin a positive count
    on average, a spread of made-up values over the range); where bins are too thin to stand out alone (a
    long tail over many fine bins), runs of them keep the noisy mass they hold together, spread evenly,
    where that sum stands out of its own noise; and a group apart from the rest needs a bar that no empty
    bin reaches but with chance EMPTY_BIN_RISK (of 60 empty bins four pass the floor by noise, and each put
    made-up values far out: test scores of 3,810 beside real ones of 320-626)."""
    count = len(noisy)
    kept = np.where(noisy > NOISE_FLOOR / epsilon, noisy, 0.0)
    for length in FILL_RUNS:
        runs, thin = np.arange(count) // length, kept == 0
        members = np.bincount(runs, weights=thin)
        together = np.bincount(runs, weights=np.where(thin, noisy, 0.0))
        passes = together > NOISE_FLOOR * np.sqrt(2 * members) / epsilon  # the summed noise's spread
        kept = np.where(thin, np.where(passes, together / np.maximum(members, 1), 0.0)[runs], kept)
    if kept.any():
        stray_bar = max(NOISE_FLOOR + STRAY_MARGIN, math.log(count / (2 * EMPTY_BIN_RISK))) / epsilon
        for group in _groups(kept, kept > 0)[1]:
            if kept[group].max() <= stray_bar:
                kept[group] = 0.0
    return kept


def _placement(noisy: np.ndarray, total: float, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """Where a coarse histogram's values surely are, coarse to fine (post-processing): runs of its bins at
    each of COARSE_LEVELS are found (`_found`), a run found is split into its found parts and an even share of
    what they leave, and one not found takes an even share of the rest of `total`. Returns each bin's mass
    and whether it is solid (found at the finest level that split its run)."""
    masses = solid = None
    for size in COARSE_LEVELS:
        sums = noisy.reshape(-1, size).sum(axis=1)
        found = _found(sums, size, epsilon)
        if masses is None:
            rest = max(total - sums[found].sum(), 1e-3 * total) / max(int((~found).sum()), 1)
            masses, solid = np.where(found, sums, rest), found
            continue
        parts = len(sums) // len(masses)
        taken, within = np.where(found, sums, 0.0).reshape(-1, parts), found.reshape(-1, parts)
        rest = np.maximum(masses - taken.sum(axis=1), 0.0) / np.maximum((~within).sum(axis=1), 1)
        masses = np.where(within, taken, rest[:, None]).ravel()
        solid = np.where(np.repeat(within.any(axis=1), parts), found, np.repeat(solid, parts))
    return masses + 1e-6 * total / len(masses), solid


def _found(sums: np.ndarray, size: int, epsilon: float) -> np.ndarray:
    """Runs of `size` coarse bins that surely hold values: those over a bar that some empty run reaches with
    chance EMPTY_BIN_RISK at most (fine bins placed on a noise spike are lost), with the stretch of neighbours
    around them whose sums clear NOISE_FLOOR noise spreads (the year 1980, 440 rows, beside 1981-1987 in the
    next bin, fell short of the bar and was spread over 29 years). Post-processing."""
    from scipy import ndimage  # here, not at the top: a private fit is the only user, and every command imports this

    seeds = sums > _group_threshold(size, len(sums)) / epsilon
    stretches, _ = ndimage.label(seeds | (sums > NOISE_FLOOR * math.sqrt(2 * size) / epsilon))
    return np.isin(stretches, stretches[seeds])


def _placed_edges(coarse_edges: np.ndarray, masses: np.ndarray, solid: np.ndarray, count: int) -> np.ndarray:
    """Half of `count` bins of about equal mass under the coarse histogram, half even over the range (all
    placed, the wide bins beside where the values were found spread their tails far: diamonds' `x` of 3.7-4.0
    mm over 1-4), and an edge wherever the coarse bins turn solid or not, so no fine bin spreads
    values from where they are over an empty stretch. Post-processing."""
    if not solid.any():  # nothing found: the placed bins would be the even ones
        return np.linspace(coarse_edges[0], coarse_edges[-1], count + 1)
    cumulative = np.concatenate([[0.0], np.cumsum(masses)]) / masses.sum()
    half = max(count // 2, 1)
    placed = np.interp(np.linspace(0, 1, half + 1), cumulative, coarse_edges)
    turns = coarse_edges[1:-1][solid[1:] != solid[:-1]]
    low, high = coarse_edges[0], coarse_edges[-1]
    edges = np.concatenate([np.linspace(low, high, half + 1), placed, turns])
    edges = edges[np.unique(np.round((edges - low) / (high - low) * 1e9), return_index=True)[1]]  # none too close
    edges[[0, -1]] = low, high
    return edges


def _with_zero_atom(edges: np.ndarray, masses: np.ndarray, atom: float) -> tuple[np.ndarray, np.ndarray]:
    """The bin holding zero cut at zero, with a bin of no width between holding `atom`: the distribution
    function jumps there, so decoding gives exactly zero for that share. Each side keeps the bin's mass by
    its width (a side of no width, where the range starts or ends at zero's magnitude bin, is dropped)."""
    i = int(np.clip(np.searchsorted(edges, 0.0, side="right") - 1, 0, len(masses) - 1))
    left, right = edges[i], edges[i + 1]
    below = left < -TINY
    above = right > TINY
    share = -left / (right - left) if below and above else float(below)  # of the bin's mass below zero
    cut_edges = ([left] if below else []) + [0.0, 0.0] + ([right] if above else [])
    cut_masses = ([masses[i] * share] if below else []) + [atom] + ([masses[i] * (1 - share)] if above else [])
    return (np.concatenate([edges[:i], cut_edges, edges[i + 2:]]),
            np.concatenate([masses[:i], cut_masses, masses[i + 1:]]))


def _draws(edges: np.ndarray, masses: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` values from the histogram (post-processing): what the mixture modes are fitted to."""
    chosen = rng.choice(len(masses), size=size, p=masses)
    return edges[chosen] + rng.random(size) * (edges[chosen + 1] - edges[chosen])


def statistics_bought(transform: TableTransform) -> dict[str, str]:
    """What the statistics budget released for each column, read from the fitted transform alone."""
    bought = {}
    for column in transform.columns:
        encoder, name = column.encoder, column.spec.name
        if isinstance(encoder, CategoricalEncoder):
            count = len(encoder.levels)
            bought[name] = (f"{count} levels released (rarer ones stay hidden)" if count > 1 else
                            "1 level released: the column comes out constant (its other levels are held by too few "
                            f"rows; --dp-categories {name}=A,B,... declares them)")
        elif isinstance(encoder, QuantileEncoder):
            bought[name] = _distribution_bought(encoder, column.spec.kind == "datetime")
        elif isinstance(encoder, ContinuousEncoder):
            bought[name] = f"range {encoder.minimum:.4g} to {encoder.maximum:.4g}, {len(encoder.means)} modes"
        elif column.spec.kind == "constant":
            bought[name] = "its constant value"
    return bought


def _shown(value: float, dates: bool) -> str:
    """A range's end as a person reads it: dates as dates (seconds since 1970 said nothing: 5.369e+08)."""
    if dates:
        try:
            return pd.Timestamp(value, unit="s").strftime("%Y-%m-%d")
        except (OverflowError, ValueError):  # beyond the years pandas can hold
            return f"{value:.4g} seconds from 1970"
    return f"{value:.4g}"


def _distribution_bought(encoder: QuantileEncoder, dates: bool) -> str:
    values, probabilities = encoder.values, encoder.probabilities
    if values[0] == values[-1]:
        return f"{_shown(values[0], dates)} alone (no other value held enough rows to clear the noise)"
    atoms = np.flatnonzero((values[:-1] == 0) & (values[1:] == 0))  # a bin of no width: exact zeros
    bins = len(values) - 1 - len(atoms)
    plural = "s" if bins != 1 else ""
    # where the values lie inside the range, which powers of two make wide (dates of 2023-2024: 2008-2034)
    middle = np.interp([0.05, 0.95], probabilities, values)
    return (f"range {_shown(values[0], dates)} to {_shown(values[-1], dates)}, distribution function over {bins} "
            f"bin{plural}, 90% from {_shown(middle[0], dates)} to {_shown(middle[1], dates)}"
            + "".join(f", {probabilities[k + 1] - probabilities[k]:.0%} at exactly zero" for k in atoms))


@dataclasses.dataclass(frozen=True)
class BudgetPlan:
    """How a private fit spends (epsilon, delta), decided before any statistic is bought. `parts`: the
    marginals and DP-SGD in use. `row_count`: where the pairs may be bought, a noisy row count said whether
    their noise would hide any dependence ({"epsilon", "rows", "strongest_dependence", "noise_sigma"});
    `pairs_set_aside`: it would, so their share went to the column statistics. `marginals_rho`: the zCDP rho
    the pair marginals measure at; `rho_apart`: what their share buys converted on its own (`marginals_rho`)."""

    statistics: tuple[float, float]
    parts: dict[str, tuple[float, float]]
    row_count: dict | None = None
    marginals_rho: float = 0.0
    rho_apart: float = 0.0

    @property
    def composed(self) -> str:
        """"together" where composing with the statistics in zCDP left the pairs more, else "apart"."""
        return "together" if self.marginals_rho > self.rho_apart else "apart"

    @property
    def pairs_set_aside(self) -> bool:
        return self.row_count is not None and "marginals" not in self.parts

    @property
    def before_dp_sgd(self) -> float:
        """What is spent before any DP-SGD step: the statistics, the row count and the marginals."""
        return (self.statistics[0] + (self.row_count or {}).get("epsilon", 0.0)
                + self.parts.get("marginals", (0.0, 0.0))[0])

    @property
    def epsilon(self) -> float:
        """What the plan spends in all, with DP-SGD at its target."""
        return self.before_dp_sgd + self.parts.get("dp_sgd", (0.0, 0.0))[0]


def plan_budget(config: PrivacyConfig, schema: list[ColumnSpec], rows: int, quantile: bool,
                rng: np.random.Generator) -> BudgetPlan:
    """The budget's split. Where the pairs may be bought, ROW_COUNT_SHARE of epsilon, taken from the statistics,
    first buys a Laplace-noised row count. If even columns that determine each other would then stand fewer
    than DEPENDENCE_SHOWN noise deviations out of the pair tables (the count taken at face value; every category
    taken at two cells and missing-value indicators left out, the cut-up that shows dependence most), the pairs
    could only teach noise and are not bought: the column statistics get their epsilon and all of delta, and
    the generator learns independent columns from them (tuning half of benchmarks/privacy_tradeoff.py, three
    small tables, three runs: mean quality 0.546 -> 0.578 at epsilon 0.5, 0.597 -> 0.638 at 1; held out, see
    the README). Taken from the pairs instead, the count would move the line where they are bought (`cigar` at
    epsilon 0.5, where they pay, sits on it). The shares are chosen from a differentially private count and add
    up to the budget whichever way it falls, which basic composition allows (a privacy filter, Rogers et al.
    2016). Without the quantile encoding, whose numbers' shares the statistics fix, or with DP-SGD asked for,
    the split is the configured one."""
    sizes = [BINS if spec.kind in ("continuous", "integer", "datetime") else 2
             for spec in schema if spec.kind in ("continuous", "integer", "datetime", "categorical", "boolean")]
    parts = budget_parts(config, len(sizes) >= 2)
    statistics = (config.dp_epsilon * config.dp_statistics_share, config.dp_delta / 2)
    if "marginals" not in parts or "dp_sgd" in parts or not quantile:
        rho = zcdp_rho(*parts["marginals"]) if "marginals" in parts else 0.0
        return BudgetPlan(statistics, parts, marginals_rho=rho, rho_apart=rho)
    count_epsilon = config.dp_epsilon * min(ROW_COUNT_SHARE, config.dp_statistics_share / 2)
    noisy_rows = max(1.0, rows + rng.laplace(0, 1 / count_epsilon))
    # the count, pure epsilon-DP, comes first; whatever it decides, the rest spends (epsilon - count, delta)
    # (adaptive basic composition): the statistics and marginals, or the statistics alone (below)
    rho, apart = marginals_rho(config.dp_epsilon - count_epsilon, statistics[0] - count_epsilon,
                               modelled_columns(schema), parts["marginals"])
    sigma = pair_noise(len(sizes), rho)
    count = {"epsilon": count_epsilon, "rows": round(noisy_rows),
             "strongest_dependence": round(strongest_dependence(sizes, noisy_rows, sigma), 3),
             "noise_sigma": round(sigma, 4)}
    if count["strongest_dependence"] < DEPENDENCE_SHOWN:
        return BudgetPlan((config.dp_epsilon - count_epsilon, config.dp_delta), {}, count)
    return BudgetPlan((statistics[0] - count_epsilon, statistics[1]), parts, count, rho, apart)


def modelled_columns(schema: list[ColumnSpec]) -> int:
    """The columns the statistics' budget is split over: all but identifiers."""
    return sum(spec.kind != "id" for spec in schema)


def marginals_rho(epsilon: float, statistics_epsilon: float, columns: int,
                  marginals: tuple[float, float]) -> tuple[float, float]:
    """The zCDP rho the pair marginals measure at, and the "apart" one; `epsilon`: what the statistics and the
    marginals spend together (the budget less the row count). "apart": the marginals' share (epsilon_m, delta_m)
    converted on its own (`zcdp_rho`), beside the statistics' basic composition. "together": each column's
    statistics are pure epsilon_c-DP but for the delta of their release thresholds, a bad event of their own (a
    level no one declared clears the bar), so they are (epsilon_c^2 / 2)-zCDP up to that delta (Bun & Steinke
    2016, Propositions 1.4 and 1.13); composed with the marginals in zCDP and converted once at the marginals'
    delta, `epsilon` buys a rho from which the statistics' are taken, and the rest is the marginals'. Conversion
    is concave, so paying it once leaves more where the columns are many and each one's epsilon small (at
    epsilon 1, ten columns: 1.45 times the rho apart, fourteen: 3.6, nine or fewer: less; at 0.5, nine: 1.4). The
    statistics are the same either way, and either way the two spend (`epsilon`, delta): the thresholds' delta
    (the statistics' half) plus the conversion's (the marginals'). The larger rho is taken, a choice made from
    the budget and the column count alone."""
    apart = zcdp_rho(*marginals)
    together = zcdp_rho(epsilon, marginals[1]) - statistics_epsilon ** 2 / (2 * max(1, columns))  # columns x e_c^2 / 2
    return max(together, apart), apart


def budget_parts(config: PrivacyConfig, measurable: bool) -> dict[str, tuple[float, float]]:
    """(epsilon, delta) of the parts after the statistics, those in use: the noisy marginals and DP-SGD share
    the half of delta the statistics leave. With fewer than two columns to pair, DP-SGD takes the marginals'
    share."""
    marginals = config.dp_marginals_share if measurable else 0.0
    shares = {"marginals": marginals, "dp_sgd": 1 - config.dp_statistics_share - marginals}
    used = {name: share for name, share in shares.items() if share > 1e-9}
    return {name: (config.dp_epsilon * share, config.dp_delta / 2 / len(used)) for name, share in used.items()}


def privacy_coverage(epsilon_statistics: float, delta_statistics: float, config: PrivacyConfig,
                     dp_sgd: bool = True) -> dict:
    """What a DP model's guarantee covers, in words and numbers, for its metadata, `info` and reports.
    `dp_sgd`: a discriminator was trained on the real rows (DP-SGD)."""
    public = sorted(set(config.dp_public_bounds) | set(config.dp_public_categories))
    return {"epsilon_budget": config.dp_epsilon, "delta_budget": config.dp_delta,
            "statistics": {"epsilon": epsilon_statistics, "delta": delta_statistics},
            "covers": "every use of the real rows: a row count, the column statistics (category lists and counts, "
                      "numeric ranges and distribution functions, condition frequencies), which column pairs to "
                      "measure, " + ("the two-way marginals the generator is fitted to, and discriminator training "
                                     "(DP-SGD)" if dp_sgd else "and the two-way marginals the generator is fitted "
                                     "to (no discriminator was trained on the rows)"),
            "not_covered": "the column kinds inferred from the data (with how many values a number holds), and "
                           "whether a category holds whole numbers (every one between its ends) or only yes/no "
                           "words (declare them with --column-kind)"
                           + (f"; values declared public for {', '.join(public)}" if public else "")}
