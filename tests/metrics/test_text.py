"""Text metrics: the same numbers as NLTK's BLEU, and the right reactions to real, shuffled and repeated text."""

import random

import pytest
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from ganforge.metrics.text import bleu, distinct_n, memorisation, self_bleu

SUBJECTS = ["the cat", "a dog", "my neighbour", "the old man", "a child", "the teacher"]
VERBS = ["sat on", "looked at", "walked past", "painted", "found", "forgot"]
OBJECTS = ["the red mat", "a small house", "the quiet river", "an open door", "the last train", "a green hill"]


def sentences(count: int, seed: int) -> list[list[str]]:
    """A toy language with a grammar: what real held-out text is to a generator's training text."""
    rng = random.Random(seed)
    return [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}".split() for _ in range(count)]


@pytest.mark.parametrize("n", [2, 3, 4])
def test_bleu_and_self_bleu_equal_nltk(n):
    rng = random.Random(n)
    words = "the cat sat on a mat and dog ran far away".split()
    references = [[rng.choice(words) for _ in range(rng.randint(3, 12))] for _ in range(50)]
    generated = [[rng.choice(words) for _ in range(rng.randint(1, 12))] for _ in range(30)]
    weights, smoothing = tuple([1 / n] * n), SmoothingFunction().method1
    expected = sum(sentence_bleu(references, h, weights=weights, smoothing_function=smoothing)
                   for h in generated) / len(generated)
    expected_self = sum(sentence_bleu(generated[:i] + generated[i + 1:], h, weights=weights,
                                      smoothing_function=smoothing) for i, h in enumerate(generated)) / len(generated)
    assert bleu(generated, references, n) == pytest.approx(expected, abs=1e-12)
    assert self_bleu(generated, n) == pytest.approx(expected_self, abs=1e-12)


def test_held_out_text_scores_well_shuffled_and_repeated_text_badly():
    train, held_out = sentences(300, 0), sentences(200, 1)
    shuffled = [random.Random(i).sample(s, len(s)) for i, s in enumerate(held_out)]
    repeated = [held_out[0]] * 200
    assert bleu(held_out, train) > 0.9 > 0.5 > bleu(shuffled, train)
    assert self_bleu(repeated) == pytest.approx(1.0) and self_bleu(held_out) < 1.0
    assert distinct_n(repeated, 2) < 0.1 * distinct_n(held_out, 2)
    assert distinct_n(shuffled, 2) > distinct_n(held_out, 2)  # nonsense is diverse: why both axes are shown


def test_memorisation_counts_verbatim_copies():
    training = ["a b c", "d e f"]
    assert memorisation(["a b c", "x y", "d e f", "a b"], training) == 0.5
    with pytest.raises(ValueError):
        memorisation([], training)
