"""Numbers and dates that never exceed another column in any training row: a car's lowest price and its highest,
a day's lowest and highest temperature, a county's adults and its whole population, the start and end of a stay.
The generator only learns that the two rise together, and a model-wide copula no more: `Cars93`'s lowest prices
came out above the highest in 22% of rows, a county's adults above its population in 14%, a hospital's discharges
before their admissions in 40%. Such a row is wrong at a glance, and a detector reads it off two columns. So the
order is found where chance would not give it. Where the two lie far apart for their spread, a sampled row that
comes out the other way has the two values swapped: each keeps a value its own or its partner's column drew, and
only the rows out of order change. Where they lie near, the upper one is learned as its distance above the lower.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import ColumnSpec, datetime_seconds
from .derived import MAX_COLUMNS, MIN_ROWS, PIN_CHANCE, spread_rows

MIN_GAP = 0.1  # two columns nearer than this share of the upper one's interquartile range (the median gap) are
# not swapped: the generator cannot place them, and swapping turns its noise into a gap the rows do not have (a
# county table's white people, 98% of its population: median gap 23% of the population once sorted, where the
# training rows have 1.9%; detection AUC 0.65 -> 0.82; a hospital's discharges, days after admissions spread
# over two years: 40% of stays negative, 30 days at the median once sorted, where the rows have 5). The upper
# one is learned as its distance above the lower instead.
MAX_PASSES = 16  # rounds of swaps over every pair: a chain of k ordered columns is sorted in k - 1


def _numbers(values: pd.Series, spec: ColumnSpec) -> np.ndarray:
    """The values as float seconds or numbers, in an array of their own (swapping them leaves the frame be)."""
    if spec.kind == "datetime":
        return datetime_seconds(values, spec).to_numpy(np.float64, copy=True)
    return pd.to_numeric(values, errors="coerce").to_numpy(np.float64, na_value=np.nan, copy=True)


def _swappable(a: ColumnSpec, b: ColumnSpec) -> bool:
    """Two columns whose values can trade places: the same kind, dtype and date format, so a swapped value is
    written as its new column writes its own."""
    return a.kind == b.kind and a.dtype == b.dtype and a.datetime_format == b.datetime_format


def _spread(values: np.ndarray) -> float:
    low, high = np.nanquantile(values, [0.25, 0.75])
    return float(high - low)


def _chance_above(a: np.ndarray, b: np.ndarray) -> float:
    """How often a value of `a` exceeds one of `b` drawn independently of it."""
    return float(np.searchsorted(np.sort(b), a, side="left").mean() / len(b))


def find_orders(frame: pd.DataFrame, schema: list[ColumnSpec],
                excluded: set[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """({column: [the columns above it in its chain]}, {column: the column it is learned above}). A pair is
    ordered where MIN_ROWS rows hold both, the one is at most the other in each of them, not all equal (that is
    a copy, for the rules), and independent columns of their values would keep the order in every one of those
    rows with odds below PIN_CHANCE (so a price always below a salary by their ranges alone is no order);
    `excluded` columns (derived, pinned, snapped to a level's values, drawn in combinations or copied) are set
    by their own structure and left alone. Near pairs (see MIN_GAP) with no missing value become gaps, each
    column above its nearest; the other ordered pairs, chains (see `_chains`)."""
    specs = [spec for spec in schema if spec.kind in ("continuous", "integer", "datetime")
             and spec.name not in excluded][:MAX_COLUMNS]
    if len(frame) < MIN_ROWS or len(specs) < 2:
        return {}, {}
    rows = spread_rows(len(frame))
    spread = {spec.name: _numbers(pd.Series(frame[spec.name].to_numpy()[rows]), spec) for spec in specs}
    ordered: dict[tuple[str, str], float] = {}  # (lower, upper): how often chance would break the order
    near: dict[tuple[str, str], float] = {}  # (lower, upper): their median gap, in the upper one's spread
    for a in specs:
        for b in specs:
            if a is b or not _swappable(a, b):
                continue
            x, y = spread[a.name], spread[b.name]
            both = ~np.isnan(x) & ~np.isnan(y)
            held = int(both.sum())
            if held < MIN_ROWS or (x[both] > y[both]).any() or (x[both] == y[both]).all():
                continue
            chance = _chance_above(x[~np.isnan(x)], y[~np.isnan(y)])
            if (1 - chance) ** held >= PIN_CHANCE:
                continue
            if len(rows) < len(frame) and (_numbers(frame[a.name], a) > _numbers(frame[b.name], b)).any():
                continue  # broken in a row the search did not read
            gap = np.median(y[both] - x[both]) / max(_spread(y), 1e-300)
            if gap >= MIN_GAP:
                ordered[a.name, b.name] = chance
            elif frame[a.name].notna().all() and frame[b.name].notna().all():
                near[a.name, b.name] = gap
    gaps: dict[str, str] = {}
    for (lower, upper), _ in sorted(near.items(), key=lambda item: item[1]):  # each column above its nearest
        if upper not in gaps:
            gaps[upper] = lower
    stacked = set(gaps) | set(gaps.values())
    ordered = {pair: chance for pair, chance in ordered.items() if not stacked & set(pair)}
    return {chain[i]: chain[i + 1:] for chain in _chains(ordered) for i in range(len(chain) - 1)}, gaps


def _chains(ordered: dict[tuple[str, str], float]) -> list[list[str]]:
    """Disjoint chains of columns, each ordered with every other in its chain, lowest first: a chain's values
    are sorted within each row, so they only trade places among columns that always rank so. Swaps across
    orders that do not chain scrambled a county table (white people <= population >= adults: values passed
    from column to column until a county of 99% white people had 9,396 of 23,607). Each chain starts from the
    pair chance breaks most often and takes in, the same way, every column ordered with all of it."""
    def comparable(x: str, y: str) -> bool:
        return (x, y) in ordered or (y, x) in ordered

    chains, used = [], set()
    for (a, b), _ in sorted(ordered.items(), key=lambda item: -item[1]):
        if a in used or b in used:
            continue
        chain = {a, b}
        for (x, y), _ in sorted(ordered.items(), key=lambda item: -item[1]):
            for joining in (x, y):
                if joining not in chain and joining not in used and (x in chain or y in chain) and all(
                        comparable(joining, member) for member in chain):
                    chain.add(joining)
        used |= chain
        chains.append(sorted(chain, key=lambda column: sum((other, column) in ordered for other in chain)))
    return chains


def apply_orders(frame: pd.DataFrame, orders: list[tuple[str, str]], specs: dict[str, ColumnSpec]) -> None:
    """Swaps, in place, the values of each (lower, upper) pair in the rows where they come out the other way,
    pass after pass until no pair is out of order (a missing value orders with nothing)."""
    numbers = {name: _numbers(frame[name], specs[name]) for pair in orders for name in pair}
    for _ in range(MAX_PASSES):
        swapped = False
        for lower, upper in orders:
            rows = numbers[lower] > numbers[upper]
            if rows.any():
                at = np.flatnonzero(rows)
                numbers[lower][at], numbers[upper][at] = numbers[upper][at], numbers[lower][at].copy()
                low, high = frame.columns.get_loc(lower), frame.columns.get_loc(upper)
                cells = frame.iloc[at, [low, high]].to_numpy()
                frame.iloc[at, low], frame.iloc[at, high] = cells[:, 1], cells[:, 0]
                swapped = True
        if not swapped:
            return


def describe_orders(uppers: list[str]) -> str:
    shown = ", ".join(uppers[:3]) + (f" and {len(uppers) - 3} more" if len(uppers) > 3 else "")
    return f"never above {shown} in a training row, nor in a sampled one (the two swapped where they come out " \
           "the other way)"
