"""Categories at their training shares: the tilt on the generator's logits, and what a fitted model samples."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from ganforge import TabularSynthesizer
from ganforge.errors import GanforgeError
from ganforge.tabular.calibration import block_shares, exact_counts, fit_tilt, refit_on_kept, shares_to_counts
from ganforge.tabular.networks import Blocks
from ganforge.tabular.transform import Layout

SMALL = dict(batch_size=100, embedding_dim=16, generator_dims=(32, 32), discriminator_dims=(32, 32), seed=0,
             rejection_sampling=False)


def test_the_tilt_brings_every_blocks_mean_share_to_its_target():
    layout = Layout(n_scalars=0, block_sizes=(3, 5), conditional_blocks=(0, 1))
    logits = torch.randn(4000, 8, generator=torch.Generator().manual_seed(0)) * 2 + torch.tensor(
        [3.0, 0, -2, 1, 1, 0, -1, -3])  # a generator far off the real shares, each row its own mix
    codes = np.c_[np.random.default_rng(0).choice(3, 1000, p=[0.1, 0.3, 0.6]),
                  np.random.default_rng(1).choice(5, 1000, p=[0.05, 0.05, 0.1, 0.3, 0.5])]
    target = block_shares(codes, layout.block_sizes)
    tilt = torch.as_tensor(fit_tilt(logits, target, layout), dtype=torch.float32)
    shares = Blocks(layout).log_softmax(logits + tilt).exp().mean(0).numpy()
    assert np.abs(shares / target - 1).max() < 0.02  # within 2% of each share
    assert np.abs(Blocks(layout).log_softmax(logits).exp().mean(0).numpy() - target).max() > 0.2  # it had work
    sampled = Blocks(layout).sample(logits + tilt, torch.Generator().manual_seed(1)).numpy()
    assert abs(np.mean(sampled[:, 0] == 0) - target[0]) < 0.02  # what sampling draws follows


def test_the_refit_brings_the_rows_a_critic_keeps_to_the_target():
    layout = Layout(n_scalars=0, block_sizes=(4,), conditional_blocks=(0,))
    logits = torch.randn(20_000, 4, generator=torch.Generator().manual_seed(0))
    target = np.array([0.4, 0.3, 0.2, 0.1])
    keep_chance = np.array([0.2, 1.0, 0.6, 1.0])  # a critic that drops most rows of the first category

    def kept_codes(tilt):
        codes = Blocks(layout).sample(logits + torch.as_tensor(tilt, dtype=torch.float32),
                                      torch.Generator().manual_seed(1)).numpy()
        return codes[np.random.default_rng(2).random(len(codes)) < keep_chance[codes[:, 0]]]

    before = fit_tilt(logits, target, layout)  # right before the critic acts, wrong after it
    assert abs(block_shares(kept_codes(before), (4,))[0] - 0.4) > 0.2
    after, first, last = refit_on_kept(before, target, (4,), kept_codes)
    assert abs(first[0] - 0.4) > 0.2  # what it reports it found
    assert np.abs(block_shares(kept_codes(after), (4,)) - target).max() < 0.01
    assert np.abs(last - target).max() < 0.01  # and what it left


def test_a_critic_whose_kept_rows_the_tilt_cannot_bring_back_is_not_kept(monkeypatch):
    """A critic that keeps almost no rows of one category: no tilt brings its share back, so rejection sampling
    would put that category far below its training share; the model keeps every row instead, and says why."""
    import ganforge.tabular.synthesizer as synthesizer

    class Biased:  # keeps one row in a thousand of the first category's first level
        def keep(self, scalars, codes, layout, generator):
            return (codes[:, 0] != 0) | (torch.rand(len(codes), generator=generator) < 0.001)

    monkeypatch.setattr(synthesizer, "fit_rejection_sampler",
                        lambda *args, **kwargs: (Biased(), {"kept": True, "reason": "a row critic (a stand-in)"}))
    table = _table()
    model = TabularSynthesizer(steps=100, **{**SMALL, "rejection_sampling": True}).fit(table)
    assert model.rejection_ is None
    reason = model.training_["rejection"]["reason"]  # the tilt that would bring the shares back leaves
    assert "generated rows once the category tilt" in reason and reason.endswith("every row is kept")  # 0.2%
    assert _gap(table["kind"], model.sample(6000, seed=1)["kind"]) < 0.025


def test_a_code_never_seen_gets_a_finite_small_share():
    shares = block_shares(np.array([[0], [0], [1]]), (3,))
    assert np.isfinite(np.log(shares)).all() and shares[2] < 0.15 and abs(shares.sum() - 1) < 1e-9


def test_whole_counts_follow_the_shares_and_sum_to_the_rows():
    assert shares_to_counts(np.array([0.5, 0.3, 0.2]), 7).tolist() == [4, 2, 1]
    assert shares_to_counts(np.array([1, 1, 1]) / 3, 100).sum() == 100


def test_exact_counts_moves_the_rows_nearest_to_the_codes_short():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(500, 4)) + np.log([0.4, 0.3, 0.2, 0.1])
    codes = scores.argmax(axis=1)
    target = np.array([150, 150, 100, 100])
    moved = exact_counts(codes, scores, target)
    assert np.bincount(moved, minlength=4).tolist() == target.tolist()
    before = np.bincount(codes, minlength=4)
    assert (moved != codes).sum() == np.abs(before - target).sum() // 2  # no row moves twice or needlessly
    changed = moved != codes
    assert (before[codes[changed]] > target[codes[changed]]).all()  # only from codes in excess ...
    assert (before[moved[changed]] < target[moved[changed]]).all()  # ... to codes short
    # of two levels, the rows that move are those whose scores for the two are closest
    pair = np.c_[np.zeros(100), np.linspace(-3, 1, 100)]
    two = exact_counts(pair.argmax(axis=1), pair, np.array([50, 50]))
    assert two.tolist() == [0] * 50 + [1] * 50


def test_a_small_sample_holds_each_category_at_its_training_count(monkeypatch):
    table = _table()
    model = TabularSynthesizer(steps=100, **SMALL).fit(table)
    wanted = shares_to_counts(table["kind"].value_counts(normalize=True).sort_index().to_numpy(), 90)
    for seed in range(3):
        counts = model.sample(90, seed=seed)["kind"].value_counts().sort_index()
        assert counts.to_numpy().tolist() == wanted.tolist()
    monkeypatch.setattr(TabularSynthesizer, "_counting_blocks", lambda self: [])
    off = [model.sample(90, seed=seed)["kind"].value_counts().sort_index().to_numpy() for seed in range(3)]
    assert any(len(counts) != len(wanted) or (counts != wanted).any() for counts in off)  # multinomial noise


def _table(rows: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    kind = rng.choice(["common", "middle", "rare"], rows, p=[0.7, 0.22, 0.08])
    return pd.DataFrame({"kind": kind, "flag": np.where(rng.random(rows) < 0.15, "yes", "no"),
                         "size": rng.gamma(2, 10, rows) + (kind == "rare") * 40})


def _gap(real: pd.Series, synthetic: pd.Series) -> float:
    a, b = real.value_counts(normalize=True), synthetic.value_counts(normalize=True)
    return float((a - b.reindex(a.index, fill_value=0)).abs().max())


def test_a_fitted_model_samples_categories_at_their_training_shares(tmp_path):
    table = _table()
    calibrated = TabularSynthesizer(steps=100, **SMALL).fit(table)
    raw = TabularSynthesizer(steps=100, calibrate_marginals=False, **SMALL).fit(table)
    ours, theirs = calibrated.sample(6000, seed=1), raw.sample(6000, seed=1)
    for column in ("kind", "flag"):
        assert _gap(table[column], ours[column]) < 0.025
    assert max(_gap(table[c], theirs[c]) for c in ("kind", "flag")) > 0.05  # 100 steps leave them off
    found = calibrated.training_["calibration"]  # what fit and info report: the worst share and its column
    worst = max(("kind", "flag"), key=lambda c: _gap(table[c], raw.sample(20_000, seed=0)[c]))
    assert found["largest_gap"] > 0.03 and found["column"] == worst
    # the tilt keeps what the generator learned: the rare kind still comes with its larger sizes
    assert ours.loc[ours.kind == "rare", "size"].median() > ours.loc[ours.kind == "common", "size"].median()
    calibrated.save(tmp_path / "model")
    again = TabularSynthesizer.load(tmp_path / "model")
    pd.testing.assert_frame_equal(again.sample(500, seed=3), calibrated.sample(500, seed=3))
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    config["category_tilt"] = config["category_tilt"][:-1]  # a hand-edited or damaged file
    (tmp_path / "model" / "config.json").write_text(json.dumps(config))
    with pytest.raises(GanforgeError, match="category_tilt has"):
        TabularSynthesizer.load(tmp_path / "model")
