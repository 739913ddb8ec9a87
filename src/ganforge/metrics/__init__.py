"""The maths of the scores, one module per kind of data (tabular, privacy, image features, text). Putting them
together for a data set lives with each modality: `tabular/evaluate.py`, `image/evaluate.py`,
`text/evaluate.py`. `ganforge.metrics.evaluate` is the table evaluation, kept here for existing code."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("evaluate", "verdict"):
        from ..tabular import evaluate as module

        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
