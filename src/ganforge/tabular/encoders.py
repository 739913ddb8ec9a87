"""Reversible per-column encodings into the generator's space: tanh scalars plus one-hot blocks.

Each encoder turns a column into `scalar_count` numbers in [-1, 1] and `len(block_sizes)` category codes, and
back. State is plain JSON so a model folder never needs pickle.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri


def to_python(value: Any) -> Any:
    """A JSON-safe Python scalar; missing values become None."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return to_python(value.item())
    return value

ENCODE_CHUNK = 65_536


GOLDEN = (5 ** 0.5 - 1) / 2


def spread(rows: int, counts: list[int]) -> np.ndarray:
    """Level indices for `rows` rows in proportion to `counts`, interleaved (golden-ratio steps, so no run of
    rows in the table's own order lands on one level) and the same every time: the rows of a hidden level
    counted as one released level (the most frequent, say) would swell its share in every statistic taken
    from the encoded rows, as 2,000 of star's pupils all in one school did."""
    cumulative = np.cumsum(np.asarray(counts, dtype=np.float64))
    points = (0.5 + GOLDEN * np.arange(rows)) % 1.0
    return np.searchsorted(cumulative, points * cumulative[-1], side="right").astype(np.int64)


class CategoricalEncoder:
    """One-hot over the levels (missing is a level); past `max_categories`, the rarest levels share one
    'other' code and are drawn back by their frequencies, so a 10,000-level column costs a few hundred dims."""

    scalar_count = 0

    def __init__(self, levels: list[Any], counts: list[int], top: int):
        self.levels, self.counts, self.top = levels, counts, top
        self._index = pd.Index([v for v in levels if v is not None])
        self._null_code = levels.index(None) if None in levels else -1
        self._level_of_index = np.asarray([i for i, v in enumerate(levels) if v is not None], dtype=np.int64)

    @classmethod
    def fit(cls, values: pd.Series, max_categories: int) -> CategoricalEncoder:
        frequencies = values.value_counts(dropna=False, sort=True)
        levels = [to_python(v) for v in frequencies.index]
        top = len(levels) if len(levels) <= max_categories else max_categories - 1
        return cls(levels, [int(c) for c in frequencies.to_numpy()], top)

    @property
    def block_sizes(self) -> list[int]:
        return [self.top + (1 if self.top < len(self.levels) else 0)]

    def level_codes(self, values: pd.Series) -> np.ndarray:
        """Index into `levels` for each value, -1 for a value never seen."""
        positions = self._index.get_indexer(values)
        codes = self._level_of_index[positions] if len(self._level_of_index) else np.zeros(len(values), np.int64)
        codes[positions < 0] = -1
        codes[values.isna().to_numpy()] = self._null_code
        return codes

    def encode(self, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        codes = self.level_codes(values)
        hidden = np.flatnonzero(codes < 0)
        if len(hidden):  # levels left out by privacy thresholds: spread over the released ones by their counts
            weights = [0 if level is None else count for level, count in zip(self.levels, self.counts)]
            codes[hidden] = spread(len(hidden), weights if any(weights) else self.counts)
        codes = np.minimum(codes, self.top)
        return np.zeros((len(values), 0), dtype=np.float32), codes[:, None]

    def decode(self, scalars: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        codes = codes[:, 0].copy()
        tail = codes >= self.top
        if tail.any():
            weights = np.asarray(self.counts[self.top:], dtype=np.float64)
            codes[tail] = self.top + rng.choice(len(weights), size=int(tail.sum()), p=weights / weights.sum())
        return np.asarray(self.levels + [None], dtype=object)[codes]

    def state(self) -> dict:
        return {"type": "categorical", "levels": self.levels, "counts": self.counts, "top": self.top}

    @classmethod
    def from_state(cls, state: dict) -> CategoricalEncoder:
        return cls(state["levels"], state["counts"], state["top"])


def _snap(support: np.ndarray, counts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Map values onto the sorted `support` through the real distribution function: a value's quantile under
    a piecewise-linear CDF through the support points picks the support value owning that quantile. Unlike
    rounding to the nearest neighbour, this keeps each value's frequency when the values are unevenly spaced."""
    cumulative = np.cumsum(counts) / counts.sum()
    midpoints = cumulative - counts / counts.sum() / 2
    quantiles = np.interp(values, support, midpoints)
    return support[np.minimum(np.searchsorted(cumulative, quantiles, side="right"), len(support) - 1)]


def written_decimals(values: np.ndarray) -> int | None:
    """The fewest decimals that write every value exactly, so synthetic prices keep their cents."""
    sample = values[:2000]
    for decimals in range(7):
        if np.allclose(np.round(sample, decimals), sample, rtol=0, atol=1e-9 * np.maximum(1, np.abs(sample))):
            return decimals
    return None


SUPPORT_MAX_VALUES = 1000
SUPPORT_MAX_SHARE = 0.2


class ContinuousEncoder:
    """Mode-specific normalisation (Xu et al. 2019, section 4.2): a variational Gaussian mixture finds the
    modes, each value becomes (mode, offset within the mode). The mixture is fitted on a subsample, so a
    million rows cost the same as twenty thousand; encoding is vectorised NumPy.

    A column that repeats a small set of values (disk sizes 80, 120, 170 ...; at most 1,000 distinct, each
    seen five times on average) gets its values snapped back onto that set with their frequencies: a made-up
    113 would give every synthetic row away to a detector, while single values are not records."""

    scalar_count = 1

    def __init__(self, means: list[float], stds: list[float], weights: list[float], minimum: float,
                 maximum: float, decimals: int | None, nullable: bool, support: list[float] | None = None,
                 support_counts: list[int] | None = None):
        self.means, self.stds, self.weights = np.asarray(means), np.asarray(stds), np.asarray(weights)
        self.minimum, self.maximum, self.decimals, self.nullable = minimum, maximum, decimals, nullable
        self.support = None if support is None else np.asarray(support, dtype=np.float64)
        self.support_counts = None if support_counts is None else np.asarray(support_counts, dtype=np.int64)

    @classmethod
    def fit(cls, values: np.ndarray, max_modes: int, sample_size: int, rng: np.random.Generator,
            decimals: int | None = None) -> ContinuousEncoder:
        observed = values[~np.isnan(values)]
        nullable = bool(np.isnan(values).any())
        sample = observed if len(observed) <= sample_size else rng.choice(observed, sample_size, replace=False)
        center, spread = float(np.mean(sample)), float(np.std(sample)) or 1.0
        n_modes = min(max_modes, len(np.unique(sample)))
        if n_modes <= 1:
            means, stds, weights = [center], [spread], [1.0]
        else:  # scikit-learn is imported here: it costs every command a second and a half to start
            from sklearn.exceptions import ConvergenceWarning
            from sklearn.mixture import BayesianGaussianMixture

            mixture = BayesianGaussianMixture(
                n_components=n_modes, weight_concentration_prior_type="dirichlet_process",
                weight_concentration_prior=1e-3, max_iter=100, n_init=1,
                random_state=int(rng.integers(2**31 - 1)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                mixture.fit(((sample - center) / spread).reshape(-1, 1))  # unit scale keeps the fit stable
            keep = mixture.weights_ > 5e-3
            means = (center + spread * mixture.means_[keep, 0]).tolist()
            stds = (spread * np.maximum(np.sqrt(mixture.covariances_.reshape(-1)[keep]), 1e-3)).tolist()
            weights = (mixture.weights_[keep] / mixture.weights_[keep].sum()).tolist()
        if decimals is None:
            decimals = written_decimals(observed)
        distinct, counts = np.unique(observed, return_counts=True)
        snap = len(distinct) <= SUPPORT_MAX_VALUES and len(distinct) <= SUPPORT_MAX_SHARE * len(observed)
        return cls(means, stds, weights, float(observed.min()), float(observed.max()), decimals, nullable,
                   distinct.tolist() if snap else None, counts.tolist() if snap else None)

    @property
    def block_sizes(self) -> list[int]:
        return [len(self.means)] + ([2] if self.nullable else [])

    def encode(self, values: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        missing = np.isnan(values)
        x = np.where(missing, self.means[0], values)
        draws = rng.random(len(x))
        modes = np.empty(len(x), dtype=np.int64)
        # row chunks: the (rows, modes) temporaries of a million rows would cost several table copies
        for start in range(0, len(x), ENCODE_CHUNK):
            part = x[start:start + ENCODE_CHUNK, None]
            log_density = np.log(self.weights) - np.log(self.stds) - 0.5 * ((part - self.means) / self.stds) ** 2
            posterior = np.exp(log_density - log_density.max(axis=1, keepdims=True))
            cumulative = np.cumsum(posterior, axis=1)
            drawn = draws[start:start + ENCODE_CHUNK, None] * cumulative[:, -1:]
            modes[start:start + ENCODE_CHUNK] = np.minimum((cumulative < drawn).sum(axis=1), len(self.means) - 1)
        offsets = (x - self.means[modes]) / (4 * self.stds[modes])
        scalars = np.clip(offsets, -0.99, 0.99).astype(np.float32)[:, None]
        codes = [modes] + ([missing.astype(np.int64)] if self.nullable else [])
        return scalars, np.stack(codes, axis=1)

    def decode(self, scalars: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        modes = codes[:, 0]
        values = scalars[:, 0].astype(np.float64) * 4 * self.stds[modes] + self.means[modes]
        values = np.clip(values, self.minimum, self.maximum)
        if self.support is not None:
            values = _snap(self.support, self.support_counts, values)
        elif self.decimals is not None:  # rounding may step just past an edge: clip again
            values = np.clip(np.round(values, self.decimals), self.minimum, self.maximum)
        if self.nullable:
            values[codes[:, 1] == 1] = np.nan
        return values

    def state(self) -> dict:
        return {"type": "continuous", "means": self.means.tolist(), "stds": self.stds.tolist(),
                "weights": self.weights.tolist(), "minimum": self.minimum, "maximum": self.maximum,
                "decimals": self.decimals, "nullable": self.nullable,
                "support": None if self.support is None else self.support.tolist(),
                "support_counts": None if self.support_counts is None else self.support_counts.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> ContinuousEncoder:
        return cls(state["means"], state["stds"], state["weights"], state["minimum"], state["maximum"],
                   state["decimals"], state["nullable"], state.get("support"), state.get("support_counts"))


QUANTILE_POINTS = 1000


def quantile_knots(rows: int) -> np.ndarray:
    """The probabilities at which a column of many distinct numbers is cut into its quantiles: about twice the
    square root of the rows, evenly spaced, plus every value of the two tails. Through every value, each gap
    between two neighbouring training values gets the same share of the synthetic values, so short gaps (where
    training values crowd) get the most per unit length: a synthetic value lands nearer a training value than a
    fresh real one does for ln 2 = 69% of values, not half, and the rows inherit it. In the tails the values
    are kept: there one gap spans a long range, and spreading a tail's share evenly over it made values far
    past the real ones (the 99th percentile of a skewed column 46 -> 66)."""
    even = max(2, min(rows, QUANTILE_POINTS, int(2 * math.sqrt(rows))))
    if even >= rows:
        return np.linspace(0, 1, max(rows, 2))
    tail = np.arange(math.ceil(rows / even)) / (rows - 1)  # the order statistics a tail's segment would span
    return np.unique(np.r_[np.linspace(0, 1, even), tail, 1 - tail])


NORMAL_SCALE = 4.0  # normal scores are divided by this to sit inside tanh's range
TAIL = 1e-4  # probabilities are squeezed into [TAIL, 1 - TAIL] so the normal scores stay finite


class QuantileEncoder:
    """A number through its own distribution function to a normal score (the Gaussian-copula view of a
    column): skewed, heavy-tailed or many-peaked columns all look like one standard normal to the generator,
    and decoding through the empirical quantiles gives back the column's own distribution, with no values piled
    up at the range edges. Columns that repeat a small set of values keep that set and its frequencies (ties
    spread uniformly over their share of the distribution function).

    `decode(..., calibrate=True)` ranks a generated batch and maps the ranks onto the quantiles, so the batch's
    distribution is the column's exactly and only the generator's ordering of rows (the dependence between
    columns) remains."""

    scalar_count = 1

    def __init__(self, values: list[float], probabilities: list[float], discrete: bool, decimals: int | None,
                 nullable: bool):
        self.values, self.probabilities = np.asarray(values, np.float64), np.asarray(probabilities, np.float64)
        self.discrete, self.decimals, self.nullable = discrete, decimals, nullable

    @classmethod
    def fit(cls, values: np.ndarray, decimals: int | None = None, points: int | None = None) -> QuantileEncoder:
        observed = np.sort(values[~np.isnan(values)])
        distinct, counts = np.unique(observed, return_counts=True)
        discrete = len(distinct) <= SUPPORT_MAX_VALUES and len(distinct) <= SUPPORT_MAX_SHARE * len(observed)
        if discrete:
            support, cumulative = distinct, np.cumsum(counts) / counts.sum()
        else:
            cumulative = np.linspace(0, 1, points) if points else quantile_knots(len(observed))
            support = np.quantile(observed, cumulative)
        if decimals is None:
            decimals = written_decimals(observed)
        return cls(support.tolist(), cumulative.tolist(), bool(discrete), decimals, bool(np.isnan(values).any()))

    @property
    def block_sizes(self) -> list[int]:
        return [2] if self.nullable else []

    def _uniforms(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Randomised probability integral transform: a value's share of the distribution function, drawn
        uniformly inside it when several rows share the value."""
        if self.discrete:
            level = np.clip(np.searchsorted(self.values, x), 0, len(self.values) - 1)
            upper = self.probabilities[level]
            lower = np.where(level > 0, self.probabilities[np.maximum(level - 1, 0)], 0.0)
            return lower + rng.random(len(x)) * (upper - lower)
        left = np.searchsorted(self.values, x, side="left")
        right = np.searchsorted(self.values, x, side="right")
        tied = right - left > 1
        u = np.interp(x, self.values, self.probabilities)
        low = self.probabilities[np.minimum(left, len(self.values) - 1)]
        high = self.probabilities[np.maximum(right - 1, 0)]
        return np.where(tied, low + rng.random(len(x)) * (high - low), u)

    def encode(self, values: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        missing = np.isnan(values)
        u = self._uniforms(np.where(missing, self.values[len(self.values) // 2], values), rng)
        scores = ndtri(TAIL + (1 - 2 * TAIL) * u) / NORMAL_SCALE  # squeezed, not clipped: the ends come back
        codes = missing.astype(np.int64)[:, None] if self.nullable else np.zeros((len(values), 0), np.int64)
        return scores.astype(np.float32)[:, None], codes

    def decode(self, scalars: np.ndarray, codes: np.ndarray, rng: np.random.Generator,
               calibrate: bool = False) -> np.ndarray:
        scores = scalars[:, 0].astype(np.float64) * NORMAL_SCALE
        missing = codes[:, 0] == 1 if self.nullable else np.zeros(len(scores), bool)
        if calibrate and (~missing).sum() > 1:  # the batch's ranks onto the column's own quantiles
            present = np.flatnonzero(~missing)
            order = np.argsort(scores[present] + 1e-9 * rng.random(len(present)), kind="stable")
            u = np.empty(len(present))
            u[order] = (np.arange(len(present)) + rng.random(len(present))) / len(present)
            uniforms = np.full(len(scores), 0.5)
            uniforms[present] = u
        else:
            uniforms = np.clip((ndtr(scores) - TAIL) / (1 - 2 * TAIL), 0, 1)
        if self.discrete:
            index = np.minimum(np.searchsorted(self.probabilities, uniforms, side="left"), len(self.values) - 1)
            values = self.values[index]
        else:
            values = np.interp(uniforms, self.probabilities, self.values)
            if self.decimals is not None:
                values = np.clip(np.round(values, self.decimals), self.values[0], self.values[-1])
        values[missing] = np.nan
        return values

    def state(self) -> dict:
        return {"type": "quantile", "values": self.values.tolist(), "probabilities": self.probabilities.tolist(),
                "discrete": self.discrete, "decimals": self.decimals, "nullable": self.nullable}

    @classmethod
    def from_state(cls, state: dict) -> QuantileEncoder:
        return cls(state["values"], state["probabilities"], state["discrete"], state["decimals"],
                   state["nullable"])


DAY = 86_400.0
FEBRUARY_28 = 58 * DAY  # seconds from 1 January
SEASONAL_MIN_YEARS = 2.0  # a date column spanning this many years is generated with its day of the year too
DAILY_MIN_DAYS = 2.0  # one spanning this many days, with times that are not all midnight, with its time of day
WEEKLY_MIN_DAYS = 28.0  # and one spanning four weeks, on at least this many days of the month, its day of the week
WEEKLY_MIN_DAYS_OF_MONTH = 20  # (monthly rows on the first would be moved off it), where some day of the week
RARE_WEEKDAY = 0.5 / 7  # holds less than half its share (working days; every day alike, it only cost: a daily
# weather table's detection 0.661 -> 0.708)


def _leap(years: np.ndarray) -> np.ndarray:
    years = np.asarray(years, np.int64)
    return (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))


def _years_and_offsets(seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calendar year and seconds since that year began on a 365-day calendar, so that a day of the year is the
    same date in every year (in a leap year 28 and 29 February share the 28th's day, half each); NaN where
    missing."""
    missing = np.isnan(seconds)
    whole = np.floor(np.where(missing, 0.0, seconds)).astype(np.int64).astype("datetime64[s]")
    year = whole.astype("datetime64[Y]")
    years = (year.astype(np.int64) + 1970).astype(np.float64)
    offsets = np.where(missing, 0.0, seconds) - year.astype("datetime64[s]").astype(np.int64)
    offsets = offsets - np.where(_leap(years), np.clip(offsets - FEBRUARY_28, 0.0, 2 * DAY) / 2, 0.0)
    years[missing], offsets[missing] = np.nan, np.nan
    return years, offsets


def _dates(years: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Seconds since 1970 of a time `offsets` into each (whole) year on the 365-day calendar."""
    offsets = np.clip(offsets, 0.0, 365 * DAY - 1e-6)
    start = (np.asarray(years, np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[s]").astype(np.float64)
    return start + offsets + np.where(_leap(years), np.clip(offsets - FEBRUARY_28, 0.0, DAY), 0.0)


def _weekdays(seconds: np.ndarray) -> np.ndarray:
    """Day of the week, Monday 0 (1 January 1970 was a Thursday)."""
    return (np.floor(seconds / DAY) + 3) % 7


class SeasonalEncoder:
    """A date column as the date itself plus, each through its own QuantileEncoder: its time since its year
    began (where it spans two years or more), its day of the week (where its days fall on most days of the
    month, not on the first of each, and some day of the week is rare: working days) and its time of day (where
    it holds times). As one number, a temperature that peaks every July, or every afternoon, is a function with
    a cycle per year, or per day, of the column's range, which the generator did not learn (daily weather of
    four years: detection AUC 0.81, 0.52 without the day of the year), nor rows that come on working days only;
    as a time within the year, week or day it is one hump, while the date keeps trends a plain function.
    Decoding puts the time within the year in the year nearest the generated date, then moves to the nearest
    day of the week drawn, then puts the time of day on the day nearest that."""

    def __init__(self, dates: QuantileEncoder, offsets: QuantileEncoder | None, weekdays: QuantileEncoder | None,
                 times: QuantileEncoder | None, low: float, high: float, whole_days: bool = False):
        self.dates, self.offsets, self.weekdays, self.times = dates, offsets, weekdays, times
        self.low, self.high, self.whole_days = low, high, whole_days

    @staticmethod
    def parts(seconds: np.ndarray) -> tuple[bool, bool, bool]:
        """(spans years, comes on days of the week, holds times of day): which numbers a column gets beside its
        date."""
        observed = seconds[~np.isnan(seconds)]
        if len(observed) == 0:
            return False, False, False
        span = np.ptp(observed)
        stamps = np.floor(observed).astype(np.int64).astype("datetime64[s]")
        days_of_month = len(np.unique(stamps.astype("datetime64[D]") - stamps.astype("datetime64[M]")))
        rarest_weekday = np.bincount(_weekdays(observed).astype(np.int64), minlength=7).min() / len(observed)
        return (bool(span >= SEASONAL_MIN_YEARS * 365.25 * DAY),
                bool(span >= WEEKLY_MIN_DAYS * DAY and days_of_month >= WEEKLY_MIN_DAYS_OF_MONTH
                     and rarest_weekday < RARE_WEEKDAY),
                bool(span >= DAILY_MIN_DAYS * DAY and np.any(observed % DAY != 0)))

    @classmethod
    def fit(cls, seconds: np.ndarray) -> SeasonalEncoder:
        yearly, weekly, daily = cls.parts(seconds)
        present = seconds[~np.isnan(seconds)]
        offsets = QuantileEncoder.fit(_years_and_offsets(present)[1], 6) if yearly else None
        weekdays = QuantileEncoder.fit(_weekdays(present), 0) if weekly else None
        times = QuantileEncoder.fit(present % DAY, 6) if daily else None
        return cls(QuantileEncoder.fit(seconds, 6), offsets, weekdays, times, float(present.min()),
                   float(present.max()), bool(np.all(present % DAY == 0)))

    @property
    def _parts(self) -> list[QuantileEncoder | None]:
        return [self.offsets, self.weekdays, self.times]

    @property
    def scalar_count(self) -> int:
        return 1 + sum(part is not None for part in self._parts)

    @property
    def block_sizes(self) -> list[int]:
        return self.dates.block_sizes  # the date's missing-value indicator stands for the column's

    def encode(self, seconds: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        scores, codes = self.dates.encode(seconds, rng)
        views = (lambda: _years_and_offsets(seconds)[1], lambda: _weekdays(seconds), lambda: seconds % DAY)
        parts = [scores] + [part.encode(view(), rng)[0] for part, view in zip(self._parts, views) if part is not None]
        return np.concatenate(parts, axis=1), codes

    def decode(self, scalars: np.ndarray, codes: np.ndarray, rng: np.random.Generator,
               calibrate: bool = False) -> np.ndarray:
        dates = self.dates.decode(scalars[:, :1], codes, rng, calibrate)
        missing = np.isnan(dates)
        seconds, rows, none = np.where(missing, 0.0, dates), np.arange(len(dates)), np.zeros((len(dates), 0))
        drawn = iter(range(1, self.scalar_count))

        def part(encoder: QuantileEncoder) -> np.ndarray:
            at = next(drawn)
            return encoder.decode(scalars[:, at:at + 1], none, rng, calibrate)

        def nearest(candidates: np.ndarray) -> np.ndarray:
            return candidates[np.abs(candidates - seconds).argmin(axis=0), rows]

        if self.offsets is not None:
            offsets, years = part(self.offsets), _years_and_offsets(seconds)[0]
            seconds = nearest(np.stack([_dates(years + shift, offsets) for shift in (-1, 0, 1)]))
        if self.whole_days:  # onto its day before a day of the week is counted from it
            seconds = np.round(seconds / DAY) * DAY
        if self.weekdays is not None:
            # 0-6 days on, or 7 less that back; a date a second short of midnight is counted on the next day
            move = (np.round(part(self.weekdays)) - _weekdays(seconds + 1.0)) % 7
            seconds = seconds + np.where(move > 3, move - 7, move) * DAY
        if self.times is not None:
            times, days = np.clip(part(self.times), 0.0, DAY - 1e-6), np.floor(seconds / DAY) * DAY
            seconds = nearest(np.stack([days + shift * DAY + times for shift in (-1, 0, 1)]))
        seconds = np.clip(seconds, self.low, self.high)
        seconds[missing] = np.nan
        return seconds

    def state(self) -> dict:
        parts = {name: None if part is None else part.state()
                 for name, part in zip(("offsets", "weekdays", "times"), self._parts)}
        return {"type": "seasonal", "dates": self.dates.state(), **parts, "low": self.low, "high": self.high,
                "whole_days": self.whole_days}

    @classmethod
    def from_state(cls, state: dict) -> SeasonalEncoder:
        def part(name: str) -> QuantileEncoder | None:
            return None if state.get(name) is None else QuantileEncoder.from_state(state[name])

        return cls(QuantileEncoder.from_state(state["dates"]), part("offsets"), part("weekdays"), part("times"),
                   state["low"], state["high"], state.get("whole_days", False))
