"""The whole table's reversible transform: each column's values <-> (tanh scalars, one-hot codes).

The generator's output is laid out as [all scalars | block 1 | block 2 | ...]; `TableTransform` knows which
slice belongs to which column and which blocks can carry a condition (the categorical ones).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import TabularConfig
from .encoders import CategoricalEncoder, ContinuousEncoder, to_python
from .schema import EPOCH, ColumnSpec, datetime_seconds

DISCRETE_INTEGER_LEVELS = 32  # integers with at most this many values are encoded as categories
SECONDS_PER_DAY = 86_400


class ColumnTransform:
    """One column: converts its values to what its encoder wants and back to the column's own dtype."""

    def __init__(self, spec: ColumnSpec, encoder: CategoricalEncoder | ContinuousEncoder | None,
                 extra: dict | None = None):
        self.spec, self.encoder, self.extra = spec, encoder, dict(extra or {})

    @classmethod
    def fit(cls, values: pd.Series, spec: ColumnSpec, config: TabularConfig,
            rng: np.random.Generator) -> "ColumnTransform":
        kind = spec.kind
        if kind == "constant":
            observed = values.dropna()
            return cls(spec, None, {"value": to_python(observed.iloc[0]) if len(observed) else None})
        if kind == "id":
            return cls(spec, None, _fit_id(values))
        if kind in ("categorical", "boolean") or (
                kind == "integer" and values.nunique() <= DISCRETE_INTEGER_LEVELS):
            return cls(spec, CategoricalEncoder.fit(_categorical_values(values), config.max_categories))
        if kind == "datetime":
            seconds = datetime_seconds(values, spec)
            observed = seconds.dropna().to_numpy()
            step = SECONDS_PER_DAY if np.all(observed % SECONDS_PER_DAY == 0) else (
                1 if np.all(observed % 1 == 0) else None)
            encoder = ContinuousEncoder.fit(seconds.to_numpy(np.float64), config.max_modes,
                                            config.mixture_sample_size, rng, decimals=6)
            return cls(spec, encoder, {"step_seconds": step})
        decimals = 0 if kind == "integer" else None
        encoder = ContinuousEncoder.fit(values.to_numpy(np.float64, na_value=np.nan), config.max_modes,
                                        config.mixture_sample_size, rng, decimals=decimals)
        return cls(spec, encoder)

    @property
    def scalar_count(self) -> int:
        return self.encoder.scalar_count if self.encoder else 0

    @property
    def block_sizes(self) -> list[int]:
        return self.encoder.block_sizes if self.encoder else []

    @property
    def is_discrete(self) -> bool:
        return isinstance(self.encoder, CategoricalEncoder)

    def encode(self, values: pd.Series, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if self.encoder is None:
            return np.zeros((len(values), 0), np.float32), np.zeros((len(values), 0), np.int64)
        if self.is_discrete:
            return self.encoder.encode(_categorical_values(values))
        if self.spec.kind == "datetime":
            numbers = datetime_seconds(values, self.spec).to_numpy(np.float64)
        else:
            numbers = values.to_numpy(np.float64, na_value=np.nan)
        return self.encoder.encode(numbers, rng)

    def decode(self, scalars: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        n = len(scalars)
        if self.spec.kind == "constant":
            values = np.full(n, self.extra["value"], dtype=object)
        elif self.spec.kind == "id":
            values = _sample_ids(self.extra, n, rng)
        else:
            values = self.encoder.decode(scalars, codes, rng)
        if self.spec.kind == "datetime":
            return self._restore_datetimes(values)
        return _restore_dtype(pd.Series(values, name=self.spec.name), self.spec.dtype)

    def _restore_datetimes(self, seconds: np.ndarray) -> pd.Series:
        step = self.extra.get("step_seconds")
        if step:
            seconds = np.round(seconds / step) * step
        stamps = pd.Series(EPOCH + pd.to_timedelta(seconds, unit="s"), name=self.spec.name)
        if self.spec.datetime_format is not None:
            return _restore_dtype(stamps.dt.strftime(self.spec.datetime_format), self.spec.dtype)
        if "," in self.spec.dtype:  # timezone-aware, e.g. "datetime64[ns, Europe/Paris]"
            timezone = self.spec.dtype.split(",", 1)[1].rstrip("]").strip()
            return stamps.dt.tz_localize("UTC").dt.tz_convert(timezone)
        return _restore_dtype(stamps, self.spec.dtype)

    def state(self) -> dict:
        return {"spec": self.spec.to_dict(), "encoder": self.encoder.state() if self.encoder else None,
                "extra": self.extra}

    @classmethod
    def from_state(cls, state: dict) -> "ColumnTransform":
        encoder_state = state["encoder"]
        encoder = None
        if encoder_state is not None:
            kinds = {"categorical": CategoricalEncoder, "continuous": ContinuousEncoder}
            encoder = kinds[encoder_state["type"]].from_state(encoder_state)
        return cls(ColumnSpec(**state["spec"]), encoder, state["extra"])


def _categorical_values(values: pd.Series) -> pd.Series:
    """Mixed-type object columns (1 and '1') are compared as text so each level has one spelling."""
    if values.dtype == object:
        observed = values.dropna()
        if len({type(v) for v in observed}) > 1:
            return values.where(values.isna(), values.astype(str))
    return values


def _restore_dtype(values: pd.Series, dtype: str) -> pd.Series:
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values.infer_objects()


def _fit_id(values: pd.Series) -> dict:
    """Identifiers are never learned or copied: new ones are made in the same shape."""
    observed = values.dropna()
    if pd.api.types.is_numeric_dtype(values.dtype):
        return {"start": to_python(observed.min())}
    template = str(observed.iloc[len(observed) // 2])
    return {"template": template}


def _sample_ids(extra: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    if "start" in extra:
        return extra["start"] + np.arange(n)
    alphabet = {"digit": string.digits, "upper": string.ascii_uppercase, "lower": string.ascii_lowercase}
    columns = []
    for character in extra["template"]:
        kind = "digit" if character.isdigit() else "upper" if character.isupper() else (
            "lower" if character.islower() else None)
        if kind is None:
            columns.append(np.full(n, character))
        else:
            columns.append(np.asarray(list(alphabet[kind]))[rng.integers(len(alphabet[kind]), size=n)])
    if not columns:
        return np.asarray([str(i) for i in range(n)], dtype=object)
    return np.asarray(["".join(parts) for parts in zip(*columns)], dtype=object)


@dataclass(frozen=True)
class Layout:
    """Where each column lives in the generator's output."""

    n_scalars: int
    block_sizes: tuple[int, ...]
    conditional_blocks: tuple[int, ...]  # indices of blocks that are categorical columns

    @property
    def width(self) -> int:
        return self.n_scalars + sum(self.block_sizes)

    @property
    def block_offsets(self) -> np.ndarray:
        return self.n_scalars + np.concatenate([[0], np.cumsum(self.block_sizes)[:-1]]).astype(np.int64)


class TableTransform:
    def __init__(self, columns: list[ColumnTransform]):
        self.columns = columns
        self.layout = self._layout()

    @classmethod
    def fit(cls, frame: pd.DataFrame, schema: list[ColumnSpec], config: TabularConfig,
            rng: np.random.Generator) -> "TableTransform":
        return cls([ColumnTransform.fit(frame[spec.name], spec, config, rng) for spec in schema])

    def _layout(self) -> Layout:
        n_blocks, conditional, sizes = 0, [], []
        for column in self.columns:
            if column.is_discrete:
                conditional.append(n_blocks)
            sizes.extend(column.block_sizes)
            n_blocks += len(column.block_sizes)
        return Layout(sum(c.scalar_count for c in self.columns), tuple(sizes), tuple(conditional))

    def column_block(self, name: str) -> int:
        """The block index of a categorical column, for conditioning on its values."""
        n_blocks = 0
        for column in self.columns:
            if column.spec.name == name:
                return n_blocks
            n_blocks += len(column.block_sizes)
        raise KeyError(name)

    def category_counts(self) -> list[np.ndarray]:
        """Code frequencies of each conditional block (the 'other' code sums the rare levels)."""
        counts = []
        for column in self.columns:
            if column.is_discrete:
                encoder = column.encoder
                head = encoder.counts[:encoder.top]
                tail = [sum(encoder.counts[encoder.top:])] if encoder.top < len(encoder.levels) else []
                counts.append(np.asarray(head + tail, dtype=np.int64))
        return counts

    def encode(self, frame: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(scalars float32 [rows, n_scalars], codes int64 [rows, n_blocks])."""
        parts = [column.encode(frame[column.spec.name], rng) for column in self.columns]
        scalars = np.concatenate([p[0] for p in parts], axis=1) if parts else np.zeros((len(frame), 0))
        codes = np.concatenate([p[1] for p in parts], axis=1)
        return scalars.astype(np.float32), codes.astype(np.int64)

    def decode(self, scalars: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        out, scalar_at, block_at = {}, 0, 0
        for column in self.columns:
            n_scalars, n_blocks = column.scalar_count, len(column.block_sizes)
            out[column.spec.name] = column.decode(scalars[:, scalar_at:scalar_at + n_scalars],
                                                  codes[:, block_at:block_at + n_blocks], rng).reset_index(drop=True)
            scalar_at += n_scalars
            block_at += n_blocks
        return pd.DataFrame(out)

    def state(self) -> list[dict]:
        return [column.state() for column in self.columns]

    @classmethod
    def from_state(cls, state: list[dict]) -> "TableTransform":
        return cls([ColumnTransform.from_state(s) for s in state])
