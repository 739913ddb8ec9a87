"""Pairs of category levels that no training row holds together where chance would have put many rows there:
a sports car never electric in a choice experiment's design, a city's size class never in another region. A
generator only makes such a cell rare, and a detector reads the rows off it (pydataset's `Car`, 70 columns:
538 pairs of columns with such cells, 6.7% of the sampled rows in them on average, detection AUC 1.00).

Found on the encoded training rows (category codes), each pair of category columns of at most MAX_LEVELS
levels: a cell is excluded where it is empty and independent columns would have put so many rows there that
some possible cell of the table staying empty by chance has odds under RISK. Sampling then draws the later
column of an excluded pair again, from the generator's own probabilities for that row restricted to the
levels allowed beside the codes already drawn (`repair`), so a row keeps what the generator made of it and
only the impossible pair moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .networks import Blocks, gumbel_noise
from .transform import Layout

Tensor = torch.Tensor
MAX_LEVELS = 64  # columns with more levels are left alone (a code's cells would be too thin to call empty)
RISK = 1e-3  # chance that some cell of the tables looked at is empty by chance alone, with all of them possible
MIN_ROWS = 50  # fewer rows leave no cell expected to hold enough of them


@dataclass
class Exclusion:
    """Cells of two category blocks (`first` < `second`, block indices) that never occur together."""

    first: int
    second: int
    cells: np.ndarray  # bool, (size of first, size of second)
    _mask: Tensor | None = field(default=None, repr=False, compare=False)

    def mask(self, device: torch.device) -> Tensor:
        """`cells` as a tensor on `device`, made once: sampling and the row critic's fit draw many batches."""
        if self._mask is None or self._mask.device != device:
            self._mask = torch.as_tensor(self.cells, device=device)
        return self._mask

    def state(self) -> dict:
        return {"first": self.first, "second": self.second,
                "cells": [[int(i), int(j)] for i, j in zip(*np.nonzero(self.cells))]}

    @classmethod
    def from_state(cls, state: dict, layout: Layout) -> Exclusion:
        first, second = int(state["first"]), int(state["second"])
        cells = np.zeros((layout.block_sizes[first], layout.block_sizes[second]), bool)
        for i, j in state["cells"]:
            cells[i, j] = True
        return cls(first, second, cells)


def find_exclusions(codes: np.ndarray, layout: Layout) -> list[Exclusion]:
    """The excluded cells of every pair of category blocks of `codes` (rows x blocks)."""
    blocks = [b for b in layout.conditional_blocks if 2 <= layout.block_sizes[b] <= MAX_LEVELS]
    if len(codes) < MIN_ROWS or len(blocks) < 2:
        return []
    pairs = [(a, b) for i, a in enumerate(blocks) for b in blocks[i + 1:]]
    cells = sum(layout.block_sizes[a] * layout.block_sizes[b] for a, b in pairs)
    # an empty cell that independent columns expect e rows in happens by chance with odds about exp(-e)
    least = math.log(cells / RISK)
    found = []
    for a, b in pairs:
        size_a, size_b = layout.block_sizes[a], layout.block_sizes[b]
        joint = np.bincount(codes[:, a] * size_b + codes[:, b], minlength=size_a * size_b).reshape(size_a, size_b)
        expected = np.outer(joint.sum(axis=1), joint.sum(axis=0)) / len(codes)
        empty = (joint == 0) & (expected >= least)
        if empty.any():
            found.append(Exclusion(a, b, empty))
    return found


def repair(codes: Tensor, logits: Tensor, exclusions: list[Exclusion], blocks: Blocks,
           generator: torch.Generator | None = None) -> Tensor:
    """`codes` with every excluded pair drawn again: block by block in order, the rows whose code the blocks
    before it exclude take a new one from softmax(logits) over the codes they allow (a row they leave no code
    keeps its own). `logits`: the block logits the codes were drawn from."""
    if not exclusions:
        return codes
    codes = codes.clone()
    by_second: dict[int, list[Exclusion]] = {}
    for exclusion in exclusions:
        by_second.setdefault(exclusion.second, []).append(exclusion)
    starts = blocks.starts.tolist()
    for second in sorted(by_second):
        size = int((blocks.index == second).sum())
        allowed = torch.ones(len(codes), size, dtype=torch.bool, device=codes.device)
        for exclusion in by_second[second]:
            allowed &= ~exclusion.mask(codes.device)[codes[:, exclusion.first]]
        own = allowed.gather(1, codes[:, second:second + 1]).squeeze(1)
        redraw = ~own & allowed.any(dim=1)
        if not redraw.any():
            continue
        part = logits[redraw, starts[second]:starts[second] + size]
        noisy = torch.where(allowed[redraw], part + gumbel_noise(part, generator), -math.inf)
        codes[redraw, second] = noisy.argmax(dim=1)
    return codes


def summary(exclusions: list[Exclusion], names: list[str]) -> dict:
    """What `fit` and `info` say: how many level pairs never occur, in how many column pairs, the first few.
    `names`: the column of each block."""
    pairs = [f"{names[e.first]} & {names[e.second]}" for e in exclusions]
    cells = sum(int(e.cells.sum()) for e in exclusions)
    one = cells == 1
    return {"cells": cells, "column_pairs": len(exclusions),
            "reason": f"{_count(cells, 'pair')} of levels in {_count(len(exclusions), 'pair')} of columns never "
                      f"occur{'s' if one else ''} in a training row where chance would have put many there, so "
                      f"{'it is' if one else 'they are'} never sampled ({', '.join(pairs[:3])}"
                      f"{', ...' if len(pairs) > 3 else ''})"}


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
