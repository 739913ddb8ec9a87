"""Does the synthetic table leak its training rows? Distances to closest records and a membership attack.

The holdout (real rows the generator never saw) is the yardstick: synthetic rows should be no closer to the
training rows than fresh real rows are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from ..schema import ColumnSpec, datetime_seconds


def distance_features(frames: list[pd.DataFrame], schema: list[ColumnSpec],
                      reference: pd.DataFrame) -> list[np.ndarray]:
    """A space where distance means something for mixed rows: numbers and dates scaled to [0, 1] by the
    reference's range, each category a one-hot scaled so that a mismatch costs 1, missing values their own
    category (and 0.5 away from any number)."""
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    for spec in schema:
        if spec.kind in ("id", "constant", "text"):
            continue
        if spec.kind in ("continuous", "integer", "datetime"):
            convert = (lambda c, spec=spec: datetime_seconds(c, spec)) if spec.kind == "datetime" else \
                (lambda c: pd.to_numeric(c, errors="coerce"))
            base = convert(reference[spec.name]).astype(float)
            low, span = base.min(), (base.max() - base.min()) or 1.0
            for i, frame in enumerate(frames):
                values = ((convert(frame[spec.name]).astype(float) - low) / span).to_numpy()
                missing = np.isnan(values)
                blocks[i].append(np.where(missing, 0.5, values)[:, None])
                blocks[i].append(missing[:, None].astype(float))
        else:
            levels = pd.Index(reference[spec.name].astype(str).unique())
            for i, frame in enumerate(frames):
                codes = levels.get_indexer(frame[spec.name].astype(str))
                one_hot = np.zeros((len(frame), len(levels) + 1))
                one_hot[np.arange(len(frame)), np.where(codes < 0, len(levels), codes)] = 1 / np.sqrt(2)
                blocks[i].append(one_hot)
    return [np.hstack(b) if b else np.zeros((len(f), 1)) for b, f in zip(blocks, frames)]


DENSITY_DIMENSIONS = 10
SHARE_ROWS, MAX_SHARE_DRAWS = 5000, 20  # train rows compared in all for share_closer_to_train, in at most 20 draws


def density_membership_auc(x_train: np.ndarray, x_holdout: np.ndarray, x_synthetic: np.ndarray,
                           rng: np.random.Generator) -> float | None:
    """A density attack in the spirit of DOMIAS (van Breugel et al. 2023): a row is called a member when the
    synthetic data is denser around it than the real population is, log p_synthetic(x) - log p_reference(x).
    Half of the holdout serves as the reference population, the other half as the non-members, against as
    many training rows; densities are Gaussian kernel estimates in the first principal components."""
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KernelDensity

    order = rng.permutation(len(x_holdout))
    reference, non_members = x_holdout[order[: len(order) // 2]], x_holdout[order[len(order) // 2:]]
    members = x_train[rng.choice(len(x_train), min(len(x_train), len(non_members)), replace=False)]
    if len(reference) < 10 or len(non_members) < 5:
        return None
    dimensions = int(min(DENSITY_DIMENSIONS, x_holdout.shape[1], len(reference) - 1))
    projection = PCA(n_components=dimensions, random_state=0).fit(np.vstack([reference, x_synthetic]))
    scale = projection.transform(reference).std(axis=0) + 1e-9

    def density(fitted_on: np.ndarray):
        points = projection.transform(fitted_on) / scale
        bandwidth = len(points) ** (-1 / (dimensions + 4))  # Scott's rule on unit-variance axes
        return KernelDensity(bandwidth=bandwidth).fit(points)

    queried = projection.transform(np.vstack([members, non_members])) / scale
    scores = density(x_synthetic).score_samples(queried) - density(reference).score_samples(queried)
    labels = np.r_[np.ones(len(members)), np.zeros(len(non_members))]
    return float(roc_auc_score(labels, scores))


def _row_keys(frame: pd.DataFrame) -> pd.Series:
    return pd.util.hash_pandas_object(frame.astype(str), index=False)


def _beyond(synthetic_hits: np.ndarray, holdout_hits: np.ndarray) -> bool:
    """Whether synthetic rows copy training rows more often than fresh real rows do: a one-sided two-proportion
    test at two standard errors."""
    if len(holdout_hits) == 0:
        return bool(synthetic_hits.any())
    pooled = (synthetic_hits.sum() + holdout_hits.sum()) / (len(synthetic_hits) + len(holdout_hits))
    error = np.sqrt(pooled * (1 - pooled) * (1 / len(synthetic_hits) + 1 / len(holdout_hits)))
    return bool(synthetic_hits.mean() - holdout_hits.mean() > 2 * error)


def privacy(train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, schema: list[ColumnSpec],
            seed: int = 0, max_rows: int = 5000) -> dict:
    """Distance to closest record (DCR) and membership inference, with the holdout as non-members.

    - dcr_synthetic / dcr_holdout: median distance to the nearest training row (higher is safer; synthetic
      much below holdout means memorisation);
    - share_closer_to_train: share of synthetic rows nearer to train than to an equal-size train sample's
      counterpart, the holdout (0.5 is ideal; near 1.0 means copies), averaged over several train samples;
    - exact_copies: share of synthetic rows identical to a training row, beside holdout_copies, the same share
      for fresh real rows (a table of a few categories repeats rows by chance); copies_beyond_holdout says
      whether the first exceeds the second by more than two standard errors of their difference;
    - membership_auc: ROC AUC of an attacker scoring real rows by closeness to the synthetic data, training
      rows against holdout rows (0.5 is ideal);
    - density_membership_auc: the same for a density-ratio attacker (DOMIAS-like, see above).
    """
    rng = np.random.default_rng(seed)
    size = min(len(train), len(holdout), max_rows)
    train_part = train.iloc[rng.choice(len(train), size, replace=False)]
    holdout_part = holdout.iloc[rng.choice(len(holdout), size, replace=False)]
    synthetic_part = synthetic.iloc[rng.choice(len(synthetic), min(len(synthetic), max_rows), replace=False)]
    x_train, x_holdout, x_synthetic, x_train_all = distance_features(
        [train_part, holdout_part, synthetic_part, train], schema, train)

    nearest_train = NearestNeighbors(n_neighbors=1).fit(x_train_all)
    dcr_synthetic = nearest_train.kneighbors(x_synthetic)[0][:, 0]
    dcr_holdout = nearest_train.kneighbors(x_holdout)[0][:, 0]
    # equal-size train and holdout samples, so a memorisation-free generator scores 0.5; with a small holdout
    # one train sample is a noisy yardstick (0.57 or 0.53 by the draw on 57 rows), so the share is averaged
    # over several, until about SHARE_ROWS train rows have served
    to_holdout = NearestNeighbors(n_neighbors=1).fit(x_holdout).kneighbors(x_synthetic)[0][:, 0]
    shares, draws = [], np.random.default_rng([seed, 1])  # apart from rng, which the density attack goes on with
    for draw in range(min(MAX_SHARE_DRAWS, max(1, -(-SHARE_ROWS // size)))):
        sample = x_train if draw == 0 else x_train_all[draws.choice(len(x_train_all), size, replace=False)]
        to_train = NearestNeighbors(n_neighbors=1).fit(sample).kneighbors(x_synthetic)[0][:, 0]
        shares.append(np.where(to_train == to_holdout, 0.5, (to_train < to_holdout).astype(float)).mean())

    near_synthetic = NearestNeighbors(n_neighbors=1).fit(x_synthetic)
    member_scores = -near_synthetic.kneighbors(np.vstack([x_train, x_holdout]))[0][:, 0]
    labels = np.r_[np.ones(len(x_train)), np.zeros(len(x_holdout))]
    train_keys = set(_row_keys(train))
    copies = _row_keys(synthetic[train.columns]).isin(train_keys)
    holdout_copies = _row_keys(holdout[train.columns]).isin(train_keys)
    density_auc = density_membership_auc(x_train, x_holdout, x_synthetic, rng)
    return {
        "dcr_synthetic_median": round(float(np.median(dcr_synthetic)), 4),
        "dcr_holdout_median": round(float(np.median(dcr_holdout)), 4),
        "dcr_synthetic_5th_percentile": round(float(np.percentile(dcr_synthetic, 5)), 4),
        "dcr_holdout_5th_percentile": round(float(np.percentile(dcr_holdout, 5)), 4),
        "share_closer_to_train": round(float(np.mean(shares)), 4),
        "exact_copies": round(float(copies.mean()), 4),
        "holdout_copies": round(float(holdout_copies.mean()), 4),
        "copies_beyond_holdout": _beyond(copies.to_numpy(), holdout_copies.to_numpy()),
        "membership_auc": round(float(roc_auc_score(labels, member_scores)), 4) if size > 1 else None,
        "density_membership_auc": None if density_auc is None else round(density_auc, 4),
        "rows_compared": int(size),
        "distances": {"synthetic": dcr_synthetic.round(4).tolist(), "holdout": dcr_holdout.round(4).tolist()},
    }
