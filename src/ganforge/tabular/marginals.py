"""The generator fitted to noisy two-way marginals: the differentially private warm start.

Under differential privacy, DP-SGD teaches the generator through a critic whose every update carries noise on
all of its weights; at epsilon 1 on tables of a few thousand rows that noise drowns what the critic learns
(pair trends fell below independent columns). Marginal methods (MST, AIM) spend the budget on counts instead,
and so does this step. The encoded table is cut into cells: every number (its normal score) into BINS equally
likely bins, every one-hot block by its codes (a long block's rarest codes share its last cell). A quarter
of the budget chooses, privately, the pairs of those columns furthest from independence, as many as the
columns less one (as many as MST measures); their joint counts are measured once with Gaussian noise, which
composes in zero-concentrated DP (Bun & Steinke 2016) and is converted to (epsilon, delta) through
Renyi DP (Canonne, Kamath & Steinke 2020). The generator
is then fitted to
the noisy counts (the idea of GEM, Liu et al. 2021): the soft cells of a batch of its rows, averaged, should
reproduce every measured marginal. The fit reads only the noisy counts, so it is post-processing, and the
generator can serve as it is or as the start of DP-SGD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import ndtri

from .encoders import NORMAL_SCALE
from .networks import Blocks
from .sampler import ConditionSampler
from .transform import Layout, TableTransform

Tensor = torch.Tensor
BINS = 5  # equally likely bins per number; chosen on the privacy benchmark's tuning half (8, 5, 4, 3 tried)
MAX_CELLS = 16  # a one-hot block's cells: its most frequent codes, the rest together
FIT_BATCH = 1024
FIT_LEARNING_RATE = 1e-3
AVERAGE_DECAY = 0.995  # the fitted weights are their moving average (tuning half: +0.04 quality, less spread)
SOFTNESS = 0.02  # width, in the encoder's scaled normal scores, of the soft edge between two bins
SELECT_SHARE = 0.25  # of the pairs' rho spent choosing which to measure (tuning half: 0.1 and 0.25 tried)
# as many pairs are measured as the columns less one (tuning half at epsilon 1, before the scores were centred:
# half as many lost 0.06 in one run, twice as many 0.012, all of them 0.017); the others get no target, since
# the chosen pairs link them (an independence target at a quarter of a measured pair's weight lost 0.013)
DEPENDENCE_SHOWN = 2.5  # noise deviations the strongest possible dependence must reach for the pairs to count (tuning
# half: at 2.3-2.4 the small tables at epsilon 3 did better without the pairs, at 2.6 `cigar` at 0.5 did better with)


def zcdp_delta(rho: float, epsilon: float) -> float:
    """The delta at which rho-zCDP gives (epsilon, delta)-DP, by the conversion of Canonne, Kamath & Steinke
    (2020, Proposition 12) through Renyi DP of every order alpha > 1 (rho-zCDP is (alpha, alpha rho)-RDP):
    the least over alpha of exp((alpha - 1)(alpha rho - epsilon)) / alpha * (1 - 1/alpha)^(alpha - 1). Its
    factor after the exponential is below one, so it is never looser than the usual bound
    epsilon = rho + 2 sqrt(rho ln(1/delta)); at epsilon 0.3 and delta 5e-6 it allows 1.67 times the rho."""
    if rho <= 0:
        return 0.0

    def exponent(alpha: float) -> float:
        return (alpha - 1) * (alpha * rho - epsilon) + (alpha - 1) * math.log1p(-1 / alpha) - math.log(alpha)

    def slope(alpha: float) -> float:  # the exponent is convex in alpha; its least is where this is zero
        return (2 * alpha - 1) * rho - epsilon + math.log1p(-1 / alpha)

    low, high = 1.0, 2.0
    while slope(high) < 0:
        low, high = high, 2 * high
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if slope(middle) < 0 else (low, middle)
    return min(1.0, math.exp(exponent(high)))


def usual_zcdp_rho(epsilon: float, delta: float) -> float:
    """The rho of the usual bound, epsilon = rho + 2 sqrt(rho ln(1/delta)) (Bun & Steinke 2016): valid, looser."""
    log_term = math.log(1 / delta)
    return (math.sqrt(log_term + epsilon) - math.sqrt(log_term)) ** 2


def zcdp_rho(epsilon: float, delta: float) -> float:
    """The largest rho whose zCDP guarantee converts to (epsilon, delta) (`zcdp_delta`), found by bisection
    from the usual bound's rho, which always converts."""
    low, high = usual_zcdp_rho(epsilon, delta), epsilon
    if zcdp_delta(high, epsilon) <= delta:
        return high
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if zcdp_delta(middle, epsilon) <= delta else (low, middle)
    return low


@dataclass
class Cells:
    """How the encoded columns are cut into cells: a size per cell column and, for the one-hot blocks, which
    cell each position falls in."""

    layout: Layout

    def __post_init__(self) -> None:
        self.edges = ndtri(np.arange(1, BINS) / BINS) / NORMAL_SCALE
        self.block_cells = [min(size, MAX_CELLS) for size in self.layout.block_sizes]
        self.sizes = [BINS] * self.layout.n_scalars + self.block_cells
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)
        self.width = int(sum(self.sizes))

    @property
    def columns(self) -> int:
        return len(self.sizes)

    def span(self, column: int) -> slice:
        """Where a cell column's cells sit in the (cells x cells) count matrix."""
        return slice(self.offsets[column], self.offsets[column] + self.sizes[column])

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return [(a, b) for a in range(self.columns) for b in range(a + 1, self.columns)]

    def joint(self, row_cells: np.ndarray, a: int, b: int) -> np.ndarray:
        """The rows' counts in every cell pair of cell columns a and b (sizes[a] x sizes[b])."""
        size_a, size_b = self.sizes[a], self.sizes[b]
        return np.bincount(row_cells[:, a] * size_b + row_cells[:, b], minlength=size_a * size_b).reshape(
            size_a, size_b).astype(np.float64)

    def of_rows(self, scalars: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Each real row's cell in every cell column (rows x columns)."""
        bins = [np.searchsorted(self.edges, scalars[:, j], side="right") for j in range(scalars.shape[1])]
        blocks = [np.minimum(codes[:, b], cells - 1) for b, cells in enumerate(self.block_cells)]
        return np.stack(bins + blocks, axis=1).astype(np.int64) if bins or blocks else np.zeros((len(codes), 0))

    def known_shares(self, category_counts: list[np.ndarray], quantile: bool,
                     missing_shares: dict[int, float] | None = None) -> dict[int, np.ndarray]:
        """Each cell column's share of rows where the column statistics already tell it: a number's bins are
        equally likely under the private distribution function its scores come through (`quantile`: the
        numbers are normal scores), a category's cells follow its noisy level counts (each column's share
        of epsilon on its own, where a pair table's share is thinner by the number of pairs), and a number's
        missing-value indicator (block index: share missing) its noisy count of missing values."""
        shares = {j: np.full(BINS, 1 / BINS) for j in range(self.layout.n_scalars)} if quantile else {}
        for block, missing in (missing_shares or {}).items():
            shares[self.layout.n_scalars + block] = np.asarray([1 - missing, missing])
        for block, counts in zip(self.layout.conditional_blocks, category_counts):
            cells = self.block_cells[block]
            merged = np.bincount(np.minimum(np.arange(len(counts)), cells - 1),
                                 weights=np.clip(np.asarray(counts, np.float64), 0, None), minlength=cells)
            if merged.sum() > 0:
                shares[self.layout.n_scalars + block] = merged / merged.sum()
        return shares

    def shares(self, column: int, known: dict[int, np.ndarray]) -> np.ndarray:
        """A cell column's shares as the column statistics tell them (`known_shares`), else even."""
        return known.get(column, np.full(self.sizes[column], 1 / self.sizes[column]))

    def merge_matrix(self, device: torch.device) -> Tensor:
        """(one-hot positions x block cells): sums a block's softmax into its cells."""
        positions = int(sum(self.layout.block_sizes))
        merge = torch.zeros(positions, int(sum(self.block_cells)), device=device)
        start, cell_start = 0, 0
        for size, cells in zip(self.layout.block_sizes, self.block_cells):
            for code in range(size):
                merge[start + code, cell_start + min(code, cells - 1)] = 1.0
            start, cell_start = start + size, cell_start + cells
        return merge


@dataclass
class Measurement:
    """The noisy pair counts, as one symmetric (cells x cells) matrix whose measured blocks are the targets."""

    counts: np.ndarray  # noisy joint counts; the diagonal blocks hold each column's counts from the pairs
    rows: float  # the noisy number of rows the counts sum to
    sigma: float
    rho: float
    pairs: int
    strongest: float = math.inf  # noise deviations the strongest dependence of this many rows would reach
    measured: list[tuple[int, int]] | None = None  # the pairs measured, where not all were

    @property
    def independent(self) -> bool:
        """Too noisy to show any dependence: the pairs' targets are their columns' products."""
        return self.strongest < DEPENDENCE_SHOWN


def cell_names(transform: TableTransform) -> list[str]:
    """Each cell column's table column: the numbers' scores first, then the one-hot blocks (a number's
    missing-value indicator named as such), as `Cells` orders them."""
    scalars = [c.spec.name for c in transform.columns for _ in range(c.scalar_count)]
    blocks = [c.spec.name if c.is_discrete else f"{c.spec.name} (missing)"
              for c in transform.columns for _ in c.block_sizes]
    return scalars + blocks


def partners_of(column: int, pairs: list[tuple[int, int]]) -> list[int]:
    return [b if a == column else a for a, b in pairs if column in (a, b)]


def select_pairs(cells: Cells, joints: dict[tuple[int, int], np.ndarray], known: dict[int, np.ndarray], rows: float,
                 wanted: int, rho: float, rng: np.random.Generator) -> list[tuple[int, int]]:
    """The `wanted` pairs furthest from independence, chosen privately: `wanted` picks of the exponential
    mechanism at rho / wanted each (epsilon^2 / 8 of rho apiece, Cesar & Rogers 2021), drawn at once as the
    top of the scores plus Gumbel noise (Durfee & Rogers 2019). A pair's score sums, over the rows, the outer
    product of its two cells' indicators centred on the columns' shares (the column statistics', already
    public; even cells where they say nothing), as an L1 norm: a covariance of the cells, which a share the
    statistics got wrong (a count column's coarse distribution function) barely moves, where the plain
    distance to the product of the shares picked every pair of such a column. Less what sampling alone would
    give independent columns at the noisy row count (as AIM discounts a marginal's expected error), and in
    units of the most one row can move it. Measuring only the chosen pairs, at the rest of the rho, cuts each
    table's noise by the square root of how many fewer there are."""
    scores = []
    for a, b in cells.pairs:  # `joints`: every pair's counts (`Cells.joint`)
        joint, share_a, share_b = joints[a, b], cells.shares(a, known), cells.shares(b, known)
        # (e_i - share_a) (e_j - share_b) summed over the rows
        centred = (joint - np.outer(joint.sum(axis=1), share_b) - np.outer(share_a, joint.sum(axis=0))
                   + joint.sum() * np.outer(share_a, share_b))
        expected = np.outer(share_a, share_b)
        chance = np.sqrt(2 * rows * expected * (1 - expected) / np.pi).sum()  # so many cells are no head start
        # one row moves the score by at most |e_i - share_a|_1 |e_j - share_b|_1
        sensitivity = 4 * (1 - share_a.min()) * (1 - share_b.min())
        # a column of one cell (a category with one level released) tells nothing: never chosen
        scores.append((np.abs(centred).sum() - chance) / sensitivity if sensitivity > 0 else -math.inf)
    pick_epsilon = math.sqrt(8 * rho / wanted)
    noisy = np.asarray(scores) + rng.gumbel(0.0, 2 / pick_epsilon, len(scores))
    return [cells.pairs[i] for i in sorted(np.argsort(-noisy)[:wanted])]


def measure(cells: Cells, scalars: np.ndarray, codes: np.ndarray, rho: float, rng: np.random.Generator,
            known_shares: dict[int, np.ndarray] | None = None, rows_hint: float | None = None) -> Measurement:
    """The chosen pairs' joint counts (`select_pairs`, with a noisy row count `rows_hint`; every pair's
    without) plus Gaussian noise at `rho` (zCDP) in total. Adding or removing a row changes one cell of
    each pair's table by one, so each table has L2 sensitivity 1 and costs 1 / (2 sigma^2) of rho. Each
    column's own counts are the average over its measured pairs of their noisy sums: post-processing.
    Where the pairs are too noisy to show any dependence, they give way to independent columns whose shares
    come from `known_shares` (`Cells.known_shares`) where given."""
    pairs = cells.pairs
    row_cells = cells.of_rows(scalars, codes)
    joints = {(a, b): cells.joint(row_cells, a, b) for a, b in pairs}
    wanted = cells.columns - 1
    selecting = rows_hint is not None and wanted < len(pairs)
    if selecting:
        pairs = select_pairs(cells, joints, known_shares or {}, rows_hint, wanted, SELECT_SHARE * rho, rng)
    measuring = rho * (1 - SELECT_SHARE) if selecting else rho
    sigma = math.sqrt(len(pairs) / (2 * measuring))
    counts = np.zeros((cells.width, cells.width))
    totals = []
    for a, b in pairs:
        noisy = joints[a, b] + rng.normal(0, sigma, joints[a, b].shape)
        counts[cells.span(a), cells.span(b)], counts[cells.span(b), cells.span(a)] = noisy, noisy.T
        totals.append(noisy.sum())
    rows = max(float(np.mean(totals)), 1.0)
    for a in range(cells.columns):  # each column's counts: the row sums of its pairs' tables, averaged
        partners = partners_of(a, pairs)
        sums = (np.mean([counts[cells.span(a), cells.span(b)].sum(axis=1) for b in partners], axis=0) if partners
                else rows * cells.shares(a, known_shares or {}))
        counts[cells.span(a), cells.span(a)] = np.diag(sums)
    # whether any dependence would show is judged as if every pair had been measured, at the noise that would
    # have had (the line DEPENDENCE_SHOWN was tuned for): judged on the chosen pairs' lower noise, `mpg` (164
    # rows) at epsilon 3 kept its pairs and lost 0.13 of quality
    strongest = strongest_dependence(cells.sizes, rows, pair_noise(cells.columns, rho))
    measurement = Measurement(counts, rows, sigma, rho, len(pairs), strongest, measured=pairs if selecting else None)
    if measurement.independent:
        _independent(cells, measurement, known_shares or {})
    return measurement


def unmeasured(cells: Cells, rows: float, sigma: float, strongest: float,
               known_shares: dict[int, np.ndarray]) -> Measurement:
    """Independent columns where the pairs were not bought at all (`private.plan_budget` found, from a noisy
    row count, that their noise would hide any dependence): the targets are the products of the column
    statistics' shares, weighed as if the pairs had been measured with noise `sigma`."""
    measurement = Measurement(np.zeros((cells.width, cells.width)), rows, sigma, 0.0, len(cells.pairs), strongest)
    _independent(cells, measurement, known_shares)
    return measurement


def pair_noise(columns: int, rho: float) -> float:
    """The Gaussian noise on every pair table when all pairs of `columns` share `rho`."""
    return math.sqrt(max(1, columns * (columns - 1) // 2) / (2 * rho))


def strongest_dependence(sizes: list[int], rows: float, sigma: float) -> float:
    """How far above the noise the pair tables could show any dependence at all: the interaction of columns
    that determine each other (every row on a diagonal of k = the smaller column's cells: rows^2 (k-1)/k^2 in
    each table), summed over the pairs, in standard deviations of the noise's own summed squares. Below a few,
    the tables hold nothing but noise, and a generator fitted to them turns it into strong made-up correlations
    (107 rows at epsilon 1: ozone and temperature correlated -0.52 where the rows say +0.71)."""
    pairs = [(a, b) for a in range(len(sizes)) for b in range(a + 1, len(sizes))]
    if not pairs:
        return math.inf
    smaller = np.asarray([min(sizes[a], sizes[b]) for a, b in pairs], dtype=np.float64)
    interaction = rows ** 2 * float(((smaller - 1) / smaller ** 2).sum())
    table_cells = sum(sizes[a] * sizes[b] for a, b in pairs)
    return interaction / (sigma ** 2 * math.sqrt(2 * table_cells))


def _independent(cells: Cells, measurement: Measurement, known: dict[int, np.ndarray]) -> None:
    """Every pair's target replaced by the product of its columns' shares (the column statistics' where they
    know them, else the column's counts averaged over its pairs), scaled to the rows: the generator learns the
    columns, and no dependence it cannot know. Post-processing of noisy counts."""
    counts, rows = measurement.counts, measurement.rows
    shares = []
    for a in range(cells.columns):
        own = np.clip(np.diag(counts[cells.span(a), cells.span(a)]), 0, None)
        fallback = own / own.sum() if own.sum() > 0 else np.full(cells.sizes[a], 1 / cells.sizes[a])
        shares.append(known.get(a, fallback))
        counts[cells.span(a), cells.span(a)] = np.diag(rows * shares[-1])
    for a, b in cells.pairs:
        counts[cells.span(a), cells.span(b)] = rows * np.outer(shares[a], shares[b])
        counts[cells.span(b), cells.span(a)] = counts[cells.span(a), cells.span(b)].T


class MarginalFit:
    """Fits a generator so that its rows' soft cells reproduce the measured marginals, while it honours the
    condition vectors it is given, as in adversarial training. The loss is the Gaussian noise's negative
    log-likelihood of the measurements (squared error in counts over the noise's variance): the maximum-
    likelihood fit, which averages the noise of many overlapping pairs rather than chasing it. Each column's
    own counts, averaged over its pairs, have less noise and are weighted by it."""

    def __init__(self, cells: Cells, measurement: Measurement, sampler: ConditionSampler, noise_dim: int,
                 device: torch.device):
        self.cells, self.sampler, self.noise_dim, self.device = cells, sampler, noise_dim, device
        layout = cells.layout
        self.blocks = Blocks(layout, device)
        self.merge = cells.merge_matrix(device)
        self.edges = torch.as_tensor(cells.edges, dtype=torch.float32, device=device)
        self.rows = measurement.rows
        self.target = torch.as_tensor(measurement.counts / measurement.rows, dtype=torch.float32, device=device)
        owner = np.repeat(np.arange(cells.columns), cells.sizes)
        targets = np.triu(np.ones((cells.columns, cells.columns), bool), k=1)  # every pair once
        if measurement.measured is not None and not measurement.independent:  # only the pairs measured
            targets[:] = False
            for a, b in measurement.measured:
                targets[a, b] = True
        self.pair_mask = torch.as_tensor(targets[owner[:, None], owner[None, :]], device=device)
        self.column_target = torch.diagonal(self.target).clone()  # every column's own distribution
        sizes = np.asarray(cells.sizes, dtype=np.float64)
        measured = measurement.measured if measurement.measured is not None else cells.pairs
        # a column's count averages its partners' row sums: variance sigma^2 * (sum of their sizes) / partners^2
        # (a column in no measured pair has its statistics' shares, weighed as if it had one partner its size)
        partners = [partners_of(a, measured) for a in range(cells.columns)]
        variance = measurement.sigma ** 2 * np.asarray(
            [sizes[own].sum() / len(own) ** 2 if own else sizes[a] for a, own in enumerate(partners)])
        self.column_weight = torch.as_tensor(np.repeat(1 / variance, cells.sizes), dtype=torch.float32, device=device)
        self.pair_weight = 1 / measurement.sigma ** 2
        self.scale = 1 / max(1, cells.columns)  # per column, so learning rates mean the same on any table

    def soft_cells(self, raw: Tensor, log_probabilities: Tensor | None) -> Tensor:
        """Each generated row's membership of every cell, differentiable in the generator's outputs."""
        n_scalars = self.cells.layout.n_scalars
        parts = []
        if n_scalars:
            scores = torch.tanh(raw[:, :n_scalars])
            above = torch.sigmoid((scores[:, :, None] - self.edges) / SOFTNESS)  # P(score above each edge)
            ones, zeros = torch.ones_like(above[:, :, :1]), torch.zeros_like(above[:, :, :1])
            parts.append((torch.cat([ones, above], dim=2) - torch.cat([above, zeros], dim=2)).flatten(1))
        if log_probabilities is not None:
            parts.append(log_probabilities.exp() @ self.merge)
        return torch.cat(parts, dim=1)

    def loss(self, generator: torch.nn.Module, generator_rng: torch.Generator | None = None) -> Tensor:
        noise = torch.randn(FIT_BATCH, self.noise_dim, device=self.device, generator=generator_rng)
        condition = self.sampler.generation_batch(FIT_BATCH, generator_rng)
        raw = generator(noise, condition)
        n_scalars = self.cells.layout.n_scalars
        log_probabilities = self.blocks.log_softmax(raw[:, n_scalars:]) if self.blocks.count else None
        soft = self.soft_cells(raw, log_probabilities)
        pairs = ((soft.T @ soft / len(soft) - self.target)[self.pair_mask] * self.rows).square().sum()
        columns = (((soft.mean(dim=0) - self.column_target) * self.rows).square() * self.column_weight).sum()
        loss = (pairs * self.pair_weight + columns) / 2 * self.scale
        if condition is not None:  # the category each row was asked for, as in adversarial training
            asked = log_probabilities[:, self.sampler.data_positions - n_scalars]
            loss = loss - (asked * condition).sum(dim=1).mean()
        return loss

    def fit(self, generator: torch.nn.Module, steps: int, seed: int = 0) -> list[float]:
        """Adam on the generator; returns the loss every 100 steps (the curve the model keeps)."""
        generator.train()
        optimizer = torch.optim.Adam(generator.parameters(), lr=FIT_LEARNING_RATE, betas=(0.5, 0.9))
        rng = torch.Generator(device=self.device).manual_seed(seed)
        average = torch.optim.swa_utils.AveragedModel(
            generator, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(AVERAGE_DECAY), use_buffers=True)
        curve = []
        for step in range(steps):
            loss = self.loss(generator, rng)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            average.update_parameters(generator)
            if (step + 1) % 100 == 0:
                curve.append(round(loss.item(), 5))
        generator.load_state_dict(average.module.state_dict())  # one batch's noise does not decide the model
        return curve


def warm_start(generator: torch.nn.Module, cells: Cells, scalars: np.ndarray, codes: np.ndarray,
               sampler: ConditionSampler, noise_dim: int, rho: float, rng: np.random.Generator,
               steps: int, seed: int = 0, known_shares: dict[int, np.ndarray] | None = None,
               rows_hint: float | None = None) -> dict:
    """Measure the marginals at `rho` (zCDP) and fit `generator` to them; returns what was bought.
    `known_shares`: what the column statistics tell of each cell column (`Cells.known_shares`); `rows_hint`:
    a noisy row count, with which the pairs to measure are chosen (without it, all are measured)."""
    measurement = measure(cells, scalars, codes, rho, rng, known_shares, rows_hint)
    return fit_to(generator, cells, measurement, sampler, noise_dim, steps, seed)


def fit_to(generator: torch.nn.Module, cells: Cells, measurement: Measurement, sampler: ConditionSampler,
           noise_dim: int, steps: int, seed: int = 0) -> dict:
    """Fit `generator` to a measurement (post-processing); returns what it was fitted to."""
    device = next(generator.parameters()).device
    curve = MarginalFit(cells, measurement, sampler, noise_dim, device).fit(generator, steps, seed=seed)
    chosen = {} if measurement.measured is None else {
        "chosen_from": len(cells.pairs), "selection_share": SELECT_SHARE,
        "chosen": [[int(a), int(b)] for a, b in measurement.measured]}
    return chosen | {"rho": measurement.rho, "noise_sigma": round(measurement.sigma, 4), "pairs": measurement.pairs,
            "cells": cells.width, "fit_steps": steps, "fit_curve": curve, "rows": round(measurement.rows),
            "strongest_dependence": round(min(measurement.strongest, 1e9), 2),
            "independent": measurement.independent}
