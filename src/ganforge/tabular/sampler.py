"""Conditional vectors and training-by-sampling (Xu et al. 2019, section 4.3), vectorised on the device.

During training a categorical column is picked uniformly, one of its categories with probability proportional
to log(1 + frequency), and a real row holding that category; the generator is asked for the same category.
Rare categories are thus seen far more often than their share, and the critic judges them like any other.
"""

from __future__ import annotations

import numpy as np
import torch

from .transform import Layout

Tensor = torch.Tensor


class ConditionSampler:
    def __init__(self, layout: Layout, category_counts: list[np.ndarray], device: torch.device,
                 codes: np.ndarray | None = None, focus: list[int] | None = None):
        """`category_counts` holds each conditional block's code frequencies; `codes` (the encoded table's
        block codes, one row per real row) is needed for training only. `focus` (indices among the conditional
        columns) limits which columns are picked, so the generator spends every step on their conditionals."""
        self.device = device
        self.focus = None if not focus else torch.as_tensor(focus, device=device)
        self.blocks = list(layout.conditional_blocks)
        sizes = [layout.block_sizes[b] for b in self.blocks]
        self.width = int(sum(sizes))
        self.n_columns = len(self.blocks)
        self.n_rows = 0 if codes is None else len(codes)
        self.codes = None if codes is None else torch.as_tensor(codes, device=device)  # shared with the trainer
        if not self.blocks:
            return
        counts = np.zeros((self.n_columns, max(sizes)), dtype=np.int64)
        for j, column_counts in enumerate(category_counts):
            counts[j, :len(column_counts)] = column_counts
        # training draws categories by the rows at hand (a distributed shard may lack a rare category)
        training_counts = counts if codes is None else self._index_rows(codes, counts)
        self.training_probabilities = torch.as_tensor(np.log1p(training_counts), dtype=torch.float32,
                                                      device=device)
        self.empirical_probabilities = torch.as_tensor(counts, dtype=torch.float32, device=device)
        self.offsets = torch.as_tensor(np.concatenate([[0], np.cumsum(sizes)[:-1]]), device=device)
        data_offsets = layout.block_offsets[self.blocks]
        self.data_positions = torch.as_tensor(
            np.concatenate([offset + np.arange(size) for offset, size in zip(data_offsets, sizes)]), device=device)

    def _index_rows(self, codes: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Rows sorted by category, per conditional column, so a row holding any category is one lookup;
        returns the category counts of these rows. Row numbers are int32 (a row per real row and column: on a
        big table this index rivals the encoded table in size)."""
        counts = np.zeros_like(counts)
        starts = np.zeros_like(counts)
        rows_by_category, row_dtype = [], np.int32 if self.n_rows < 2**31 else np.int64
        for j, block in enumerate(self.blocks):
            rows_by_category.append(np.argsort(codes[:, block], kind="stable").astype(row_dtype))
            counts[j, :codes[:, block].max() + 1] = np.bincount(codes[:, block])
            starts[j] = j * self.n_rows + np.concatenate([[0], np.cumsum(counts[j])[:-1]])
        self.rows_by_category = torch.as_tensor(np.concatenate(rows_by_category), device=self.device)
        self.code_columns = torch.as_tensor(self.blocks, device=self.device)
        self.counts = torch.as_tensor(counts, device=self.device)
        self.starts = torch.as_tensor(starts, device=self.device)
        return counts

    def _columns(self, size: int, generator: torch.Generator | None) -> Tensor:
        if self.focus is None:
            return torch.randint(self.n_columns, (size,), device=self.device, generator=generator)
        return self.focus[torch.randint(len(self.focus), (size,), device=self.device, generator=generator)]

    def _one_hot(self, columns: Tensor, categories: Tensor) -> Tensor:
        condition = torch.zeros(len(columns), self.width, device=self.device)
        condition[torch.arange(len(columns), device=self.device), self.offsets[columns] + categories] = 1.0
        return condition

    def training_batch(self, size: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor | None]:
        """(real row indices, condition vectors) for one step: each row holds the category it is asked for."""
        if not self.blocks:
            return torch.randint(self.n_rows, (size,), device=self.device, generator=generator), None
        columns = self._columns(size, generator)
        categories = torch.multinomial(self.training_probabilities[columns], 1, generator=generator)[:, 0]
        within = (torch.rand(size, device=self.device, generator=generator)
                  * self.counts[columns, categories]).long()
        rows = self.rows_by_category[self.starts[columns, categories] + within].long()
        return rows, self._one_hot(columns, categories)

    def poisson_batch(self, rate: float, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor | None]:
        """Each real row in with probability `rate`, asked for its own category of a random conditional column:
        the sampling that DP-SGD's accountant assumes (training-by-sampling picks rows by their category)."""
        rows = torch.nonzero(torch.rand(self.n_rows, device=self.device, generator=generator) < rate)[:, 0]
        if not self.blocks:
            return rows, None
        columns = self._columns(len(rows), generator)
        return rows, self._one_hot(columns, self.codes[rows, self.code_columns[columns]].long())

    def generation_batch(self, size: int, generator: torch.Generator | None = None,
                         fixed: tuple[int, int] | None = None) -> Tensor | None:
        """Conditions for sampling: a column at random and a category by its real frequency, or `fixed`
        (column index among the conditional ones, category code) for every row."""
        if not self.blocks:
            return None
        if fixed is not None:
            columns = torch.full((size,), fixed[0], device=self.device)
            categories = torch.full((size,), fixed[1], device=self.device)
        else:
            columns = self._columns(size, generator)
            categories = torch.multinomial(self.empirical_probabilities[columns], 1, generator=generator)[:, 0]
        return self._one_hot(columns, categories)
