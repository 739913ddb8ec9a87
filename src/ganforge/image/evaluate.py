"""Evaluate synthetic images against real ones: pick the extractor, compute features once, score."""

from __future__ import annotations

import numpy as np

from ..errors import GanforgeError
from ..metrics.features import collapse_verdict, image_scores, per_class_scores
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
