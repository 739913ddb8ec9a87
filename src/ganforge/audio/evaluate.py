"""Synthetic clips judged against real ones: a Frechet audio distance on the offline extractor's features,
precision/recall/coverage, label accuracy, per-class recall and coverage, copies of training clips, and the
plain-words verdict. Every score comes with two references computed the same way: half the real clips against
the other half (what a perfect generator would get) and white noise as loud as the real clips (what a
useless one would get)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors

from ..errors import GanforgeError
from ..metrics.features import collapse_verdict, density_coverage, frechet_distance, per_class_scores, precision_recall
from .data import AudioSet, clip_length
from .features import Extractor, train_extractor

Tensor = torch.Tensor
SHOWN = ("fad", "precision", "recall", "coverage", "label_accuracy", "copies")
MAX_NEIGHBOUR_ROWS = 2000
COPY_SHARE = 0.5  # a clip nearer a training clip than half the closest real pairs' distance is a copy


def _scores(extractor: Extractor, real_features: np.ndarray, synthetic: AudioSet, view: Tensor,
            seed: int) -> tuple[dict, np.ndarray]:
    """The scores of `synthetic` (whose extractor view is `view`) against real clips' features."""
    fake_features = extractor.features_of(view)
    rng = np.random.default_rng(seed)
    size = min(MAX_NEIGHBOUR_ROWS, len(real_features), len(fake_features))
    real_part = real_features[rng.choice(len(real_features), size, replace=False)]
    fake_part = fake_features[rng.choice(len(fake_features), size, replace=False)]
    scores = {"fad": frechet_distance(real_features, fake_features)}
    if size > 3:  # the neighbourhoods need a few clips (few held out: fewer neighbours than the usual 3 and 5)
        neighbourly = (precision_recall(real_part, fake_part, k=min(3, size - 1))
                       | density_coverage(real_part, fake_part, k=min(5, size - 1)))
        scores.update({key: value for key, value in neighbourly.items() if key in ("precision", "recall", "coverage")})
    probabilities = extractor.probabilities_of(view)
    if probabilities is not None and synthetic.labels is not None and extractor.class_names:
        expected = np.array([extractor.class_names.index(c) if c in extractor.class_names else -1
                             for c in synthetic.classes])[synthetic.labels]
        if (expected >= 0).all():
            scores["label_accuracy"] = float((probabilities.argmax(1) == expected).mean())
    return {key: round(float(value), 4) for key, value in scores.items()}, fake_features


def noise_like(real: AudioSet, samples: int, seed: int) -> AudioSet:
    """White noise clips as loud (RMS) as the real ones, labelled like them: the useless generator."""
    rng = np.random.default_rng(seed)
    clips = real.clips(samples)
    loudness = np.sqrt((clips ** 2).mean(axis=1, keepdims=True))
    noise = np.clip(rng.standard_normal(clips.shape) * loudness, -1, 1).astype(np.float32)
    return AudioSet(list(noise), real.sample_rate, real.labels, real.classes, real.labelled_by)


def copies(train_view: Tensor, fake_view: Tensor) -> dict:
    """Each synthetic clip's distance to its nearest training clip, in the log-spectrogram view. A copy is
    nearer than COPY_SHARE x the 1st percentile of the distances between distinct training clips."""
    train_view, fake_view = train_view.flatten(1).numpy(), fake_view.flatten(1).numpy()
    index = NearestNeighbors(n_neighbors=2).fit(train_view)
    between = index.kneighbors(train_view)[0][:, 1]  # the nearest other training clip
    nearest = index.kneighbors(fake_view, n_neighbors=1)[0][:, 0]
    threshold = COPY_SHARE * float(np.quantile(between, 0.01))
    return {"copies": round(float((nearest < threshold).mean()), 4),
            "median_nearest_distance": round(float(np.median(nearest)), 4),
            "median_distance_between_training_clips": round(float(np.median(between)), 4)}


def evaluate_audio(real: AudioSet, synthetic: AudioSet, training: AudioSet | None = None, seed: int = 0,
                   extractor: Extractor | None = None) -> dict:
    """Scores of `synthetic` against `real`, with the real-against-real and noise references. Copies are
    looked for among `training` (the model's training clips) or, without it, among `real`; the extractor
    learns from the same clips (more of them than a held-out `real` usually has)."""
    if real.sample_rate != synthetic.sample_rate:
        raise GanforgeError(f"real clips are at {real.sample_rate:,} Hz, synthetic ones at "
                            f"{synthetic.sample_rate:,} Hz; read both at one rate")
    if len(real) < 4:
        raise GanforgeError(f"need at least 4 real clips to evaluate against, got {len(real)}")
    samples, _ = clip_length(real)
    extractor = extractor or train_extractor(training if training is not None else real, samples, seed)
    order = np.random.default_rng(seed).permutation(len(real))
    half_a, half_b = order[: len(real) // 2], order[len(real) // 2:]
    noise = noise_like(real, samples, seed)
    # each set of clips is taken through the spectrogram (and the network) once
    real_view, fake_view = extractor.view(real), extractor.view(synthetic)
    train_view = real_view if training is None else extractor.view(training)
    real_features = extractor.features_of(real_view)
    scores, fake_features = _scores(extractor, real_features, synthetic, fake_view, seed)
    reference, _ = _scores(extractor, real_features[half_a], real.subset(half_b), real_view[half_b], seed)
    noise, _ = _scores(extractor, real_features, noise, extractor.view(noise), seed)
    copied = copies(train_view, fake_view)
    scores["copies"] = copied["copies"]
    reference["copies"] = copies(real_view[half_a], real_view[half_b])["copies"]
    results = {"extractor": extractor.name, "extractor_accuracy": extractor.held_out_accuracy,
               "clips": {"real": len(real), "synthetic": len(synthetic)}, "sample_rate": real.sample_rate,
               "scores": scores, "real_reference": reference, "noise_reference": noise, "nearest": copied}
    if real.labels is not None and synthetic.labels is not None:
        results["per_class"] = per_class_scores(real, real_features, synthetic, fake_features)
        results["collapse"] = collapse_verdict(results["per_class"])
    results["verdict"] = verdict(results)
    return results


def verdict(results: dict) -> dict[str, str]:
    """Plain words, each placing the score between its two references."""
    scores, real, noise = results["scores"], results["real_reference"], results["noise_reference"]
    words = {}
    span = max(noise["fad"] - real["fad"], 1e-9)
    closeness = 1 - (scores["fad"] - real["fad"]) / span  # 1: as close as real clips, 0: as far as noise
    words["fidelity"] = (f"Frechet audio distance {scores['fad']:.3g}: " +
                         ("about as close to the real clips as real clips are to each other" if closeness > 0.95 else
                          "closer to real clips than to noise" if closeness > 0.5 else
                          "nearer noise than real clips") +
                         f" (real against real {real['fad']:.3g}, noise {noise['fad']:.3g})")
    if "recall" in scores and "recall" in real:
        words["diversity"] = (f"recall {scores['recall']:.2f} and coverage {scores['coverage']:.2f} (real against "
                              f"real {real['recall']:.2f} / {real['coverage']:.2f}): " +
                              ("the clips span the real variety" if min(scores["recall"], scores["coverage"]) >= 0.5
                               else "the clips cover only part of the real variety"))
    if "label_accuracy" in scores:
        words["labels"] = (f"{scores['label_accuracy']:.0%} of the clips are heard as their label by the "
                           f"extractor (real held-out clips: {results['extractor_accuracy']:.0%})")
    words["copies"] = ("no synthetic clip copies a training clip" if scores["copies"] == 0 else
                       f"{scores['copies']:.1%} of the clips are near-copies of a training clip")
    return words
