"""The image augmentation comparison: sizes, both accuracies, and its refusals."""

import numpy as np
import pytest

from ganforge import GanforgeError
from ganforge.image.augment import compare_augmentation
from ganforge.image.data import ImageSet


def test_both_accuracies_are_measured_on_the_same_untouched_test_set(digits):
    result = compare_augmentation(digits, labelled_share=0.1, epochs=3, seed=0, steps=60)
    assert abs(result["test"] - 0.2 * len(digits.images)) <= 1 and 130 <= result["labelled"] <= 150
    assert result["synthetic"] >= 4 * result["labelled"]
    assert 0.5 < result["accuracy_real"] <= 1 and 0.1 < result["accuracy_augmented"] <= 1  # chance is 0.1


def test_refusals_are_named(digits):
    with pytest.raises(GanforgeError, match="labelled images"):
        compare_augmentation(ImageSet(digits.images, None, []))
    with pytest.raises(GanforgeError, match="labelled-share"):
        compare_augmentation(digits, labelled_share=0)
    tiny = digits.subset(np.arange(12))
    with pytest.raises(GanforgeError, match="too few images per class"):
        compare_augmentation(tiny, labelled_share=0.1)
