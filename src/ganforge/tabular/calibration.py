"""Categories come out at their training shares. Numbers are calibrated by ranks (see `encoders`); each one-hot
block by a tilt, one offset per category added to the generator's logits, found so that the sampled share of
every category equals its share of the training rows (the prior-shift correction of Saerens et al. 2002). It is
the smallest change, in KL divergence, to each row's categorical distribution that gets the shares right, so
rows keep what the generator learned about how columns go together. Rejection sampling drops some categories'
rows more than others', so where a row critic is kept the tilt is refitted on the rows it keeps.

The tilt gets the shares right on average; a sample of n rows still carries a multinomial's noise around them
(a flag of 84 rows off by 0.08 of its rows, where the numbers, ranked onto their quantiles, are exact). So the
rows a sample draws together get their categories' counts too (`exact_counts`): each row's code is the largest
of its logits plus Gumbel noise, and the rows whose next-best code is nearest move to the codes still short."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .networks import Blocks
from .transform import Layout

TILT_ROWS = 10_000  # generated rows the shares are measured on (kept rows, where a critic drops some)
MAX_ROUNDS = 100
TOLERANCE = 0.01  # largest gap between a category's log share and its target's
KEPT_ROUNDS = 4  # refits on the rows a row critic keeps (sampled, so fewer rounds and a bounded step)
MAX_STEP = 1.0
KEPT_MAX_GAP = 0.1  # a category's share among the kept rows still this far from its training share after the
# refit: the critic keeps rows the tilt cannot bring back (a 92-column survey: one of two forms at 87% of the
# kept rows against 47%), so it is not kept
KEPT_MIN_SHARE = 0.02  # nor where it keeps fewer of the generated rows than this once the tilt is refitted (a
# sample draws at most 100 times the rows asked for)


def block_shares(codes: np.ndarray, sizes: tuple[int, ...]) -> np.ndarray:
    """Each block's code frequencies, concatenated; a code never seen counts half a row, so its log is finite."""
    shares = []
    for block, size in enumerate(sizes):
        counts = np.maximum(np.bincount(codes[:, block], minlength=size).astype(np.float64), 0.5)
        shares.append(counts / counts.sum())
    return np.concatenate(shares) if shares else np.zeros(0)


def _mean_shares(blocks: Blocks, logits: torch.Tensor) -> torch.Tensor:
    return blocks.log_softmax(logits).exp().mean(0)


@torch.no_grad()
def mean_shares(logits: torch.Tensor, layout: Layout) -> np.ndarray:
    """The share of each category that sampling from `logits` gives on average."""
    return _mean_shares(Blocks(layout, logits.device), logits.double()).cpu().numpy()


@torch.no_grad()
def fit_tilt(logits: torch.Tensor, target: np.ndarray, layout: Layout) -> np.ndarray:
    """The offsets that bring the mean softmax of `logits` (generated rows x every one-hot entry) to `target`."""
    blocks = Blocks(layout, logits.device)
    goal = torch.as_tensor(np.log(target), dtype=torch.float64, device=logits.device)
    logits = logits.double()
    tilt = torch.zeros(logits.shape[1], dtype=torch.float64, device=logits.device)
    for _ in range(MAX_ROUNDS):
        gap = goal - _mean_shares(blocks, logits + tilt).clamp_min(1e-12).log()
        tilt += gap
        if float(gap.abs().max()) < TOLERANCE:
            break
    return tilt.cpu().numpy()


def refit_on_kept(tilt: np.ndarray, target: np.ndarray, sizes: tuple[int, ...],
                  kept_codes: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Moves `tilt` until the rows a row critic keeps have the target shares. `kept_codes(tilt)` gives the codes
    of the kept rows of one fixed set of draws, so each round sees the same noise. Also returns the kept rows'
    shares before the first move and after the last."""
    tilt, first = tilt.copy(), None
    for _ in range(KEPT_ROUNDS):
        shares = block_shares(kept_codes(tilt), sizes)
        first = shares if first is None else first
        gap = np.log(target) - np.log(shares)
        if np.abs(gap).max() < TOLERANCE:
            return tilt, first, shares
        tilt += np.clip(gap, -MAX_STEP, MAX_STEP)
    return tilt, first, block_shares(kept_codes(tilt), sizes)


def shares_to_counts(shares: np.ndarray, rows: int) -> np.ndarray:
    """Whole counts that sum to `rows`, as near to `shares` * rows as whole numbers go (largest remainders)."""
    ideal = shares / shares.sum() * rows
    counts = np.floor(ideal).astype(np.int64)
    counts[np.argsort(counts - ideal, kind="stable")[:rows - counts.sum()]] += 1
    return counts


def exact_counts(codes: np.ndarray, scores: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`codes` (one block, each row's argmax of `scores`, its logits plus Gumbel noise) moved so that code k is
    held by `counts[k]` rows: in each round, every code held by too many rows gives up those of its rows that
    lose least by moving to their best code still short (the score given up), and every code short takes the
    rows that lose least, up to its shortfall. Moves only go from codes in excess to codes short, and a round
    that does not end it fills some code short, so a block of k codes takes at most k rounds; the rows that move
    are the ones the generator nearly gave the code they get."""
    codes = codes.copy()
    size = len(counts)
    for _ in range(size):
        excess = np.bincount(codes, minlength=size) - counts
        if not (excess > 0).any():
            break
        short = excess < 0
        movers = np.flatnonzero(excess[codes] > 0)
        options = np.where(short, scores[movers], -np.inf)
        to = options.argmax(axis=1)
        regret = scores[movers, codes[movers]] - options[np.arange(len(movers)), to]
        source = codes[movers]
        order = np.lexsort((regret, source))  # by source code, least regret first
        first = np.searchsorted(source[order], source[order])
        offered = order[np.arange(len(order)) - first < excess[source[order]]]
        order = offered[np.lexsort((regret[offered], to[offered]))]  # by destination, least regret first
        first = np.searchsorted(to[order], to[order])
        taken = order[np.arange(len(order)) - first < -excess[to[order]]]
        codes[movers[taken]] = to[taken]
    return codes
