"""Numbers that other columns determine in every training row. A linear rule over one or two other numbers
(experience = age - schooling - 6, a mean of two scores) or a monotone function of one (a wage's logarithm, a
price index by year): a generator only comes near such a rule, and a critic tells rows by it at once (a public
survey of 2,107 rows: detection AUC 0.94, 0.80 with its log wage and experience computed from their sources), so
these columns are not generated but computed from their sources after sampling. And a number that one level of
a category fixes (an imputed 9.94 wherever "no father" is yes): it is set to that value wherever the level is
drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .. import io
from ..schema import ColumnSpec, datetime_seconds
from .encoders import to_python

FLOAT32_SLACK = 2.0 ** -22  # what a rule may miss by, in units of the column's largest value, where its values
# are 32-bit floats with fractions (666.650024 obeys a rule to 1e-7 of itself); 1e-12 elsewhere, so that two
# timestamps in nanoseconds seconds apart are not taken for one
MIN_ROWS = 20  # fewer rows than this say nothing about a rule
MIN_DISTINCT = 10  # a monotone rule needs this many distinct source values to be told from a coincidence
MIN_CURVATURE = 1e-4  # a monotone rule must leave this share of the column's variance to a straight line: closer
# to one, the two columns only rise together (an end a short while after its start), and interpolating would
# lose what lies between them
MAX_COLUMNS = 64  # numbers looked at (every pair is tried for a monotone rule)
MAX_SOURCES = 2  # a linear rule over more sources stays generated: a sum of many generated parts strays
# further (a monthly employment table's totals, 84 rows: detection AUC 0.797 derived over up to seven parts,
# 0.780 over two, 0.734 generated; a county table's 4-part totals: 0.655 against 0.667, quality 0.914 against 0.918)
MAX_ROWS = 100_000  # rows a rule is looked for in, evenly spread over a larger table
MAX_KNOTS = 2_000  # points kept of a monotone rule, evenly by rank; it is interpolated between them
PIN_MIN_ROWS = 10  # rows of a category's level that must all hold one value of a number to pin it
PIN_CHANCE = 1e-6  # how unlikely that must be by chance: the value's share, raised to the level's rows
SET_SHRINK = 3.0  # a level's rows hold a few values of a number where they hold a third of the distinct values
SET_COVER = 0.8  # that many rows would by chance, in levels of PIN_MIN_ROWS rows that hold this share of them
COMBINATION_LEVELS = 64  # columns of at most this many values are looked at for fixed combinations
COMBINATION_SHRINK = 3.0  # two such columns come in fixed combinations where they hold at most a third of the
# pairs of values independent columns of their shares would hold by chance (and chance would hold 6 or more)
KEY_MIN_ROWS = 2  # rows of a pair of levels that must share one value of a number a second category fixes
MAX_KEYS = 10_000  # pairs of levels such a number is kept for (in the model's JSON)
BIN_MAX_LEVELS = 32  # a category of at most this many levels may be ranges of a number
BIN_MIN_VALUES = 3  # distinct values of the number each range needs
BIN_MAX_RUNS = 2  # ranges per level, on average (a middle age group's 0 lies below and above it)


@dataclass(frozen=True)
class Derivation:
    """How `column` follows from `sources`: linear (`coefficients`, the intercept first) or monotone (the
    rule's `knots`, source values rising, with the column's values at them)."""

    column: str
    rule: str
    sources: tuple[str, ...]
    coefficients: tuple[float, ...] = ()
    knots: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
    decimals: int | None = None  # the most any training value was written with
    dates: tuple[tuple[str, str | None], ...] = ()  # sources that are dates (read as seconds), with their formats

    def apply(self, frame: pd.DataFrame) -> np.ndarray:
        values = [self._numbers(frame, name) for name in self.sources]
        if self.rule == "bins":  # a level for each range of the source, split midway between ranges
            levels = np.asarray(self.knots[1], dtype=object)
            return levels[np.searchsorted(np.asarray(self.knots[0]), values[0], side="right")]
        if self.rule == "linear":
            result = self.coefficients[0] + sum(c * v for c, v in zip(self.coefficients[1:], values))
        else:
            result = np.interp(values[0], *self.knots)
        return result if self.decimals is None else np.round(result, self.decimals)

    def _numbers(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        formats = dict(self.dates)
        if name in formats:
            spec = ColumnSpec(name, "datetime", "", 0.0, datetime_format=formats[name])
            return datetime_seconds(frame[name], spec).to_numpy(np.float64, na_value=np.nan)
        return frame[name].to_numpy(np.float64, na_value=np.nan)

    def describe(self) -> str:
        if self.rule == "monotone":
            return f"a monotone function of {self.sources[0]} in every training row"
        if self.rule == "bins":
            return f"one level for each of {len(self.knots[1])} ranges of {self.sources[0]} in every training row"
        terms = [(c, f"{'' if abs(abs(c) - 1) < 1e-9 else f'{abs(c):.6g} * '}{name}")
                 for c, name in zip(self.coefficients[1:], self.sources)]
        if abs(self.coefficients[0]) > 1e-9:
            terms.append((self.coefficients[0], f"{abs(self.coefficients[0]):.6g}"))
        terms.sort(key=lambda term: term[0] < 0)  # "100 - a - b", not "-a - b + 100"
        text = ("-" if terms[0][0] < 0 else "") + terms[0][1]
        text += "".join(f" {'-' if c < 0 else '+'} {written}" for c, written in terms[1:])
        return f"{text} in every training row"

    def state(self) -> dict:
        return {"column": self.column, "rule": self.rule, "sources": list(self.sources),
                "coefficients": list(self.coefficients), "knots": [list(self.knots[0]), list(self.knots[1])],
                "decimals": self.decimals, "dates": [list(pair) for pair in self.dates]}

    @classmethod
    def from_state(cls, state: dict) -> Derivation:
        return cls(state["column"], state["rule"], tuple(state["sources"]), tuple(state["coefficients"]),
                   (tuple(state["knots"][0]), tuple(state["knots"][1])), state["decimals"],
                   tuple((name, form) for name, form in state.get("dates", [])))


def find_derivations(frame: pd.DataFrame, schema: list[ColumnSpec]) -> list[Derivation]:
    """The numbers (without missing values) that a rule over other such numbers gives exactly in every row. Of
    the columns a rule ties, the later is derived (for a linear rule, the one least sensitive to its sources'
    errors); a source is never itself derived."""
    names = [spec.name for spec in schema if spec.kind in ("continuous", "integer")
             and frame[spec.name].notna().all() and frame[spec.name].nunique() > 1][:MAX_COLUMNS]
    if len(frame) < MIN_ROWS or not names:
        return []
    rows = spread_rows(len(frame))
    columns = [frame[name].to_numpy(np.float64)[rows] for name in names]  # (a Parquet table gives one at a time)
    dates = {}  # dates are sources only, of a monotone rule (a season's year from a match's date)
    for spec in schema:
        if spec.kind == "datetime" and len(names) + len(dates) < MAX_COLUMNS:
            seconds = datetime_seconds(frame[spec.name].iloc[rows], spec).to_numpy(np.float64)
            if not np.isnan(seconds).any() and len(np.unique(seconds)) > 1:
                dates[spec.name] = spec
                columns.append(seconds)
    if len(columns) < 2:
        return []
    values = np.column_stack(columns)
    numbers, names = len(names), names + list(dates)
    written = [_decimals(values[:, j]) for j in range(len(names))]
    # how far a rule may miss: the column's own precision, plus half the last written decimal of values written
    # to a few (percentages to two decimals add up to 100 only that closely)
    single = np.asarray([_single_precision(values[:, j]) for j in range(len(names))])
    slack = np.stack([np.abs(values).max(axis=0) * np.where(single, FLOAT32_SLACK, 1e-12),
                      [0.5 * 10.0 ** -d if d is not None and d >= 1 else 0.0 for d in written]])
    order = np.argsort(values, axis=0, kind="stable")
    derived: list[Derivation] = []
    taken: set[int] = set()  # derived columns and the sources of derived columns
    for target in reversed(range(numbers)):
        if target in taken:
            continue
        free = [i for i in range(numbers) if i != target and names[i] not in {d.column for d in derived}]
        found = (_linear(values, slack, target, free, names, taken)
                 or _monotone(values, slack, order, target, free + list(range(numbers, len(names))), names))
        if found is not None:
            column = names.index(found.column)
            formats = tuple((name, dates[name].datetime_format) for name in found.sources if name in dates)
            derived.append(replace(found, decimals=written[column], dates=formats))
            taken |= {column} | {names.index(source) for source in found.sources}
    return derived


def find_bins(frame: pd.DataFrame, schema: list[ColumnSpec], derived: set[str]) -> list[Derivation]:
    """Categories that a number (not derived, no missing values) gives in every training row, each level from
    one range of it: an age group from the age, an education level from the years of schooling. A generator
    draws the two apart (12% of a health survey's sampled rows held an age group their age is not in), so the
    category is computed from the sampled number. Each range needs BIN_MIN_VALUES distinct values of the number
    and a level has two ranges on average at most, so a few values that happen to sort by level are no rule."""
    categories = [spec.name for spec in schema if spec.kind in ("categorical", "boolean") and spec.name not in derived
                  and frame[spec.name].notna().all() and 2 <= frame[spec.name].nunique() <= BIN_MAX_LEVELS]
    if len(frame) < MIN_ROWS or not categories:
        return []
    rows = spread_rows(len(frame))
    sources = {spec.name: np.unique(frame[spec.name].to_numpy(np.float64)[rows], return_inverse=True)
               for spec in schema if spec.kind in ("continuous", "integer") and spec.name not in derived
               and frame[spec.name].notna().all()}  # each number's sorted values, and each row's among them
    found = []
    for name in categories:
        codes, levels = pd.factorize(pd.Series(frame[name].to_numpy()[rows]))
        for source, (distinct, inverse) in sources.items():
            rule = _bins(distinct, inverse, codes, levels, name, source)
            if rule is not None:
                found.append(rule)
                break
    return found


def _bins(distinct: np.ndarray, inverse: np.ndarray, codes: np.ndarray, levels: pd.Index, column: str,
          source: str) -> Derivation | None:
    if len(distinct) < BIN_MIN_VALUES * len(levels):
        return None
    per_value = pd.Series(codes).groupby(inverse)
    if per_value.nunique().max() > 1:
        return None  # one value with two levels
    first = per_value.first().to_numpy()  # each distinct value's level, the values sorted
    runs = np.flatnonzero(np.diff(first)) + 1  # where the level changes along the sorted values
    lengths = np.diff(np.r_[0, runs, len(first)])
    if len(runs) + 1 > BIN_MAX_RUNS * len(levels) or lengths.min() < BIN_MIN_VALUES:
        return None  # levels scattered along the number, or a range of too few values
    thresholds = tuple(float((distinct[i - 1] + distinct[i]) / 2) for i in runs)
    order = [first[0], *first[runs]]
    return Derivation(column, "bins", (source,), (), (thresholds, tuple(to_python(levels[c]) for c in order)))


def _single_precision(column: np.ndarray) -> bool:
    """Whether a column's values have fractions and are 32-bit floats, or at most the 9 significant digits one is
    written with, so that a rule may hold only to that precision (timestamps in seconds or nanoseconds have more)."""
    head = column[:1000]
    written = np.asarray([float(f"{value:.9g}") for value in head])
    cast = head.astype(np.float32).astype(np.float64)  # (a 32-bit float written to 15 digits is near its cast)
    single = bool(np.all(np.abs(cast - head) <= 1e-12 * np.abs(head))) or np.array_equal(written, head)
    return bool(single and np.any(column % 1 != 0))


def _decimals(column: np.ndarray) -> int | None:
    """The fewest decimals (up to 10) that write every value, so a derived value is written like them."""
    for decimals in range(11):
        if np.abs(column - np.round(column, decimals)).max() <= 1e-9 * max(1.0, np.abs(column).max()):
            return decimals
    return None


def _linear(values: np.ndarray, slack: np.ndarray, target: int, free: list[int], names: list[str],
            sources_of_others: set[int]) -> Derivation | None:
    if not free or len(values) <= 2 * (len(free) + 1):
        return None
    coefficients = _exact(values, slack, target, free)
    if coefficients is None:
        return None
    used = list(free)  # fewest sources: each dropped, smallest share first, where the rule stays exact without it
    # (a table's totals tie its parts too, and a least-squares fit spreads weight over every such tie)
    spread = dict(zip(free, values[:, free].std(axis=0)))
    for source in sorted(free, key=lambda i: abs(coefficients[1 + free.index(i)]) * spread[i]):
        fewer = [i for i in used if i != source]
        if fewer and (kept := _exact(values, slack, target, fewer)) is not None:
            used, coefficients = fewer, kept
    if len(used) > MAX_SOURCES:
        return None
    target, used, coefficients = _steadiest(values, slack, target, used, coefficients, sources_of_others)
    for decimals in range(7):  # -1 rather than -1.00000001, 0.5 rather than 0.49999999, where the rule holds
        tidy = np.round(coefficients, decimals)  # as well with them
        if _holds(values, slack, target, used, tidy):
            coefficients = tidy
            break
    return Derivation(names[target], "linear", tuple(names[i] for i in used), tuple(coefficients))


def _steadiest(values: np.ndarray, slack: np.ndarray, target: int, sources: list[int], coefficients: np.ndarray,
               sources_of_others: set[int]) -> tuple[int, list[int], np.ndarray]:
    """Which column of a linear rule to derive: the one the others give with the least amplified error, since
    the generator's errors in the sources carry over (a mean of two scores, not one score as twice the mean
    less the other: a school table's detection AUC 0.56 -> 0.61 with the maths score derived that way)."""
    weights = dict(zip([target, *sources], [1.0, *(-np.asarray(coefficients[1:]))]))
    scaled = dict(zip(weights, np.abs(list(weights.values())) * values[:, list(weights)].std(axis=0)))

    def amplification(column: int) -> float:
        return (sum(scaled.values()) - scaled[column]) / scaled[column]

    best = min((i for i in weights if i not in sources_of_others), key=amplification)
    if best == target:
        return target, sources, coefficients
    others = [i for i in weights if i != best]
    refitted = _exact(values, slack, best, others)
    return (target, sources, coefficients) if refitted is None else (best, others, refitted)


def _exact(values: np.ndarray, slack: np.ndarray, target: int, sources: list[int]) -> np.ndarray | None:
    """The intercept and weights of `sources` that give the target column in every row, or None."""
    design = np.column_stack([np.ones(len(values)), values[:, sources]])
    coefficients, *_ = np.linalg.lstsq(design, values[:, target], rcond=None)
    return coefficients if _holds(values, slack, target, sources, coefficients) else None


def _holds(values: np.ndarray, slack: np.ndarray, target: int, sources: list[int], coefficients) -> bool:
    weights = np.asarray(coefficients[1:])
    given = coefficients[0] + values[:, sources] @ weights
    bound = slack[:, target].sum() + np.abs(weights) @ slack[1, sources]
    return bool(np.abs(given - values[:, target]).max() <= bound)


def _monotone(values: np.ndarray, slack: np.ndarray, order: np.ndarray, target: int, free: list[int],
              names: list[str]) -> Derivation | None:
    for source in free:
        rank = order[:, source]
        x, y = values[rank, source], values[rank, target]
        same = np.diff(x) == 0
        step = np.diff(y)
        if np.abs(step[same]).max(initial=0.0) > 2 * slack[:, target].sum():
            continue  # one source value with two target values: not a function
        rising, keys = step[~same], np.flatnonzero(np.r_[True, ~same])
        if (len(keys) < MIN_DISTINCT or len(np.unique(y)) < MIN_DISTINCT  # (values written to a few decimals
                or not (np.all(rising >= 0) or np.all(rising <= 0))):  # can tie where the rule does not)
            continue
        if 1 - np.corrcoef(x, y)[0, 1] ** 2 < MIN_CURVATURE:
            continue  # two columns that only move together, as a start and an end a short while later
        kept = np.unique(np.linspace(0, len(keys) - 1, min(len(keys), MAX_KNOTS)).round().astype(int))
        knots = (tuple(float(v) for v in x[keys][kept]), tuple(float(v) for v in y[keys][kept]))
        return Derivation(names[target], "monotone", (names[source],), (), knots)
    return None


def spread_rows(rows: int) -> np.ndarray:
    """At most MAX_ROWS row numbers, evenly spread through a table of `rows`: where structure is looked for."""
    return io.spread_rows(rows, MAX_ROWS)


def _by_category(frame: pd.DataFrame, schema: list[ColumnSpec],
                 derived: set[str]) -> tuple[pd.DataFrame, list[tuple[np.ndarray, pd.Index, str]]]:
    """The numbers (not derived) over rows evenly spread through a large table, and each category's codes and
    levels over the same rows; no categories where there is nothing to look at."""
    names = [spec.name for spec in schema if spec.kind in ("continuous", "integer") and spec.name not in derived]
    categories = [spec.name for spec in schema if spec.kind in ("categorical", "boolean")
                  and spec.name not in derived][:MAX_COLUMNS]
    rows = spread_rows(len(frame))
    table = pd.DataFrame({name: frame[name].to_numpy()[rows] for name in names[:MAX_COLUMNS]})
    if len(frame) < MIN_ROWS or not names:
        return table, []
    return table, [(*pd.factorize(pd.Series(frame[name].to_numpy()[rows])), name) for name in categories]


def find_pins(frame: pd.DataFrame, schema: list[ColumnSpec], derived: set[str]) -> dict[str, list[list]]:
    """Numbers that one level of a category fixes in every one of its rows: {number: [[category, level, value],
    ...]} (value None: missing). A parent's education imputed as 9.94 wherever "no father" is yes, a town's tax
    rate, a school's teacher: the generator draws numbers near the value, and a critic tells the rows by it.
    A pin needs PIN_MIN_ROWS rows, and odds below PIN_CHANCE that its rows would share a value this common by
    chance (so ten rows that all hold the most frequent of three values do not make one)."""
    table, categories = _by_category(frame, schema, derived)
    pins: dict[str, list[list]] = {}
    for codes, levels, category in categories:
        groups = table.groupby(codes)
        sizes, distinct, first = groups.size(), groups.nunique(dropna=False), groups.first()
        for number in table.columns:
            shares = table[number].value_counts(normalize=True, dropna=False)
            for code in sizes.index[(sizes.index >= 0) & (sizes >= PIN_MIN_ROWS) & (distinct[number] == 1)]:
                value = first.at[code, number]
                share = shares.get(value, 0.0) if pd.notna(value) else table[number].isna().mean()
                if 0 < share < 1 and share ** sizes[code] < PIN_CHANCE:
                    pins.setdefault(number, []).append([category, to_python(levels[code]), to_python(value)])
    return pins


def find_value_sets(frame: pd.DataFrame, schema: list[ColumnSpec], derived: set[str]) -> dict[str, list]:
    """Numbers that each level of a category holds only a few values of: {number: [category, [[level, values],
    ...]]}. A school's classes have a teacher each, so its pupils' teacher experience is one of four values
    where its 46 rows would hold 18 of the column's 25 by chance; a generator draws any experience, and a
    critic tells the rows by the school and the experience together. Where the levels of PIN_MIN_ROWS rows or
    more that hold at most a SET_SHRINK-th of the distinct values their rows would draw from the column by
    chance cover SET_COVER of the rows, sampling snaps the number to the nearest of its level's values in those
    levels (the category that leaves the fewest values per row wins)."""
    table, categories = _by_category(frame, schema, derived)
    shares = {name: table[name].value_counts(normalize=True).to_numpy() for name in table.columns}
    found: dict[str, tuple[float, list]] = {}
    for codes, levels, category in categories:
        groups = table.groupby(codes)
        sizes, distinct = groups.size(), groups.nunique()
        for number in table.columns:
            if len(shares[number]) < MIN_DISTINCT:
                continue
            held = distinct[number]
            # a level can only hold a third of what chance gives if it holds a third of its rows' count
            large = sizes.index[(sizes.index >= 0) & (sizes >= PIN_MIN_ROWS) & (held > 0)
                                & (held * SET_SHRINK <= sizes)]
            if sizes[large].sum() < SET_COVER * len(table):
                continue
            chance = {n: (1 - (1 - shares[number]) ** n).sum() for n in np.unique(sizes[large])}
            large = large[held[large].to_numpy() * SET_SHRINK <= np.asarray([chance[n] for n in sizes[large]])]
            if sizes[large].sum() < SET_COVER * len(table):
                continue
            kept = held[large].sum() / sizes[large].sum()
            if number not in found or kept < found[number][0]:
                column = table[number].groupby(codes)
                sets = [[to_python(levels[code]),
                         sorted(to_python(v) for v in column.get_group(code).dropna().unique())] for code in large]
                found[number] = (kept, [category, sets])
    chosen = {number: entry for number, (_, entry) in found.items()}
    for number, entry in chosen.items():
        key = _second_key(table[number], entry[0], categories)
        if key is not None:
            entry.append(key)
    return chosen


def _second_key(values: pd.Series, first: str, categories: list[tuple[np.ndarray, pd.Index, str]]) -> list | None:
    """The category that, beside `first`, fixes the number in every pair of their levels that holds KEY_MIN_ROWS
    rows or more ([category, [[first's level, its level, value], ...]]): a state's unemployment rate in the year a
    worker lost the job, one of nine per state but one per state and year (`Benefits`: detection AUC 0.85 -> 0.75
    with each such pair's value). The pairs must cover SET_COVER of the rows, and agree beyond PIN_CHANCE where
    the first category's own values drawn by chance would; the pair with the fewest pairs of levels wins."""
    codes_of = {name: (codes, levels) for codes, levels, name in categories}
    first_codes, first_levels = codes_of[first]
    present = values.notna().to_numpy() & (first_codes >= 0)
    best = None
    for codes, levels, name in categories:
        if name == first:
            continue
        rows = present & (codes >= 0)
        pairs = pd.DataFrame({"a": first_codes[rows], "b": codes[rows], "value": values.to_numpy()[rows]})
        groups = pairs.groupby(["a", "b"])["value"]
        sizes, distinct = groups.size(), groups.nunique()
        shown = sizes.index[sizes >= KEY_MIN_ROWS]
        if sizes[shown].sum() < SET_COVER * len(values) or (distinct[shown] > 1).any():
            continue
        if best is not None and len(shown) >= len(best[1]):
            continue
        # how likely each pair's rows would agree by chance, drawing from its first level's own values
        shares = pairs.groupby("a")["value"].value_counts(normalize=True)
        chance = sum(math.log(float((shares.loc[a].to_numpy() ** size).sum())) for (a, _), size in sizes[shown].items())
        if chance < math.log(PIN_CHANCE) and len(shown) <= MAX_KEYS:
            best = (name, shown, levels)
    if best is None:
        return None
    name, shown, levels = best
    held = pd.DataFrame({"a": first_codes, "b": codes_of[name][0], "value": values.to_numpy()}).groupby(
        ["a", "b"])["value"].first()
    return [name, [[to_python(first_levels[a]), to_python(levels[b]), to_python(held.loc[(a, b)])] for a, b in shown]]


def apply_value_sets(frame: pd.DataFrame, sets: list, column: str) -> pd.Series:
    """The number snapped to the nearest value its row's level holds, where the level has a set; where a second
    category fixes it (`_second_key`), the value of its row's pair of levels, where the pair was seen."""
    category, levels = sets[:2]
    values = frame[column].to_numpy(np.float64, na_value=np.nan).copy()
    for level, held in levels:
        rows = np.flatnonzero((frame[category] == level).to_numpy() & ~np.isnan(values))
        if len(rows):
            values[rows] = nearest(values[rows], np.asarray(held, np.float64))
    if len(sets) > 2:
        second, pairs = sets[2]
        fixed = {(a, b): value for a, b, value in pairs}
        found = [fixed.get(pair, np.nan) for pair in zip(frame[category].tolist(), frame[second].tolist())]
        values = np.where(np.isnan(found), values, np.asarray(found, np.float64))
    return pd.Series(values, index=frame.index, name=column).astype(frame[column].dtype, errors="ignore")


def nearest(values: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Each value moved to the nearest of `support` (rising); missing ones stay missing."""
    out, present = values.copy(), ~np.isnan(values)
    at = np.clip(np.searchsorted(support, values[present]), 1, max(1, len(support) - 1))
    lower, upper = support[np.maximum(at - 1, 0)], support[np.minimum(at, len(support) - 1)]
    out[present] = np.where(np.abs(values[present] - lower) <= np.abs(upper - values[present]), lower, upper)
    return out


def find_combinations(frame: pd.DataFrame, schema: list[ColumnSpec], derived: set[str]) -> dict[str, list]:
    """Pairs of columns of few values that come in a few fixed combinations: {column: [other column, [[its
    value, the other's value, rows], ...]]}, the column being the one of fewer values. A car's model fixes its
    maker, an interval's lower bound its upper one: the generator drew `mpg`'s makers and models in pairs never
    seen in 66% of rows ("toyota a4"). Sampling keeps the other column's value and draws this one from the
    pairs seen with it, by their rows. Found where the seen pairs are at most a COMBINATION_SHRINK-th of those
    columns of their shares would show by chance, or where one column's every value comes with one value of
    the other and chance would rarely give that (`_determines`); each column in one pair at most, the tightest
    first."""
    if len(frame) < MIN_ROWS:
        return {}
    names = [spec.name for spec in schema if spec.kind not in ("id", "text", "constant") and spec.name not in derived]
    kinds = {spec.name: spec.kind for spec in schema}
    rows = spread_rows(len(frame))
    columns = {name: pd.Series(frame[name].to_numpy()[rows]) for name in names[:MAX_COLUMNS]}
    columns = {name: values for name, values in columns.items() if 2 <= values.nunique() <= COMBINATION_LEVELS}
    shares = {name: values.value_counts(normalize=True, dropna=False).to_numpy() for name, values in columns.items()}
    found = []
    for i, a in enumerate(columns):
        for b in list(columns)[i + 1:]:
            chance = float((1 - (1 - np.outer(shares[a], shares[b])) ** len(rows)).sum())
            pairs = pd.DataFrame({"a": columns[a], "b": columns[b]}).value_counts(dropna=False)
            if chance >= 6 and len(pairs) * COMBINATION_SHRINK <= chance:
                found.append((len(pairs) / chance, a, b))
            elif _determines(pairs, shares[b]) or _determines(pairs.reorder_levels(["b", "a"]), shares[a]):
                # after the pairs the shrink finds (a model fixes both maker and drive), and two categories before
                # a category and a number (a state's code and its name before its code and a vote share)
                found.append((1.0 if not ({kinds[a], kinds[b]} & NUMBER_KINDS) else 1.5, a, b))
    combinations, taken = {}, set()
    for _, a, b in sorted(found):
        if a in taken or b in taken:
            continue
        drawn, kept = (a, b) if len(shares[a]) <= len(shares[b]) else (b, a)
        counts = pd.DataFrame({"drawn": columns[drawn], "kept": columns[kept]}).value_counts(dropna=False)
        combinations[drawn] = [kept, [[to_python(x), to_python(y), int(n)] for (x, y), n in counts.items()]]
        taken |= {a, b}
    return combinations


NUMBER_KINDS = {"integer", "continuous", "datetime"}


def _determines(pairs: pd.Series, shares: np.ndarray) -> bool:
    """Whether every value of the first column of `pairs` (the rows of each pair of values seen) comes with one
    value of the second, whose shares are `shares`, where chance would rarely give that: the rows of a value
    agreeing on the second column by chance has probability the sum of its shares raised to their number, and
    all of them together under PIN_CHANCE. Two rows a state, as in a senate's 100 votes, name and postal code
    always agree (chance 1e-85), while the pairs seen are too many for a shrink test."""
    if pairs.index.get_level_values(0).duplicated().any():  # a value seen with two of the other column
        return False
    rows = pairs.to_numpy()
    log_chance = float(np.log(np.array([np.sum(shares ** n) for n in rows[rows >= 2]])).sum())
    return log_chance < math.log(PIN_CHANCE)


def apply_combinations(frame: pd.DataFrame, combination: list, column: str, rng: np.random.Generator) -> pd.Series:
    """The column redrawn, where its row holds a pair with the other column never seen, from the pairs seen with
    the other column's value, by their rows (a value the pairs never hold keeps the row as it was)."""
    kept, pairs = combination
    values = frame[column].to_numpy(dtype=object).copy()
    seen = {(_key(x), _key(y)) for x, y, _ in pairs}
    unseen = np.fromiter(((_key(x), _key(y)) not in seen for x, y in zip(values, frame[kept].tolist())), bool,
                         len(values))
    by_kept: dict = {}
    for x, y, n in pairs:
        options, weights = by_kept.setdefault(_key(y), ([], []))
        options.append(x)
        weights.append(n)
    codes, uniques = pd.factorize(frame[kept], use_na_sentinel=False)
    for code, y in enumerate(uniques):  # each value of the other column once, its rows drawn together
        rows = np.flatnonzero(unseen & (codes == code))
        if len(rows) and _key(y) in by_kept:
            options, weights = by_kept[_key(y)]
            choices = np.empty(len(options), dtype=object)  # (as objects: numbers stay numbers, tuples whole)
            choices[:] = options
            values[rows] = choices[rng.choice(len(options), len(rows), p=np.asarray(weights) / sum(weights))]
    return pd.Series(values, index=frame.index, name=column).astype(frame[column].dtype, errors="ignore")


def find_selections(frame: pd.DataFrame, schema: list[ColumnSpec], derived: set[str]) -> dict[str, list]:
    """Numbers that copy, in every row of each level of a category, another number picked by the level: {number:
    [category, [[level, source], ...]]}. Choice data holds them: an angler's price is that of the mode chosen
    (`price` = `pboat` wherever `mode` is boat, `pcharter` wherever it is charter), which the generator only
    comes near, and a detector reads off the three columns (pydataset `Fishing`: detection AUC 0.94, 0.84 with
    the copies). Levels of PIN_MIN_ROWS rows or more holding two values of it or more, covering SET_COVER of the
    rows, each copy one source, and two sources at least; a number of MIN_DISTINCT values or more; sources are
    never derived, nor copies themselves."""
    _, categories = _by_category(frame, schema, derived)
    rows = spread_rows(len(frame))
    # sources: any column of numbers, a category of a few numbers too (the catch rate of the pier, 10 values)
    names = [spec.name for spec in schema if spec.name not in derived and spec.kind not in ("id", "text", "datetime")
             and pd.api.types.is_numeric_dtype(frame[spec.name].dtype)
             and not pd.api.types.is_bool_dtype(frame[spec.name].dtype)][:MAX_COLUMNS]
    table = pd.DataFrame({name: frame[name].to_numpy()[rows] for name in names})
    targets = {spec.name for spec in schema if spec.kind in ("continuous", "integer")}
    numbers = table.to_numpy(np.float64, na_value=np.nan)
    found: dict[str, list] = {}
    for codes, levels, category in categories:
        sizes = np.bincount(codes[codes >= 0], minlength=len(levels))
        for target, name in enumerate(table.columns):
            if name not in targets or table[name].nunique() < MIN_DISTINCT or name in found or any(
                    name in (source for _, source in chosen[1]) for chosen in found.values()):
                continue
            picked = []
            for code in np.flatnonzero(sizes >= PIN_MIN_ROWS):
                level = numbers[codes == code]
                if np.unique(level[:, target]).size < 2:  # a level that fixes it: a pin, not a copy
                    continue
                same = ((level == level[:, [target]]) | (np.isnan(level) & np.isnan(level[:, [target]]))).all(axis=0)
                same[target] = False
                sources = [table.columns[j] for j in np.flatnonzero(same) if table.columns[j] not in found]
                if sources:
                    picked.append((code, sources[0]))
            covered = sizes[[code for code, _ in picked]].sum()
            if covered >= SET_COVER * len(table) and len({source for _, source in picked}) >= 2:
                found[name] = [category, [[to_python(levels[code]), source] for code, source in picked]]
    return found


def apply_selection(frame: pd.DataFrame, selection: list, column: str) -> pd.Series:
    """The number copied from its row's level's source, where the level has one."""
    category, picked = selection
    values = frame[column].copy()
    for level, source in picked:
        rows = (frame[category] == level).to_numpy()
        values[rows] = frame.loc[rows, source]
    return values


def describe_selection(selection: list) -> str:
    category, picked = selection
    shown = ", ".join(f"{source} where {category} is {level}" for level, source in picked[:4])
    more = f" and {len(picked) - 4} more" if len(picked) > 4 else ""
    return f"a copy of {shown}{more} in every training row; copied after sampling"


def _key(value) -> object:
    """A value as a dictionary key: every missing value one key (NaN is not equal to itself)."""
    return None if pd.isna(value) else value


def pinned_rows(frame: pd.DataFrame, pins: list[list]) -> np.ndarray:
    """Which rows hold a level that fixes the column's value."""
    pinned = np.zeros(len(frame), bool)
    for category, level, _ in pins:
        pinned |= (frame[category] == level).to_numpy()
    return pinned


def apply_pins(frame: pd.DataFrame, pins: list[list], column: str) -> pd.Series:
    values = frame[column]
    for category, level, value in pins:
        values = values.mask((frame[category] == level).to_numpy(), np.nan if value is None else value)
    return values


def describe_pins(pins: list[list]) -> str:
    shown = ", ".join(f"{'missing' if value is None else f'{value:g}'} where {category} is {level}"
                      for category, level, value in pins[:3])
    more = f" and {len(pins) - 3} more" if len(pins) > 3 else ""
    return f"one value wherever a level of another column says so ({shown}{more})"
