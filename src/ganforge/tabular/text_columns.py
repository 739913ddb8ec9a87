"""Free-text and name-like columns, generated character by character instead of drawn from the training
values, so a synthetic table does not hand back real names, titles or addresses.

Each text column gets its own character-level language model (the text package's generator, trained by
maximum likelihood only: the adversarial phase costs minutes per column and, on short strings, has not been
shown to help). The column is generated independently of the other columns: a synthetic row's name does not
follow its other values (a first name does not follow the row's sex); the README says so.

A character model of a few hundred titles learns many of them by heart (126 journal titles: 59% of the sampled
ones were real titles), so sampling draws again any value that repeats a training value (`SeenValues`: keyed
hashes, so the model folder does not hold the values themselves).
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..config import TabularConfig
from ..errors import GanforgeError
from ..schema import ColumnSpec
from ..text.synthesizer import TextSynthesizer

log = logging.getLogger(__name__)
PREFIX = "text_column"
MAX_CHARACTERS = 64  # longer values are cut for learning (the model writes at most this many characters)
BATCH = 128
EPOCHS, MIN_STEPS = 30, 600  # without text_epochs: a few hundred names are two batches, and 30 epochs were 60
# steps that wrote gibberish; the model stops anyway once its held-out loss stalls (290 steps on 234 car names)
REDRAWS = 50  # rounds of fresh draws for the values that repeat a training value


def _normalised(text: str) -> str:
    """A value as it is compared with the training values: case and runs of spaces do not make it new."""
    return " ".join(str(text).split()).casefold()


class SeenValues:
    """A text column's training values as 64-bit keyed hashes (BLAKE2b): enough to tell that a generated value
    repeats one, not to read them back. The key is random per fit and stored beside the hashes, so the hashes
    of one model say nothing about another's; whoever holds the model can still test a guessed value, as they
    could by its likelihood under the weights."""

    def __init__(self, key: bytes, hashes: np.ndarray):
        self.key, self.hashes = key, np.unique(np.asarray(hashes, np.int64))

    @classmethod
    def of(cls, values: list[str]) -> SeenValues:
        key = secrets.token_bytes(16)
        return cls(key, np.asarray([cls._hash(key, v) for v in values], np.int64))

    @staticmethod
    def _hash(key: bytes, text: str) -> int:
        digest = hashlib.blake2b(_normalised(text).encode(), digest_size=8, key=key).digest()
        return int.from_bytes(digest, "little", signed=True)

    def holds(self, texts: list[str]) -> np.ndarray:
        hashed = np.asarray([self._hash(self.key, t) for t in texts], np.int64)
        return np.isin(hashed, self.hashes)


@dataclass
class TextColumn:
    """A text column's character model and its training values' hashes (None in a model saved before they
    were kept: its values are not checked)."""

    model: TextSynthesizer
    seen: SeenValues | None


def fit_text_columns(data, schema: list[ColumnSpec], config: TabularConfig, seed: int | None,
                     device: str) -> dict[str, TextColumn]:
    """One fitted character model per text column of `schema`, in the schema's order."""
    models = {}
    for spec in schema:
        if spec.kind != "text":
            continue
        values = [str(v).strip() for v in data[spec.name].dropna()]
        values = [v for v in values if v]
        if len(values) < 2:
            raise GanforgeError(f"column {spec.name!r}: a text column needs at least two non-empty values")
        longest = min(MAX_CHARACTERS, max(map(len, values))) + 1
        epochs = config.text_epochs or max(EPOCHS, math.ceil(MIN_STEPS / math.ceil(len(values) / BATCH)))
        model = TextSynthesizer(
            level="char", adversarial="none", mle_epochs=epochs, hidden_dim=config.text_hidden_dim,
            max_length=longest, batch_size=BATCH, seed=seed, device=device, temperature=1.0).fit(values)
        models[spec.name] = TextColumn(model, SeenValues.of(values))
    return models


def fill_text_columns(frame: pd.DataFrame, models: dict[str, TextColumn], schema: list[ColumnSpec],
                      rng: np.random.Generator) -> pd.DataFrame:
    """Write generated values into the text columns of a decoded frame, missing at the column's null rate."""
    specs = {spec.name: spec for spec in schema}
    for name, column in models.items():
        values = pd.Series(_new_values(name, column, len(frame), rng), index=frame.index, dtype=object)
        values[values == ""] = None
        null_rate = specs[name].null_rate or 0.0
        if null_rate > 0:
            values[rng.random(len(frame)) < null_rate] = None
        frame[name] = values.astype(specs[name].dtype) if specs[name].dtype == "string" else values
    return frame


def _new_values(name: str, column: TextColumn, count: int, rng: np.random.Generator) -> list:
    """`count` generated values, each repeating a training value drawn again (REDRAWS rounds; any still
    repeating one after them come out missing, and the log says how many)."""
    model, seen = column.model, column.seen
    texts: list = model.sample(count, seed=int(rng.integers(2**31 - 1)))
    if seen is None:
        return texts
    repeats = np.flatnonzero(seen.holds(texts))
    for _ in range(REDRAWS):
        if len(repeats) == 0:
            return texts
        fresh = model.sample(len(repeats), seed=int(rng.integers(2**31 - 1)))
        for index, text in zip(repeats, fresh):
            texts[index] = text
        repeats = repeats[seen.holds(fresh)]  # only the values just drawn can repeat one now
    if len(repeats):
        log.warning("column %r: %d generated values still repeated training values after %d draws; they are left "
                    "missing", name, len(repeats), REDRAWS)
        for index in repeats:
            texts[index] = None
    return texts


def text_columns_state(models: dict[str, TextColumn]) -> tuple[list[dict], dict[str, torch.Tensor]]:
    """JSON entries (name, settings, vocabulary) and the weights, named by the column's position."""
    entries, weights = [], {}
    for index, (name, column) in enumerate(models.items()):
        config, own = column.model.state()
        seen = column.seen
        if seen is not None:
            config["seen_key"] = seen.key.hex()
            own = own | {"seen": torch.as_tensor(seen.hashes)}
        entries.append({"name": name, **config})
        weights |= {f"{PREFIX}.{index}.{key}": value for key, value in own.items()}
    return entries, weights


def text_columns_from_state(entries: list[dict], weights: dict[str, torch.Tensor], source,
                            device: str) -> dict[str, TextColumn]:
    models = {}
    for index, entry in enumerate(entries):
        prefix = f"{PREFIX}.{index}."
        own = {key[len(prefix):]: value for key, value in weights.items() if key.startswith(prefix)}
        hashes, seen = own.pop("seen", None), None
        if hashes is not None:
            try:
                seen = SeenValues(bytes.fromhex(entry["seen_key"]), hashes.cpu().numpy())
            except (KeyError, TypeError, ValueError):
                raise GanforgeError(f"{source}: text column {entry['name']!r} has hashes but no valid "
                                    "seen_key") from None
        models[entry["name"]] = TextColumn(TextSynthesizer.from_state(entry, own, source, device), seen)
    return models
