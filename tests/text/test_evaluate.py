"""Text evaluation: the offline encoder's Frechet distance and the score table react the right way to real,
shuffled, repeated and copied texts."""

import random

import numpy as np
import pytest

from ganforge import GanforgeError
from ganforge.text.evaluate import SentenceEncoder, evaluate_texts
from tests.metrics.test_text import sentences

TRAIN = [" ".join(s) + "." for s in sentences(400, 0)]
HELD_OUT = [" ".join(s) + "." for s in sentences(200, 1)]
FRESH = [" ".join(s) + "." for s in sentences(200, 2)]


def shuffled(texts):
    return [" ".join(random.Random(i).sample(t.split(), len(t.split()))) for i, t in enumerate(texts)]


def test_encoder_gives_unit_views_and_separates_shuffled_text():
    encoder = SentenceEncoder(TRAIN + HELD_OUT)
    vectors = encoder(HELD_OUT[:10])
    views = len(encoder.views)
    assert vectors.shape[0] == 10 and views == 3
    norms = np.linalg.norm(vectors.reshape(10, views, -1), axis=2)
    assert np.allclose(norms[norms > 0], 1.0)


def test_scores_react_to_real_shuffled_repeated_and_copied_texts():
    real = evaluate_texts(HELD_OUT, FRESH, TRAIN)
    mixed = evaluate_texts(HELD_OUT, shuffled(FRESH), TRAIN)
    repeated = evaluate_texts(HELD_OUT, [FRESH[0]] * 200, TRAIN)
    copied = evaluate_texts(HELD_OUT, TRAIN[:200], TRAIN)
    assert real["bleu4"] > 0.9 and real["bleu4"] > mixed["bleu4"] + 0.3
    assert real["frechet_distance"] * 2 < mixed["frechet_distance"]
    assert real["frechet_distance"] * 3 < repeated["frechet_distance"]
    assert repeated["self_bleu4"] == pytest.approx(1.0) and repeated["distinct2"] < 0.05 < real["distinct2"]
    assert copied["memorisation"] == 1.0 and real["memorisation"] < 1.0
    assert real["real_reference"]["bleu4"] > 0.9  # what real text achieves, reported beside
    assert real["encoder"] == "ganforge-lsa" and "not a pretrained" in real["encoder_note"]
    assert evaluate_texts(HELD_OUT, FRESH)["memorisation"] is None  # no training texts given


def test_too_few_texts_is_an_error():
    with pytest.raises(GanforgeError, match="synthetic texts number 2"):
        evaluate_texts(HELD_OUT, FRESH[:2])
