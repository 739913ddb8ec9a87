"""A fidelity score taken while a table trains: every round the EMA generator's rows are scored against the
real rows, and the curve is kept with the model and drawn in the report. GAN losses say little about sample
quality; this score moves with what the user will measure. With `early_stopping`, the best-scoring generator
is kept and training stops once the score stalls (off by default: it lost on the benchmark's tuning half).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from scipy.special import ndtri

from ..core.progress import Progress
from .encoders import NORMAL_SCALE
from .networks import Blocks
from .sampler import ConditionSampler
from .transform import Layout

Tensor = torch.Tensor
BINS = 8
SCORE_ROWS = 2000
REFERENCE_ROWS = 5000


def _one_hot(bins: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    matrix = np.zeros((len(bins[0]), int(sum(sizes))), np.float32)
    rows = np.arange(len(bins[0]))
    for column, offset in zip(bins, offsets):
        matrix[rows, offset + column] = 1.0
    return matrix


class FidelityScore:
    """Mean over column pairs of one minus the total variation distance between the real and generated joint
    histograms (numbers cut at the normal quantiles into BINS equally filled bins, every one-hot block by its
    codes, missing values included). 1 is a perfect match of every pair; it moves with SDMetrics' column-pair
    trends, is a few matrix products to compute, and scores one fixed noise draw so checkpoints compare fairly.

    With `own_bins`, generated numbers are binned at their own quantiles, as the sampler's marginal calibration
    will map them; only how they co-vary with the other columns counts."""

    def __init__(self, scalars: np.ndarray, codes: np.ndarray, layout: Layout, sampler: ConditionSampler,
                 noise_dim: int, own_bins: bool, seed: int = 0):
        rng = np.random.default_rng(seed)
        if len(scalars) > REFERENCE_ROWS:
            keep = rng.choice(len(scalars), REFERENCE_ROWS, replace=False)
            scalars, codes = scalars[keep], codes[keep]
        self.layout, self.own_bins = layout, own_bins
        self.edges = ndtri(np.arange(1, BINS) / BINS) / NORMAL_SCALE  # bins as the encoder scales normal scores
        self.sizes = [BINS] * layout.n_scalars + list(layout.block_sizes)
        self.columns = len(self.sizes)
        self.real = self._joint(scalars, codes)
        device = sampler.device
        generator = torch.Generator(device=device).manual_seed(seed)
        self.noise = torch.randn(SCORE_ROWS, noise_dim, device=device, generator=generator)
        self.condition = sampler.generation_batch(SCORE_ROWS, generator) if sampler.n_columns else None
        self.blocks = Blocks(layout, device)
        self.seed = seed

    def _bins(self, scalars: np.ndarray, own: bool) -> list[np.ndarray]:
        out = []
        for j in range(scalars.shape[1]):
            edges = np.quantile(scalars[:, j], np.arange(1, BINS) / BINS) if own else self.edges
            out.append(np.minimum(np.searchsorted(edges, scalars[:, j], side="right"), BINS - 1))
        return out

    def _joint(self, scalars: np.ndarray, codes: np.ndarray, own: bool = False) -> np.ndarray:
        bins = self._bins(scalars, own) + [codes[:, b].astype(np.int64) for b in range(codes.shape[1])]
        matrix = _one_hot(bins, self.sizes)
        return matrix.T @ matrix / len(matrix)

    @torch.no_grad()
    def __call__(self, generator: torch.nn.Module) -> float:
        was_training = generator.training
        generator.eval()
        raw = generator(self.noise, self.condition)
        generator.train(was_training)
        scalars = torch.tanh(raw[:, :self.layout.n_scalars]).cpu().numpy()
        codes = self.blocks.sample(raw[:, self.layout.n_scalars:],
                                   torch.Generator(device=raw.device).manual_seed(self.seed)).cpu().numpy()
        gap = np.abs(self._joint(scalars, codes, self.own_bins) - self.real)
        owner = np.repeat(np.arange(self.columns), self.sizes)
        per_pair = np.zeros((self.columns, self.columns))
        np.add.at(per_pair, (owner[:, None], owner[None, :]), gap)
        distance = per_pair / 2  # total variation distance per pair (diagonal: per column)
        if self.columns == 1:
            return float(1 - distance[0, 0])
        upper = np.triu_indices(self.columns, k=1)
        return float(1 - distance[upper].mean())


class BestGenerator:
    """Scores the generator every round; with a `patience`, keeps the best-scoring weights and says when to
    stop: after `patience` scores in a row without a gain of at least `min_gain`, never before `min_rounds`."""

    def __init__(self, score: FidelityScore, patience: int | None, min_rounds: int, min_gain: float = 2e-3):
        self.score, self.patience, self.min_rounds, self.min_gain = score, patience, min_rounds, min_gain
        self.best_score, self.best_round, self.gain_round, self.best_state = -math.inf, 0, 0, None
        self.curve: list[list[float]] = []
        self.stopped = False  # whether the last score asked training to stop

    def __call__(self, progress: Progress) -> bool:
        round_, generator = progress.epoch, progress.generator
        value = self.score(generator)
        self.curve.append([round_, round(value, 5)])
        if value > self.best_score + self.min_gain:
            self.gain_round = round_
        if value > self.best_score:
            self.best_score, self.best_round = value, round_
            if self.patience is not None:  # the weights are kept only when they may be restored
                self.best_state = copy.deepcopy(generator.state_dict())
        self.stopped = (self.patience is not None and round_ >= self.min_rounds
                        and round_ - self.gain_round >= self.patience)
        return self.stopped

    def state(self) -> dict:
        return {"best_score": self.best_score, "best_round": self.best_round, "gain_round": self.gain_round,
                "best_state": self.best_state, "curve": self.curve}

    def restore(self, state: dict) -> None:
        self.best_score, self.best_round = float(state["best_score"]), int(state["best_round"])
        self.gain_round, self.best_state = int(state["gain_round"]), state["best_state"]
        self.curve = [list(point) for point in state["curve"]]
