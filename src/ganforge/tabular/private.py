"""The column transform under differential privacy: every statistic it takes from the real rows is noisy.

The statistics budget (epsilon_s, delta_s) is split evenly over the modelled columns (basic composition):

- categories, booleans and constants: Laplace-noised counts of the observed levels; a level is released only
  when its noisy count clears 1 + ln(1 / (2 delta)) / epsilon (Laplace thresholding), so a level held by one
  row stays hidden. With public levels declared, those are counted with noise and all kept.
- numbers and dates: a noisy histogram over power-of-two magnitude bins finds the range (unless public
  bounds are declared), and a noisy 64-bin histogram over that range its shape; the mixture modes are fitted
  to draws from the noisy histogram, which is post-processing and costs nothing more.
- whether a number or date column has missing values: a Laplace-noised count of them against a threshold;
- data-dependent details that would leak single rows are dropped: numbers are rounded by their kind
  (integers) and never snapped onto real values,
  identifiers are numbered from 1, and the stored null rates are left out.

Not covered: the column kinds, which are inferred from the data unless declared (`column_kinds`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from pandas.api import types

from ..config import PrivacyConfig, TabularConfig
from ..errors import GanforgeError
from .encoders import CategoricalEncoder, ContinuousEncoder, to_python
from .schema import ColumnSpec, datetime_seconds
from .transform import SECONDS_PER_DAY, ColumnTransform, TableTransform

SMALLEST_POWER, LARGEST_POWER = -30, 63  # magnitude bins [2^k, 2^(k+1)) for k in this range, and zero
SHAPE_BINS = 64
DRAWS = 5000  # draws from the noisy histogram that the mixture is fitted to; more add nothing to 64 bins
EMPTY_BIN_RISK = 0.05  # chance that some empty magnitude bin passes the range threshold by noise alone


def fit_private_transform(frame, schema: list[ColumnSpec], config: TabularConfig, privacy: PrivacyConfig,
                          epsilon: float, delta: float, rng: np.random.Generator) -> TableTransform:
    """The transform's statistics at (epsilon, delta) in total, read one column at a time."""
    texts = [spec.name for spec in schema if spec.kind == "text"]
    if texts:
        raise GanforgeError(f"column {texts[0]!r} is free text, which differential privacy does not cover yet: "
                            f"drop it, or declare it --column-kind {texts[0]}=id (new identifiers, nothing learned)")
    modelled = [spec for spec in schema if spec.kind != "id"]
    epsilon_column = epsilon / max(1, len(modelled))
    delta_column = delta / max(1, len(modelled))
    columns = []
    for spec in schema:
        values = frame[spec.name]
        spec = dataclasses.replace(spec, null_rate=None)  # a stored rate would be an exact statistic
        columns.append(_fit_column(values, spec, config, privacy, epsilon_column, delta_column, rng))
    return TableTransform(columns)


def _fit_column(values: pd.Series, spec: ColumnSpec, config: TabularConfig, privacy: PrivacyConfig,
                epsilon: float, delta: float, rng: np.random.Generator) -> ColumnTransform:
    if spec.kind == "id":
        return ColumnTransform(spec, None, {"start": 1})
    if spec.kind in ("categorical", "boolean", "constant"):
        levels, counts = noisy_levels(values, spec.name, epsilon, delta, rng,
                                      privacy.dp_public_categories.get(spec.name))
        if spec.kind == "constant":
            if len(levels) != 1:
                raise GanforgeError(f"column {spec.name!r}: its constant value is not frequent enough to release "
                                    "under this privacy budget; declare it with dp_public_categories")
            return ColumnTransform(spec, None, {"value": levels[0]})
        top = len(levels) if len(levels) <= config.max_categories else config.max_categories - 1
        return ColumnTransform(spec, CategoricalEncoder(levels, counts, top))
    numbers = datetime_seconds(values, spec) if spec.kind == "datetime" else values
    numbers = numbers.to_numpy(np.float64, na_value=np.nan)
    missing = int(values.isna().sum())
    numbers = numbers[~np.isnan(numbers)]
    # a quarter of the column's budget says whether values are ever missing, the rest finds range and shape
    nullable = missing + rng.laplace(0, 4 / epsilon) > math.log(1 / EMPTY_BIN_RISK) * 4 / epsilon
    public = privacy.dp_public_bounds.get(spec.name)
    if public is None:
        low, high = private_range(numbers, spec.name, epsilon * 3 / 8, rng)
        shape_epsilon = epsilon * 3 / 8
    else:
        low, high = float(public[0]), float(public[1])
        shape_epsilon = epsilon * 3 / 4
    draws = noisy_histogram_draws(numbers, low, high, shape_epsilon, min(config.mixture_sample_size, DRAWS), rng)
    decimals = 0 if spec.kind == "integer" else (6 if spec.kind == "datetime" else None)
    encoder = ContinuousEncoder.fit(draws, config.max_modes, config.mixture_sample_size, rng, decimals=decimals)
    encoder.minimum, encoder.maximum, encoder.support, encoder.support_counts = low, high, None, None
    encoder.nullable = bool(nullable)
    extra = {}
    if spec.kind == "datetime":
        daily = spec.datetime_format is not None and not any(p in spec.datetime_format for p in ("%H", "%M", "%S"))
        extra = {"step_seconds": SECONDS_PER_DAY if daily else None}
    return ColumnTransform(spec, encoder, extra)


def noisy_levels(values: pd.Series, name: str, epsilon: float, delta: float, rng: np.random.Generator,
                 public: list | None = None) -> tuple[list, list[int]]:
    """Levels and their noisy counts, most frequent first. Without `public`, only levels whose noisy count
    clears the Laplace threshold are released: (epsilon, delta)-DP for a histogram with unknown keys."""
    observed = values.value_counts(dropna=False)
    observed.index = [to_python(v) for v in observed.index]
    if public is not None:
        levels = [to_python(v) for v in public]
        if values.isna().any() or not types.is_integer_dtype(values.dtype):
            levels = levels + ([None] if None not in levels else [])
        noisy = np.asarray([observed.get(level, 0) for level in levels], dtype=float)
        noisy = noisy + rng.laplace(0, 1 / epsilon, len(levels))
        keep = np.ones(len(levels), dtype=bool)
    else:
        levels = list(observed.index)
        noisy = observed.to_numpy(dtype=float) + rng.laplace(0, 1 / epsilon, len(levels))
        keep = noisy >= 1 + math.log(1 / (2 * delta)) / epsilon
        if not keep.any():
            raise GanforgeError(f"column {name!r}: no value is frequent enough to release under this privacy "
                                "budget; declare its categories (dp_public_categories) or raise epsilon")
    order = np.argsort(-noisy[keep], kind="stable")
    kept = [level for level, k in zip(levels, keep) if k]
    counts = np.maximum(np.round(noisy[keep]), 1).astype(int)
    return [kept[i] for i in order], [int(counts[i]) for i in order]


def _magnitude_bins() -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edges of the range bins, in value order: negative magnitudes, zero, positive."""
    powers = np.arange(SMALLEST_POWER, LARGEST_POWER + 1, dtype=float)
    negative = (-(2.0 ** (powers[::-1] + 1)), -(2.0 ** powers[::-1]))
    zero = (np.asarray([-(2.0 ** SMALLEST_POWER)]), np.asarray([2.0 ** SMALLEST_POWER]))
    positive = (2.0 ** powers, 2.0 ** (powers + 1))
    return (np.concatenate([negative[0], zero[0], positive[0]]), np.concatenate([negative[1], zero[1], positive[1]]))


def private_range(numbers: np.ndarray, name: str, epsilon: float, rng: np.random.Generator) -> tuple[float, float]:
    """[low, high] covering the values, from Laplace-noised counts over fixed magnitude bins (epsilon-DP):
    the outermost bins whose noisy count clears a threshold that empty bins almost never reach."""
    lower, upper = _magnitude_bins()
    clipped = np.clip(numbers, lower[0], upper[-1])
    bins = np.clip(np.searchsorted(upper, clipped, side="right"), 0, len(upper) - 1)
    counts = np.bincount(bins, minlength=len(upper)).astype(float)
    noisy = counts + rng.laplace(0, 1 / epsilon, len(counts))
    passing = np.flatnonzero(noisy > math.log(len(counts) / EMPTY_BIN_RISK) / epsilon)
    if len(passing) == 0:
        raise GanforgeError(f"column {name!r}: too few values to estimate its range under this privacy budget; "
                            "declare it (dp_public_bounds) or raise epsilon")
    return float(lower[passing[0]]), float(upper[passing[-1]])


def noisy_histogram_draws(numbers: np.ndarray, low: float, high: float, epsilon: float, size: int,
                          rng: np.random.Generator) -> np.ndarray:
    """`size` values drawn from a Laplace-noised histogram of the values clipped to [low, high] (epsilon-DP;
    the draws are post-processing): what the mixture modes are fitted to."""
    edges = np.linspace(low, high, SHAPE_BINS + 1)
    counts = np.histogram(np.clip(numbers, low, high), bins=edges)[0].astype(float)
    noisy = np.maximum(counts + rng.laplace(0, 1 / epsilon, SHAPE_BINS), 0)
    weights = noisy / noisy.sum() if noisy.sum() > 0 else np.full(SHAPE_BINS, 1 / SHAPE_BINS)
    chosen = rng.choice(SHAPE_BINS, size=size, p=weights)
    return edges[chosen] + rng.random(size) * (edges[1] - edges[0])


def privacy_coverage(epsilon_statistics: float, delta_statistics: float, config: PrivacyConfig) -> dict:
    """What a DP model's guarantee covers, in words and numbers, for its metadata, `info` and reports."""
    public = sorted(set(config.dp_public_bounds) | set(config.dp_public_categories))
    return {"epsilon_budget": config.dp_epsilon, "delta_budget": config.dp_delta,
            "statistics": {"epsilon": epsilon_statistics, "delta": delta_statistics},
            "covers": "every use of the real rows: discriminator training (DP-SGD) and the column statistics "
                      "(category lists and counts, numeric ranges, mixture modes, condition frequencies)",
            "not_covered": "the column kinds inferred from the data (declare them with --column-kind)"
                           + (f"; values declared public for {', '.join(public)}" if public else "")}
