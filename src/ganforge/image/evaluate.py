"""Evaluate synthetic images against real ones: pick the extractor, compute features once, score."""

from __future__ import annotations

import numpy as np

from ..errors import GanforgeError
from ..metrics.features import density_coverage, image_scores, precision_recall
from .data import ImageSet
from .features import FeatureNet, InceptionFeatures, extract, probabilities_of, train_feature_net

EXTRACTORS = ("auto", "ganforge-cnn", "inception")


def choose_extractor(kind: str, real: ImageSet, seed: int = 0, feature_net: FeatureNet | None = None):
    """'inception' needs its weights installed; 'ganforge-cnn' trains on the real images (or reuses
    `feature_net`); 'auto' takes Inception when installed, else the offline network, and says which."""
    if kind not in EXTRACTORS:
        raise GanforgeError(f"--features {kind!r} is not one of {', '.join(EXTRACTORS)}")
    if kind == "inception" or (kind == "auto" and feature_net is None and InceptionFeatures.available()):
        return InceptionFeatures.load()
    return feature_net if feature_net is not None else train_feature_net(real, seed)


MIN_CLASS_IMAGES = 10  # fewer real or synthetic images of a class: no per-class scores for it
COLLAPSE_BAR = 0.5  # recall or coverage below this inside a class reads as collapse


def per_class_scores(real: ImageSet, real_features: np.ndarray, synthetic: ImageSet,
                     fake_features: np.ndarray) -> dict[str, dict[str, float]]:
    """Recall and coverage inside each class (real images of the class against synthetic images labelled
    with it): a generator that draws one picture per class keeps its precision and the FID of the whole set
    low, and shows here as recall and coverage near 0."""
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
        return "no class had enough real and synthetic images to judge"
    low = [name for name, s in per_class.items() if min(s["recall"], s["coverage"]) < COLLAPSE_BAR]
    if not low:
        return (f"no collapse: every class has recall and coverage of at least {COLLAPSE_BAR} "
                f"(lowest recall {min(s['recall'] for s in per_class.values()):.2f})")
    return (f"collapse in {len(low)} of {len(per_class)} classes ({', '.join(low)}): their synthetic images "
            f"cover less than {COLLAPSE_BAR:.0%} of the real ones (recall or coverage)")


def evaluate_images(real: ImageSet, synthetic: ImageSet, extractor=None, seed: int = 0) -> dict:
    """Fidelity and diversity scores of `synthetic` against `real` under one extractor (the offline network
    trained on `real` when none is given). With labelled synthetic images of the real classes and a
    label-trained network, also the share classified as their own label. With labels on both sides,
    recall and coverage per class and a collapse verdict."""
    if real.channels != synthetic.channels:
        raise GanforgeError(f"real images have {real.channels} channel(s), synthetic ones {synthetic.channels}")
    extractor = extractor if extractor is not None else train_feature_net(real, seed)
    fake_features = extract(extractor, synthetic.images)
    real_features = extract(extractor, real.images)
    probabilities = probabilities_of(extractor, fake_features) if isinstance(extractor, FeatureNet) else None
    results = image_scores(real_features, fake_features, extractor.name, probabilities, seed)
    if real.labels is not None and synthetic.labels is not None:
        results["per_class"] = per_class_scores(real, real_features, synthetic, fake_features)
        results["collapse"] = collapse_verdict(results["per_class"])
    results["extractor_accuracy"] = getattr(extractor, "held_out_accuracy", None)
    if getattr(extractor, "note", None):
        results["extractor_note"] = extractor.note
    names = getattr(extractor, "class_names", [])
    if probabilities is not None and names and synthetic.labels is not None:
        known = [names.index(c) if c in names else -1 for c in synthetic.classes]
        expected = np.asarray(known)[synthetic.labels]
        if (expected >= 0).all():
            results["label_accuracy"] = round(float((probabilities.argmax(1) == expected).mean()), 4)
    return results
