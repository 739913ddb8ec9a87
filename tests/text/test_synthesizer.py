"""TextSynthesizer: generated texts stay in the training alphabet and length, repeat under a seed, and survive
save/load."""

import pytest

from ganforge import GanforgeError
from ganforge.text.synthesizer import TextSynthesizer
from tests.metrics.test_text import sentences

TEXTS = [" ".join(s) for s in sentences(120, 0)]
TINY = dict(mle_epochs=3, epochs=1, hidden_dim=32, embedding_dim=16, batch_size=32, seed=0)


@pytest.fixture(scope="module")
def model():
    return TextSynthesizer(**TINY).fit(TEXTS)


def test_texts_use_the_training_alphabet_and_respect_the_length(model):
    alphabet = set("".join(TEXTS))
    texts = model.sample(40, seed=1)
    assert len(texts) == 40 and all(isinstance(t, str) for t in texts)
    assert set("".join(texts)) <= alphabet
    assert max(map(len, texts)) <= model.text_config.max_length == max(map(len, TEXTS)) + 1
    assert model.training_["mle"][-1] < model.training_["mle"][0]  # maximum likelihood learns
    assert len(model.training_["adversarial"]) == 1


def test_seeds_repeat_and_save_load_round_trips(model, tmp_path):
    assert model.sample(10, seed=3) == model.sample(10, seed=3)
    assert model.sample(10, seed=3) != model.sample(10, seed=4)
    model.save(tmp_path / "m")
    assert TextSynthesizer.load(tmp_path / "m").sample(10, seed=3) == model.sample(10, seed=3)


def test_word_level_without_adversarial_phase_and_bad_requests():
    words = TextSynthesizer(**{**TINY, "level": "word", "adversarial": "none"}).fit(TEXTS)
    vocabulary = {w for t in TEXTS for w in t.split()}
    assert all(set(t.split()) <= vocabulary for t in words.sample(20, seed=0))
    assert words.training_["adversarial"] == []
    with pytest.raises(GanforgeError, match="temperature"):
        words.sample(3, temperature=0)
    with pytest.raises(GanforgeError, match="two texts"):
        TextSynthesizer(**TINY).fit(["only one"])
