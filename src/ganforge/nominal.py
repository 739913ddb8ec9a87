"""Whole numbers that name things rather than count them: industry codes, plant numbers, survey items coded 11-99.

A name often says so (`schema.reads_as_codes`), but not always (`ardsic`, an industry code with -999 for none).
The values say it too: along a quantity's order, neighbouring values behave alike (the mean income at 40 years
of age is near that at 41), while codes sit in an arbitrary order, so another column's mean jumps between
neighbouring codes as much as between any two. Where a column's levels say much about another column and their
order says nothing of it, the column is a category.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .io import spread_rows

MAX_ROWS = 20_000  # rows looked at, evenly spread through a larger table
MIN_SIGNAL = 0.5  # the levels must carry this share of some other column's variance (beyond chance)
NOMINAL = 0.9  # and the order so little of it: successive levels' means differ this much of what any two do
TOP_TARGETS = 3  # the other columns the levels say most about, whose smoothness is averaged
MAX_TARGET_LEVELS = 10  # a category of at most this many levels: each a target of its own (as a 0/1 column)
MIN_LEVEL_SHARE = 0.02


def spread_table(frame) -> pd.DataFrame:
    """At most MAX_ROWS rows evenly spread through `frame` (a DataFrame, or a Parquet file read a column at a
    time): what `order_carries_nothing` reads."""
    rows = spread_rows(len(frame), MAX_ROWS)
    return pd.DataFrame({name: frame[name].iloc[rows].reset_index(drop=True) for name in frame.columns})


def order_carries_nothing(table: pd.DataFrame, name: str) -> tuple[bool, str]:
    """Whether the whole numbers of `name` are codes by their values, and the column that shows it most.
    `table`: the rows to read (`spread_table`)."""
    codes = table[name].to_numpy(np.float64, na_value=np.nan)
    scored = []
    for target, values in _targets(table, name).items():
        found = _smoothness(values, codes)
        if found is not None:
            scored.append((found[1], found[0], target))
    if not scored:
        return False, ""
    scored.sort(reverse=True)
    top = scored[:TOP_TARGETS]
    weights = np.asarray([share for share, _, _ in top])
    smoothness = float(np.dot(weights, [s for _, s, _ in top]) / weights.sum())
    return top[0][0] >= MIN_SIGNAL and smoothness >= NOMINAL, top[0][2]


def _targets(table: pd.DataFrame, skip: str) -> dict[str, np.ndarray]:
    """Other columns as numbers to take means of: a number's ranks, each common level of a category as 0/1."""
    out = {}
    for name in table.columns:
        if name == skip:
            continue
        column = table[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column) \
                and column.nunique() > 2:
            out[f"{name}'s mean"] = column.rank(pct=True).to_numpy(np.float64, na_value=np.nan)
            continue
        shares = column.astype(str).where(column.notna()).value_counts(normalize=True)
        if len(shares) > MAX_TARGET_LEVELS:  # a category of many levels that each hold a few of the numbers
            continue  # (a school's teachers' experience) nests them, whatever their order: `derived` value sets
        for level in shares.index[(shares >= MIN_LEVEL_SHARE) & (shares < 1)]:
            out[f"the share of {name}={level}"] = (column.astype(str) == level).to_numpy(np.float64)
    return out


def _smoothness(values: np.ndarray, codes: np.ndarray) -> tuple[float, float] | None:
    """(smoothness, signal share): the mean squared step between successive levels' means, net of their noise,
    over twice the variance between levels' means, net of theirs (about 0 for a smooth function of the order,
    about 1 for levels in an arbitrary order); and that variance's share of the whole, for how much the levels
    say. None where the levels say too little to tell."""
    known = ~(np.isnan(values) | np.isnan(codes))
    groups = pd.Series(values[known]).groupby(codes[known])
    means, sizes, spreads = groups.mean(), groups.size(), groups.var(ddof=1)
    kept = sizes >= 2
    means, sizes, spreads = means[kept].to_numpy(), sizes[kept].to_numpy(), spreads[kept].to_numpy()
    if len(means) < 6:
        return None
    within = float((spreads * (sizes - 1)).sum() / (sizes - 1).sum())
    noise = within / sizes  # each level mean's sampling variance
    signal = float(means.var(ddof=1) - noise.mean())
    if signal <= 2 * noise.mean():
        return None
    steps = np.diff(means) ** 2 - (noise[1:] + noise[:-1])
    return float(steps.mean() / (2 * signal)), signal / (signal + within)
