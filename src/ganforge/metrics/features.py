"""Scores on features: FID, KID, Inception Score, precision/recall, density/coverage (images; texts use the Fréchet
distance on sentence embeddings too).

Features come from an extractor the caller picks (see `ganforge.image.features`); every result carries the
extractor's name, because scores from different extractors are not comparable. FID, KID and IS are
torchmetrics' implementations, fed features computed once through an identity feature module.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors
from torch import nn

MAX_NEIGHBOUR_ROWS = 5000


class _Precomputed(nn.Module):
    """torchmetrics' feature hook, for features that are already computed."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """FID (Heusel et al. 2017): Frechet distance of Gaussians fitted to the two feature sets. 0 is best."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=_Precomputed(real.shape[1]), reset_real_features=True)
    metric.update(torch.from_numpy(real).float(), real=True)
    metric.update(torch.from_numpy(fake).float(), real=False)
    return float(metric.compute())


def kernel_distance(real: np.ndarray, fake: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """KID (Binkowski et al. 2018): unbiased MMD^2 with a cubic polynomial kernel, mean and std over subsets.
    0 is best; unlike FID it is unbiased for small samples."""
    from torchmetrics.image.kid import KernelInceptionDistance

    size = min(1000, len(real), len(fake))
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the note that it keeps all features: they are small here
        torch.manual_seed(seed)
        metric = KernelInceptionDistance(feature=_Precomputed(real.shape[1]), subset_size=size, subsets=50)
        metric.update(torch.from_numpy(real).float(), real=True)
        metric.update(torch.from_numpy(fake).float(), real=False)
        mean, std = metric.compute()
    return float(mean), float(std)


def inception_score(probabilities: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """IS (Salimans et al. 2016): exp E[KL(p(y|x) || p(y))] over 10 splits, mean and std. Higher is better,
    at most the number of classes."""
    from torchmetrics.image.inception import InceptionScore

    logits = torch.from_numpy(np.log(np.clip(probabilities, 1e-12, 1.0))).float()
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(seed)
        metric = InceptionScore(feature=_Precomputed(logits.shape[1]), splits=10)
        metric.update(logits)
        mean, std = metric.compute()
    return float(mean), float(std)


def _radii(points: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point."""
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    return distances[:, k]


def _balls(centres: np.ndarray, radii: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query, how many balls (centre, radius) hold it; for each ball, whether any query is inside."""
    centre_tensor, radius_tensor = torch.from_numpy(centres), torch.from_numpy(radii)
    counts, hit = [], torch.zeros(len(centres), dtype=torch.bool)
    for chunk in torch.from_numpy(queries).split(512):
        inside = torch.cdist(chunk, centre_tensor) <= radius_tensor[None, :]
        counts.append(inside.sum(dim=1))
        hit |= inside.any(dim=0)
    return torch.cat(counts).numpy(), hit.numpy()


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> dict[str, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019): the share of fake samples inside the real
    manifold (k-NN balls around real features) and of real samples inside the fake manifold. Both in [0, 1],
    higher is better; precision is fidelity, recall is diversity."""
    in_real, _ = _balls(real, _radii(real, k), fake)
    in_fake, _ = _balls(fake, _radii(fake, k), real)
    return {"precision": float((in_real > 0).mean()), "recall": float((in_fake > 0).mean())}


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """Density and coverage (Naeem et al. 2020): density counts how many real k-NN balls hold each fake sample
    (about 1 for a faithful generator, above 1 when fakes crowd dense regions); coverage is the share of real
    balls holding at least one fake sample, in [0, 1], higher is better."""
    counts, covered = _balls(real, _radii(real, k), fake)
    return {"density": float(counts.sum() / (k * len(fake))), "coverage": float(covered.mean())}


def _subsample(features: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    return features[rng.choice(len(features), size, replace=False)] if len(features) > size else features


def image_scores(real_features: np.ndarray, fake_features: np.ndarray, extractor: str,
                 fake_probabilities: np.ndarray | None = None, seed: int = 0) -> dict:
    """Every feature-based score, as a JSON-ready dict named by its extractor."""
    rng = np.random.default_rng(seed)
    kid, kid_std = kernel_distance(real_features, fake_features, seed)
    results = {"extractor": extractor, "images": {"real": len(real_features), "synthetic": len(fake_features)},
               "fid": round(frechet_distance(real_features, fake_features), 4),
               "kid": round(kid, 6), "kid_std": round(kid_std, 6)}
    size = min(MAX_NEIGHBOUR_ROWS // 2, len(real_features), len(fake_features))
    real_part, fake_part = _subsample(real_features, size, rng), _subsample(fake_features, size, rng)
    results.update({k: round(v, 4) for k, v in precision_recall(real_part, fake_part).items()})
    results.update({k: round(v, 4) for k, v in density_coverage(real_part, fake_part).items()})
    if fake_probabilities is not None and len(fake_probabilities) >= 10:
        score, score_std = inception_score(fake_probabilities, seed)
        results["inception_score"], results["inception_score_std"] = round(score, 4), round(score_std, 4)
    return results


MIN_CLASS_IMAGES = 10  # fewer real or synthetic images of a class: no per-class scores for it
COLLAPSE_BAR = 0.5  # recall or coverage below this inside a class reads as collapse


def per_class_scores(real, real_features: np.ndarray, synthetic,
                     fake_features: np.ndarray) -> dict[str, dict[str, float]]:
    """Recall and coverage inside each class (real samples of the class against synthetic ones labelled with
    it; `real` and `synthetic` have `labels` indexing `classes`, as ImageSet and AudioSet do): a generator that
    draws one picture per class keeps its precision and the FID of the whole set low, and shows here as recall
    and coverage near 0."""
    scores = {}
    for index, name in enumerate(real.classes):
        if name not in synthetic.classes:
            continue
        mine = real_features[real.labels == index]
        theirs = fake_features[synthetic.labels == synthetic.classes.index(name)]
        if min(len(mine), len(theirs)) < MIN_CLASS_IMAGES:
            continue
        size = min(len(mine), len(theirs), 1000)
        rng = np.random.default_rng(index)
        mine = mine[rng.choice(len(mine), size, replace=False)]
        theirs = theirs[rng.choice(len(theirs), size, replace=False)]
        both = precision_recall(mine, theirs) | density_coverage(mine, theirs)
        scores[name] = {key: round(both[key], 4) for key in ("precision", "recall", "coverage")}
    return scores


def collapse_verdict(per_class: dict[str, dict[str, float]]) -> str:
    """Plain words on whether any class collapsed (recall or coverage under COLLAPSE_BAR)."""
    if not per_class:
        return f"no class had {MIN_CLASS_IMAGES} or more real and synthetic samples to judge"
    low = [name for name, s in per_class.items() if min(s["recall"], s["coverage"]) < COLLAPSE_BAR]
    if not low:
        return (f"no collapse: every class has recall and coverage of at least {COLLAPSE_BAR} "
                f"(lowest recall {min(s['recall'] for s in per_class.values()):.2f})")
    return (f"collapse in {len(low)} of {len(per_class)} classes ({', '.join(low)}): their synthetic samples "
            f"cover less than {COLLAPSE_BAR:.0%} of the real ones (recall or coverage)")
