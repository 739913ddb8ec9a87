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


class FakeSentenceTransformer:
    """Stands in for sentence-transformers: `cached` models load offline, others only when downloads are allowed."""

    cached = {"sentence-transformers/all-MiniLM-L6-v2"}

    def __init__(self, name, local_files_only=False):
        if local_files_only and name not in self.cached:
            raise OSError(f"{name} is not in the local cache")
        if name == "no-such-model":
            raise OSError("no-such-model is not a valid model identifier\nmore detail")

    def encode(self, texts, batch_size=32, normalize_embeddings=False, show_progress_bar=True):
        vectors = np.array([[len(t), t.count(" "), t.count("e"), 1.0] for t in texts])
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def sentence_transformers(monkeypatch):
    import importlib.machinery
    import sys
    import types

    module = types.ModuleType("sentence_transformers")
    module.__spec__ = importlib.machinery.ModuleSpec("sentence_transformers", None)
    module.SentenceTransformer = FakeSentenceTransformer
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    return FakeSentenceTransformer


def test_auto_uses_a_cached_pretrained_encoder_and_says_so(sentence_transformers):
    results = evaluate_texts(HELD_OUT, FRESH, TRAIN)
    assert results["encoder"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert "pretrained" in results["encoder_note"] and np.isfinite(results["frechet_distance"])


def test_auto_never_downloads_and_falls_back_to_the_offline_encoder(sentence_transformers, monkeypatch):
    monkeypatch.setattr(sentence_transformers, "cached", set())
    results = evaluate_texts(HELD_OUT, FRESH, TRAIN)
    assert results["encoder"] == "ganforge-lsa" and "not a pretrained model" in results["encoder_note"]


def test_a_named_encoder_is_loaded_or_refused_in_one_line(sentence_transformers):
    assert evaluate_texts(HELD_OUT, FRESH, encoder="my/model")["encoder"] == "my/model"
    assert evaluate_texts(HELD_OUT, FRESH, encoder="ganforge-lsa")["encoder"] == "ganforge-lsa"
    with pytest.raises(GanforgeError, match=r"--encoder no-such-model: cannot load .*valid model identifier\)$"):
        evaluate_texts(HELD_OUT, FRESH, encoder="no-such-model")


def test_a_named_encoder_without_the_package_says_how_to_get_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # as if not installed
    with pytest.raises(GanforgeError, match="pip install sentence-transformers"):
        evaluate_texts(HELD_OUT, FRESH, encoder="my/model")
    assert evaluate_texts(HELD_OUT, FRESH)["encoder"] == "ganforge-lsa"
