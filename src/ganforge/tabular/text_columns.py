"""Free-text and name-like columns, generated character by character instead of drawn from the training
values, so a synthetic table does not hand back real names, titles or addresses.

Each text column gets its own character-level language model (the text package's generator, trained by
maximum likelihood only: the adversarial phase costs minutes per column and, on short strings, has not been
shown to help). The column is generated independently of the other columns: a synthetic row's name does not
follow its other values (a first name does not follow the row's sex); the README says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ..config import TabularConfig
from ..errors import GanforgeError
from ..schema import ColumnSpec
from ..text.synthesizer import TextSynthesizer

PREFIX = "text_column"
MAX_CHARACTERS = 64  # longer values are cut for learning (the model writes at most this many characters)
BATCH = 128
EPOCHS, MIN_STEPS = 30, 600  # without text_epochs: a few hundred names are two batches, and 30 epochs were 60
# steps that wrote gibberish; the model stops anyway once its held-out loss stalls (290 steps on 234 car names)


def fit_text_columns(data, schema: list[ColumnSpec], config: TabularConfig, seed: int | None,
                     device: str) -> dict[str, TextSynthesizer]:
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
        models[spec.name] = TextSynthesizer(
            level="char", adversarial="none", mle_epochs=epochs, hidden_dim=config.text_hidden_dim,
            max_length=longest, batch_size=BATCH, seed=seed, device=device, temperature=1.0).fit(values)
    return models


def fill_text_columns(frame: pd.DataFrame, models: dict[str, TextSynthesizer], schema: list[ColumnSpec],
                      rng: np.random.Generator) -> pd.DataFrame:
    """Write generated values into the text columns of a decoded frame, missing at the column's null rate."""
    specs = {spec.name: spec for spec in schema}
    for name, model in models.items():
        seed = int(rng.integers(2**31 - 1))
        values = pd.Series(model.sample(len(frame), seed=seed), index=frame.index, dtype=object)
        values[values == ""] = None
        null_rate = specs[name].null_rate or 0.0
        if null_rate > 0:
            values[rng.random(len(frame)) < null_rate] = None
        frame[name] = values.astype(specs[name].dtype) if specs[name].dtype == "string" else values
    return frame


def text_columns_state(models: dict[str, TextSynthesizer]) -> tuple[list[dict], dict[str, torch.Tensor]]:
    """JSON entries (name, settings, vocabulary) and the weights, named by the column's position."""
    entries, weights = [], {}
    for index, (name, model) in enumerate(models.items()):
        config, own = model.state()
        entries.append({"name": name, **config})
        weights |= {f"{PREFIX}.{index}.{key}": value for key, value in own.items()}
    return entries, weights


def text_columns_from_state(entries: list[dict], weights: dict[str, torch.Tensor], source,
                            device: str) -> dict[str, TextSynthesizer]:
    models = {}
    for index, entry in enumerate(entries):
        prefix = f"{PREFIX}.{index}."
        own = {key[len(prefix):]: value for key, value in weights.items() if key.startswith(prefix)}
        models[entry["name"]] = TextSynthesizer.from_state(entry, own, source, device)
    return models
