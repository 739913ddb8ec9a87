"""TextSynthesizer: generated texts stay in the training alphabet and length, repeat under a seed, and survive
save/load."""

import json
import random

import pytest
import torch

from ganforge import GanforgeError
from ganforge.metrics.text import memorisation
from ganforge.text.synthesizer import COPY_LIMIT, SHIP_SAMPLES, TEMPERATURE_MARGIN, TEMPERATURES, TextSynthesizer
from ganforge.text.tokenize import choose_level
from tests.metrics.test_text import OBJECTS, SUBJECTS, VERBS, sentences

TEXTS = [" ".join(s) for s in sentences(120, 0)]
TINY = dict(mle_epochs=3, epochs=1, hidden_dim=32, embedding_dim=16, batch_size=32, seed=0)


@pytest.fixture(scope="module")
def model():
    return TextSynthesizer(**TINY, level="char").fit(TEXTS)


def test_texts_use_the_training_alphabet_and_respect_the_length(model):
    alphabet = set("".join(TEXTS))
    texts = model.sample(40, seed=1)
    assert len(texts) == 40 and all(isinstance(t, str) for t in texts)
    assert set("".join(texts)) <= alphabet
    assert max(map(len, texts)) <= max(map(len, TEXTS)) == model.text_config.max_length - 1
    assert model.training_["mle"][-1] < model.training_["mle"][0]  # maximum likelihood learns
    assert len(model.training_["adversarial"]) == 1


def test_seeds_repeat_and_save_load_round_trips(model, tmp_path):
    assert model.sample(10, seed=3) == model.sample(10, seed=3)
    assert model.sample(10, seed=3) != model.sample(10, seed=4)
    model.save(tmp_path / "m")
    assert TextSynthesizer.load(tmp_path / "m").sample(10, seed=3) == model.sample(10, seed=3)


def test_a_model_saved_with_the_tied_output_layer_still_loads(tmp_path):
    tied = TextSynthesizer(**TINY, level="char", adversarial="none", tied_output=True).fit(TEXTS)
    assert "generator.project.weight" in tied.state()[1] and "generator.head.weight" not in tied.state()[1]
    assert "(tied to the input embedding)" in tied.training_["output"]
    tied.save(tmp_path / "old")
    config = json.loads((tmp_path / "old" / "config.json").read_text())
    del config["text_config"]["tied_output"]  # as written before the field existed
    del config["text_config"]["temperature"]  # nor did the sampling temperature: those folders sampled at 1
    del config["text_config"]["softmax_clusters"]  # nor an adaptive softmax
    (tmp_path / "old" / "config.json").write_text(json.dumps(config))
    old = TextSynthesizer.load(tmp_path / "old")
    assert old.text_config.temperature == 1.0 and old.sample(10, seed=3) == tied.sample(10, seed=3, temperature=1.0)


def test_word_level_without_adversarial_phase_and_bad_requests():
    words = TextSynthesizer(**{**TINY, "level": "word", "adversarial": "none"}).fit(TEXTS)
    vocabulary = {w for t in TEXTS for w in t.split()}
    assert all(set(t.split()) <= vocabulary for t in words.sample(20, seed=0))
    assert words.training_["adversarial"] == []
    with pytest.raises(GanforgeError, match="temperature"):
        words.sample(3, temperature=0)
    with pytest.raises(GanforgeError, match="two texts"):
        TextSynthesizer(**TINY).fit(["only one"])


def test_an_adaptive_softmax_is_chosen_for_large_vocabularies_trains_and_round_trips(tmp_path):
    from ganforge.text.synthesizer import ADAPTIVE_CLUSTERS, ADAPTIVE_FROM, _clusters, _output_reason

    assert _clusters("word", 3000) == ADAPTIVE_CLUSTERS and _clusters("word", ADAPTIVE_FROM) == ()
    assert _clusters("char", 3000) == ()
    vocabulary = {w for t in TEXTS for w in t.split()}
    adaptive = TextSynthesizer(**{**TINY, "level": "word", "softmax_clusters": (6, 12)}).fit(TEXTS)
    assert adaptive.text_config.softmax_clusters == (6, 12)
    output = adaptive.training_["output"]
    assert output.startswith("adaptive softmax over") and "(asked for)" in output
    assert "about half the cost" in _output_reason((250, 1000), 3000, "word", chosen=True)
    assert "generator.adaptive.head.weight" in adaptive.state()[1]
    assert adaptive.training_["mle"][-1] < adaptive.training_["mle"][0]
    assert all(set(t.split()) <= vocabulary for t in adaptive.sample(20, seed=0))
    adaptive.save(tmp_path / "m")
    assert TextSynthesizer.load(tmp_path / "m").sample(10, seed=3) == adaptive.sample(10, seed=3)
    # the small word list of these texts keeps one output layer by default
    plain = TextSynthesizer(**{**TINY, "level": "word", "adversarial": "none"}).fit(TEXTS)
    assert plain.text_config.softmax_clusters == () and "a small layer" in plain.training_["output"]
    with pytest.raises(GanforgeError, match="softmax_clusters"):
        TextSynthesizer(softmax_clusters=(12, 6))
    with pytest.raises(GanforgeError, match="softmax_clusters.*vocabulary of"):
        TextSynthesizer(**{**TINY, "level": "word", "softmax_clusters": (6, len(vocabulary) + 10)}).fit(TEXTS)


def test_policy_gradient_phase_keeps_the_baseline_and_round_trips(tmp_path):
    model = TextSynthesizer(**{**TINY, "level": "word", "adversarial": "policy-gradient", "rollouts": 2,
                               "reward_points": 3, "keep": "adversarial"}).fit(TEXTS)
    record = model.training_["adversarial"][0]
    assert set(record) >= {"loss_d", "loss_g", "reward"} and 0 < record["reward"] < 1
    vocabulary = {w for t in TEXTS for w in t.split()}
    assert all(set(t.split()) <= vocabulary for t in model.sample(20, seed=0))
    changed = [not torch.equal(a, b) for a, b in zip(model.generator_.parameters(), model.baseline_.parameters())]
    assert all(changed)  # the phase trained the whole generator and left the baseline as it was
    model.save(tmp_path / "pg")
    loaded = TextSynthesizer.load(tmp_path / "pg")
    assert loaded.sample(10, seed=5, baseline=True) == model.sample(10, seed=5, baseline=True)
    assert loaded.sample(10, seed=5) == model.sample(10, seed=5)


def test_low_temperature_repeats_more_and_a_model_without_gan_has_no_separate_baseline():
    model = TextSynthesizer(**{**TINY, "level": "word", "adversarial": "none", "mle_epochs": 40}).fit(TEXTS)
    cold, hot = model.sample(100, seed=0, temperature=0.2), model.sample(100, seed=0, temperature=1.5)
    grammatical = {f"{s} {v} {o}" for s in SUBJECTS for v in VERBS for o in OBJECTS}
    assert len(set(cold)) < 0.7 * len(set(hot))
    assert sum(t in grammatical for t in cold) > 2 * sum(t in grammatical for t in hot)
    assert model.baseline_ is None and model.sample(5, seed=2, baseline=True) == model.sample(5, seed=2)


def test_max_minutes_bounds_the_whole_fit():
    model = TextSynthesizer(**{**TINY, "mle_epochs": 10_000, "epochs": 10_000, "max_minutes": 0.3}).fit(TEXTS)
    assert model.training_["seconds"] < 30
    assert 1 <= len(model.training_["mle"]) < 10_000 and 1 <= len(model.training_["adversarial"]) < 10_000


def test_a_budget_spent_by_maximum_likelihood_still_ends_with_a_model(tmp_path):
    model = TextSynthesizer(**{**TINY, "mle_epochs": 10_000, "max_minutes": 0.01}).fit(TEXTS)
    assert len(model.training_["mle"]) >= 1 and model.training_["adversarial"] == []
    assert model.training_["shipped"]["model"] == "maximum likelihood"
    assert "budget" in model.training_["shipped"]["reason"] and model.baseline_ is None
    model.save(tmp_path / "m")
    assert len(TextSynthesizer.load(tmp_path / "m").sample(5, seed=0)) == 5


def test_level_is_chosen_from_the_texts_and_can_be_overridden():
    names = ["Mary", "Patricia", "Linda", "Barbara", "Elizabeth", "Jennifer", "Maria", "Susan"] * 5
    assert choose_level(TEXTS)[0] == "word" and "sentences" in choose_level(TEXTS)[1]
    assert choose_level(names)[0] == "char" and "names" in choose_level(names)[1]
    codes = [f"X{i}-{i * 7 % 13} unit {i * 31}" for i in range(40)]  # several tokens a line, few recur
    assert choose_level(codes)[0] == "char"
    fitted = TextSynthesizer(**{**TINY, "adversarial": "none"}).fit(names)
    assert fitted.text_config.level == "char" and "names" in fitted.training_["level_reason"]
    forced = TextSynthesizer(**{**TINY, "adversarial": "none", "level": "word"}).fit(names)
    assert forced.text_config.level == "word" and forced.training_["level_reason"] == "asked for"


MANY = [" ".join(s) for s in sentences(400, 2)]


def test_a_harmful_adversarial_phase_is_not_shipped():
    harmful = dict(TINY, level="word", mle_epochs=15, epochs=4, mle_weight=0.0, generator_lr=0.05,
                   discriminator_lr=0.05)
    model = TextSynthesizer(**harmful).fit(MANY)
    shipped = model.training_["shipped"]
    assert shipped["model"] == "maximum likelihood" and model.baseline_ is None
    scores = shipped["scores"]
    assert scores["adversarial"]["frechet_distance"] > scores["maximum likelihood"]["frechet_distance"]
    assert shipped["adversarial_nearer_share"] < 0.5 and "of 50 resamples" in shipped["reason"]
    assert model.training_["held_out"] == 50 and model.training_["texts"] == 350
    kept = TextSynthesizer(**{**harmful, "keep": "adversarial"}).fit(MANY)
    assert kept.training_["shipped"]["model"] == "adversarial" and kept.baseline_ is not None


def test_maximum_likelihood_stops_when_held_out_loss_stops_falling():
    model = TextSynthesizer(**{**TINY, "level": "word", "adversarial": "none", "mle_epochs": 200}).fit(MANY)
    assert len(model.training_["mle"]) < 200 and model.training_["held_out"] == 50


def test_within_a_time_budget_maximum_likelihood_runs_until_the_held_out_loss_stops_falling():
    settings = {**TINY, "level": "word", "adversarial": "none", "mle_epochs": None}
    unbudgeted = TextSynthesizer(**settings).fit(MANY)
    budgeted = TextSynthesizer(**settings, max_minutes=2).fit(MANY)
    assert len(unbudgeted.training_["mle"]) == 20  # the epoch count without a budget
    assert 20 < len(budgeted.training_["mle"]) and budgeted.training_["seconds"] < 100  # stopped by the loss


def test_maximum_likelihood_takes_smaller_steps_from_its_best_point_before_it_stops():
    heard = []
    settings = {**TINY, "level": "word", "adversarial": "none", "mle_epochs": 200}
    TextSynthesizer(**settings).fit(MANY, progress=lambda p: heard.append(p.figures))
    decayed = [i for i, figures in enumerate(heard) if "learning_rate" in figures]
    assert [heard[i]["learning_rate"] for i in decayed] == pytest.approx([2.5e-4, 6.25e-5])
    assert len(heard) < 200 and len(heard) - 1 - decayed[-1] >= 2  # then stopped when the loss stalled again
    best = min(figures["held_out_loss"] for figures in heard)
    assert min(figures["held_out_loss"] for figures in heard[decayed[0]:]) <= best  # smaller steps kept going


# a grammar of 46,656 sentences: 350 training lines hold under 1% of them, so a sentence written from the grammar
# is new unless it was copied
SLOTS = [SUBJECTS, VERBS, OBJECTS, ["today", "at noon", "last week", "again", "twice", "at night"],
         ["with care", "in haste", "quietly", "for fun", "by chance", "in the rain"],
         ["and left", "and smiled", "and waited", "and sang", "and slept", "and ran"]]


def test_training_on_past_the_lowest_loss_keeps_nearer_texts_that_are_not_copies():
    rng = random.Random(0)
    lines = [" ".join(rng.choice(slot) for slot in SLOTS) for _ in range(400)]
    model = TextSynthesizer(**{**TINY, "level": "word", "adversarial": "none", "mle_epochs": None}).fit(lines)
    beyond = model.training_["beyond_lowest_loss"]
    assert 1 <= beyond["epochs"] <= len(model.training_["mle"]) == 20  # at most as many epochs again
    assert beyond["frechet"] <= beyond["frechet_at_lowest_loss"] and beyond["copies_at_lowest_loss"] <= COPY_LIMIT
    assert beyond["stopped_by"] in {"epochs", "patience", "copies"}
    assert memorisation(model.sample(SHIP_SAMPLES, seed=0), lines) <= COPY_LIMIT  # the texts it was kept by


def test_a_generator_that_copies_is_not_trained_past_the_lowest_loss():
    # the 216-sentence grammar: 350 training lines hold nearly all of it, so texts are copies from the start
    model = TextSynthesizer(**{**TINY, "level": "word", "adversarial": "none", "mle_epochs": None}).fit(MANY)
    beyond = model.training_["beyond_lowest_loss"]
    assert beyond["stopped_by"] == "copies" and beyond["epochs"] == 0 and beyond["copies_at_lowest_loss"] > COPY_LIMIT
    asked = TextSynthesizer(**{**TINY, "level": "word", "adversarial": "none", "mle_epochs": 5}).fit(MANY)
    assert "beyond_lowest_loss" not in asked.training_  # epochs asked for are what runs


def test_fit_chooses_the_sampling_temperature_on_the_held_out_slice(tmp_path):
    model = TextSynthesizer(**{**TINY, "level": "word", "adversarial": "none", "mle_epochs": 15}).fit(MANY)
    choice = model.training_["temperature"]
    distances = {float(t): d for t, d in choice["distances"].items()}
    assert sorted(distances) == sorted(TEMPERATURES) and "50 held-out texts" in choice["reason"]
    best = min(distances, key=distances.get)
    expected = best if distances[best] <= (1 - TEMPERATURE_MARGIN) * distances[1.0] else 1.0
    assert choice["chosen"] == expected == model.text_config.temperature
    assert model.sample(20, seed=3) == model.sample(20, seed=3, temperature=expected)
    model.save(tmp_path / "m")
    loaded = TextSynthesizer.load(tmp_path / "m")
    assert loaded.text_config.temperature == expected and loaded.sample(20, seed=3) == model.sample(20, seed=3)


def test_an_explicit_temperature_is_kept_and_without_a_slice_it_is_one():
    asked = TextSynthesizer(**{**TINY, "level": "word", "adversarial": "none", "temperature": 1.2}).fit(MANY)
    assert asked.text_config.temperature == 1.2 and "temperature" not in asked.training_
    assert asked.sample(20, seed=1) == asked.sample(20, seed=1, temperature=1.2) != asked.sample(20, seed=1,
                                                                                                  temperature=1.0)
    small = TextSynthesizer(**{**TINY, "adversarial": "none"}).fit(TEXTS)  # too few texts to hold any out
    assert small.text_config.temperature == 1.0 and "no texts held out" in small.training_["temperature"]["reason"]
    with pytest.raises(GanforgeError, match="temperature"):
        TextSynthesizer(temperature=0)
