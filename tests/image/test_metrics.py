"""Image metrics react the right way: real against real scores well, noise badly, one class loses diversity."""

import numpy as np
import pytest

from ganforge.image.data import ImageSet
from ganforge.image.evaluate import evaluate_images
from ganforge.metrics.features import density_coverage, precision_recall


@pytest.fixture(scope="module")
def halves(digits):
    return digits.subset(np.arange(0, len(digits.images), 2)), digits.subset(np.arange(1, len(digits.images), 2))


def test_real_against_real_scores_well_and_noise_badly(halves, digit_features):
    first, second = halves
    real = evaluate_images(first, second, digit_features)
    noise = ImageSet(np.random.default_rng(0).integers(0, 256, second.images.shape, dtype=np.uint8), None, [])
    bad = evaluate_images(first, noise, digit_features)
    assert real["extractor"].startswith("ganforge-cnn") and real["extractor_accuracy"] > 0.8
    assert real["fid"] < 0.1 * bad["fid"] and real["kid"] < 0.1 * bad["kid"]
    assert real["precision"] > 0.6 and real["recall"] > 0.6 and real["coverage"] > 0.8
    assert bad["precision"] < 0.1 and bad["coverage"] < 0.1
    assert real["inception_score"] > 5 > bad["inception_score"]
    assert real["label_accuracy"] > 0.8  # labelled halves of the same classes


def test_one_class_keeps_precision_but_loses_recall_and_coverage(halves, digit_features):
    first, second = halves
    ones = second.subset(np.flatnonzero(second.labels == 1))
    result = evaluate_images(first, ones, digit_features)
    assert result["precision"] > 0.6
    assert result["recall"] < 0.3 and result["coverage"] < 0.3
    assert result["inception_score"] < 2


def test_one_picture_per_class_is_called_collapse_and_real_halves_are_not(halves, digit_features):
    first, second = halves
    healthy = evaluate_images(first, second, digit_features)
    assert set(healthy["per_class"]) == set(first.classes) and healthy["collapse"].startswith("no collapse")
    assert all(s["recall"] > 0.5 and s["coverage"] > 0.5 for s in healthy["per_class"].values())
    # a conditional generator that ignores its noise: the same image for every sample of a class
    firsts = [np.flatnonzero(second.labels == c)[0] for c in range(len(second.classes))]
    copies = np.repeat(second.images[firsts], 40, axis=0)
    labels = np.repeat(np.arange(len(second.classes)), 40)
    collapsed = evaluate_images(first, ImageSet(copies, labels, list(second.classes)), digit_features)
    assert collapsed["collapse"].startswith(f"collapse in {len(first.classes)} of {len(first.classes)} classes")
    assert all(s["recall"] < 0.2 for s in collapsed["per_class"].values())
    assert collapsed["precision"] > 0.5  # the whole-set precision alone would not tell


def test_neighbour_metrics_on_known_geometry():
    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(400, 3))
    same = precision_recall(cloud[:200], cloud[200:])
    assert same["precision"] > 0.8 and same["recall"] > 0.8
    far = density_coverage(cloud[:200], cloud[200:] + 10)
    assert far == {"density": 0.0, "coverage": 0.0}
