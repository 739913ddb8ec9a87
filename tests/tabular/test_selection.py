"""Training length by fidelity: the score, the kept generator, stopping, resuming, and the quantile encoding
that the default schedule trains on."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import ks_2samp

from ganforge import TabularSynthesizer
from ganforge.core.progress import Progress
from ganforge.errors import GanforgeError
from ganforge.tabular.encoders import QuantileEncoder
from ganforge.tabular.validation import BestGenerator

SMALL = dict(batch_size=100, embedding_dim=16, generator_dims=(32, 32), discriminator_dims=(32, 32), seed=0)


@pytest.mark.parametrize("values", [
    np.random.default_rng(0).lognormal(0, 2, 3000),  # heavy tail
    np.r_[np.random.default_rng(1).normal(-5, 1, 1500), np.random.default_rng(2).normal(5, 0.3, 1500)],
    np.random.default_rng(3).choice([80.0, 120.0, 170.0, 250.0], 3000, p=[0.1, 0.5, 0.3, 0.1]),
])
def test_quantile_encoding_round_trips_the_distribution(values):
    rng = np.random.default_rng(0)
    encoder = QuantileEncoder.fit(values)
    scalars, codes = encoder.encode(values, rng)
    assert scalars.min() > -1 and scalars.max() < 1  # inside tanh's range
    assert abs(scalars.mean()) < 0.02 and abs(scalars.std() * 4 - 1) < 0.1  # normal scores
    decoded = encoder.decode(np.random.default_rng(1).normal(0, 0.25, (3000, 1)), codes, rng)
    assert ks_2samp(decoded, values).statistic < 0.05
    assert decoded.min() >= values.min() and decoded.max() <= values.max()
    edge_share = np.mean((decoded == values.min()) | (decoded == values.max()))
    assert edge_share <= np.mean((values == values.min()) | (values == values.max())) + 0.01  # no pile-up


def _nearer_train_than_holdout(values: np.ndarray, train: np.ndarray, holdout: np.ndarray) -> float:
    def distance(reference):
        reference = np.sort(reference)
        right = np.clip(np.searchsorted(reference, values), 1, len(reference) - 1)
        return np.minimum(abs(values - reference[right - 1]), abs(values - reference[right]))
    return float(np.mean(distance(train) < distance(holdout)))


def test_decoded_values_sit_no_nearer_the_training_values_than_fresh_real_ones():
    shares, through_every_value = [], []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        train, holdout = rng.lognormal(0, 1, 1000), rng.lognormal(0, 1, 1000)
        scores = rng.normal(0, 0.25, (1000, 1))
        for points, kept in ((None, shares), (1000, through_every_value)):
            decoded = QuantileEncoder.fit(train, points=points).decode(scores, np.zeros((1000, 0), int), rng)
            kept.append(_nearer_train_than_holdout(decoded, train, holdout))
            assert ks_2samp(decoded, train).statistic < 0.06  # still the column's distribution
    assert np.mean(shares) < 0.55  # about half, as for a fresh real sample
    assert np.mean(through_every_value) > 0.65  # ln 2: why the knots are fewer than the values


def test_a_heavy_tail_keeps_its_values_rather_than_one_long_even_segment():
    rng = np.random.default_rng(0)
    train = rng.lognormal(0, 1.5, 400)
    scores = rng.normal(0, 0.25, (20_000, 1))
    kept = QuantileEncoder.fit(train).decode(scores, np.zeros((20_000, 0), int), rng)
    evenly = QuantileEncoder.fit(train, points=40).decode(scores, np.zeros((20_000, 0), int), rng)
    real = np.quantile(train, 0.99)
    assert abs(np.quantile(kept, 0.99) / real - 1) < 0.1 and abs(kept.mean() / train.mean() - 1) < 0.1
    assert np.quantile(evenly, 0.99) > 1.5 * real  # what the tail values are kept for


def test_calibration_keeps_the_generators_ordering_and_missing_rows():
    values = np.r_[np.random.default_rng(0).exponential(3, 900), [np.nan] * 100]
    encoder = QuantileEncoder.fit(values)
    raw = np.random.default_rng(1).normal(2, 0.01, (1000, 1))  # a generator stuck far off the real spread
    codes = np.c_[np.r_[np.zeros(900), np.ones(100)].astype(int)]
    decoded = encoder.decode(raw, codes, np.random.default_rng(2), calibrate=True)
    assert np.isnan(decoded[900:]).all()
    assert abs(np.nanmedian(decoded) - np.nanmedian(values)) < 0.3  # the batch lands on the real quantiles
    order = np.argsort(raw[:900, 0])
    assert np.all(np.diff(decoded[:900][order]) >= 0)


def test_best_generator_keeps_the_best_weights_and_stops_on_a_plateau():
    scores = iter([0.5, 0.7, 0.69, 0.68, 0.7005, 0.6, 0.65])
    model = torch.nn.Linear(1, 1)
    tracker = BestGenerator(lambda generator: next(scores), patience=3, min_rounds=2)
    stops = []
    for round_ in range(1, 8):
        with torch.no_grad():
            model.weight.fill_(round_)
        stops.append(tracker(Progress("adversarial", round_, {}, model)))
        if stops[-1]:
            break
    assert stops == [False, False, False, False, True]  # no gain of 0.002 in three rounds after round 2
    assert tracker.best_round == 5 and tracker.best_state["weight"].item() == 5  # 0.7005 was the best
    assert [point[0] for point in tracker.curve] == [1, 2, 3, 4, 5]


def correlated_table(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=rows)
    return pd.DataFrame({"x": x, "y": np.exp(x + 0.3 * rng.normal(size=rows)).round(3),
                         "group": np.where(x + 0.5 * rng.normal(size=rows) > 0, "high", "low")})


def test_default_schedule_trains_in_steps_and_scores_as_it_goes(monkeypatch):
    import ganforge.tabular.synthesizer as synthesizer

    monkeypatch.setattr(synthesizer, "MAX_ROUNDS", 8)  # 800 steps of the default networks
    model = TabularSynthesizer(seed=0).fit(correlated_table())
    validation = model.training_["validation"]
    assert [step for step, _ in validation["curve"]] == list(range(100, 900, 100))
    assert model.training_["steps"] == 800 and model.training_["stopped_by"] == "steps"
    assert validation["curve"][-1][1] > validation["curve"][0][1]  # the score sees the generator learn
    rows = model.sample(2000, seed=0)
    assert rows["x"].corr(np.log(rows["y"])) > 0.5  # 0.96 in the data: a generator that learned something


def test_early_stopping_keeps_the_best_scored_generator(monkeypatch):
    import ganforge.tabular.synthesizer as synthesizer

    monkeypatch.setattr(synthesizer, "MAX_ROUNDS", 6)
    monkeypatch.setattr(synthesizer, "STEPS_PER_ROUND", 10)
    trackers = []

    class Recorded(synthesizer.BestGenerator):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            trackers.append(self)

    monkeypatch.setattr(synthesizer, "BestGenerator", Recorded)
    model = TabularSynthesizer(**SMALL, early_stopping=True).fit(correlated_table())
    validation = model.training_["validation"]
    curve = dict((step, score) for step, score in validation["curve"])
    assert validation["best_score"] == max(curve.values()) and validation["best_step"] == max(curve, key=curve.get)
    for key, value in trackers[0].best_state.items():  # the kept generator is the best-scored one
        assert torch.equal(value, model.generator_.state_dict()[key]), key


def test_steps_set_the_length_of_a_default_fit():
    model = TabularSynthesizer(**SMALL, steps=150).fit(correlated_table())
    assert model.training_["steps"] == 200 and [s for s, _ in model.training_["validation"]["curve"]] == [100, 200]
    short = TabularSynthesizer(**SMALL, steps=30).fit(correlated_table())
    assert short.training_["steps"] == 30 and short.training_["validation"]["steps_per_score"] == 30


def test_steps_beside_epochs_is_refused():
    with pytest.raises(GanforgeError, match="steps sets the length"):
        TabularSynthesizer(**SMALL, steps=100, epochs=2).fit(correlated_table())


def test_explicit_epochs_train_exactly_that_long_without_selection():
    model = TabularSynthesizer(**SMALL, epochs=2).fit(correlated_table())
    assert model.training_["epochs_run"] == 2 and "validation" not in model.training_


def test_a_resumed_fit_selects_as_an_uninterrupted_one(tmp_path, monkeypatch):
    import ganforge.tabular.synthesizer as synthesizer

    monkeypatch.setattr(synthesizer, "MAX_ROUNDS", 4)
    monkeypatch.setattr(synthesizer, "STEPS_PER_ROUND", 5)
    monkeypatch.setattr(synthesizer, "MIN_ROUNDS", 10)  # run all four rounds
    table = correlated_table(200)
    whole = TabularSynthesizer(**SMALL).fit(table)

    from ganforge.core import trainer

    original = trainer.update_ema
    calls = {"n": 0}

    def interrupt_once(*args, **kwargs):  # Ctrl-C in the third round (after two checkpointed rounds)
        calls["n"] += 1
        if calls["n"] == 12:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(trainer, "update_ema", interrupt_once)
    with pytest.raises(trainer.TrainingInterrupted):
        TabularSynthesizer(**SMALL).fit(table, checkpoint_dir=tmp_path, checkpoint_every=1)
    monkeypatch.setattr(trainer, "update_ema", original)
    resumed = TabularSynthesizer(**SMALL).fit(table, checkpoint_dir=tmp_path, resume=True, checkpoint_every=1)
    assert resumed.training_["validation"]["curve"] == whole.training_["validation"]["curve"]
    assert resumed.training_["validation"]["best_step"] == whole.training_["validation"]["best_step"]
    for key, value in whole.generator_.state_dict().items():
        assert torch.equal(value, resumed.generator_.state_dict()[key]), key
