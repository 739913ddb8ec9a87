"""Discriminator rejection sampling: the row critic, its effect on the rows, and its round trip."""

import numpy as np
import pandas as pd
import pytest
import torch

from ganforge import TabularSynthesizer
from ganforge.tabular.rejection import copula_view, rank_auc
from ganforge.tabular.transform import Layout

from ..conftest import TINY


def correlated(rows: int = 800, seed: int = 0) -> pd.DataFrame:
    """Two strongly dependent numbers and a category that sets their sign: what a barely trained GAN misses."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["up", "down"], rows)
    x = rng.normal(0, 1, rows)
    y = np.where(group == "up", x, -x) + rng.normal(0, 0.1, rows)
    return pd.DataFrame({"group": group, "x": x.round(3), "y": y.round(3)})


@pytest.fixture(scope="module")
def model() -> TabularSynthesizer:
    return TabularSynthesizer(**{**TINY, "epochs": 2}, rejection_sampling=True).fit(correlated())


def test_critic_is_kept_where_the_generator_is_poor_and_says_why(model):
    summary = model.training_["rejection"]
    assert summary["kept"] and model.rejection_ is not None
    assert summary["held_out_auc"] >= 0.55
    assert 0 < summary["acceptance"] < 1
    assert "AUC" in summary["reason"]


def test_exactly_the_rows_asked_for_and_the_same_under_a_seed(model):
    first = model.sample(1000, seed=3)
    assert len(first) == 1000 and list(first.columns) == ["group", "x", "y"]
    pd.testing.assert_frame_equal(first, model.sample(1000, seed=3))
    assert not first.equals(model.sample(1000, seed=4))
    assert len(model.sample(1, seed=3)) == 1
    assert (model.sample(200, conditions={"group": "up"}, seed=1)["group"] == "up").all()


def test_kept_rows_follow_the_dependence_better(model):
    real = correlated(4000, seed=1)

    def sign_agreement(frame: pd.DataFrame) -> float:
        same = np.sign(frame["x"]) == np.sign(frame["y"])
        return float((same == (frame["group"] == "up")).mean())

    plain = model.sample(4000, seed=0, rejection=False)
    kept = model.sample(4000, seed=0)
    assert sign_agreement(real) > 0.9
    assert sign_agreement(kept) > sign_agreement(plain) + 0.02
    train = correlated()
    for column in ("x", "y"):  # the marginals stay the column's own: kept rows are mapped onto its quantiles
        assert abs(kept[column].std() - train[column].std()) < 0.1
        assert kept[column].between(train[column].min(), train[column].max()).all()


def test_the_rows_kept_over_several_draws_are_ranked_onto_the_quantiles_together(model, monkeypatch):
    """Where one draw keeps fewer rows than are wanted, the kept rows of every draw are gathered first: ranked
    draw by draw, each small batch's top row lands near the same quantile and the column's extremes are lost.
    The unit is handed out in frames of at most SAMPLE_CHUNK rows all the same."""
    import ganforge.tabular.synthesizer as synthesizer

    monkeypatch.setattr(synthesizer, "SAMPLE_CHUNK", 128)  # a draw of 128 rows keeps 32 of them here
    monkeypatch.setattr(model.rejection_, "keep", lambda scalars, *_: torch.arange(len(scalars)) % 4 == 0)
    rows = 600
    frames = list(model.sample_chunks(rows, seed=5))
    assert max(map(len, frames)) <= 128 and sum(map(len, frames)) == rows
    frame = pd.concat(frames)
    encoder = next(c.encoder for c in model.transform_.columns if c.spec.name == "x")
    shares = np.sort(np.interp(frame["x"].to_numpy(), encoder.values, encoder.probabilities))
    strata = (np.arange(rows) + 0.5) / rows  # one row in each 1/rows of the distribution function
    assert np.abs(shares - strata).max() < 1 / rows


def test_save_and_load_keep_the_critic(model, tmp_path):
    model.save(tmp_path / "m")
    loaded = TabularSynthesizer.load(tmp_path / "m")
    assert loaded.rejection_ is not None
    pd.testing.assert_frame_equal(model.sample(500, seed=2), loaded.sample(500, seed=2))
    pd.testing.assert_frame_equal(model.sample(500, seed=2, rejection=False),
                                  loaded.sample(500, seed=2, rejection=False))


def test_off_by_request_and_under_differential_privacy():
    plain = TabularSynthesizer(**TINY, rejection_sampling=False).fit(correlated(300))
    assert plain.rejection_ is None and "rejection" not in plain.training_
    private = TabularSynthesizer(**{**TINY, "pack": 1}, rejection_sampling=True, dp_epsilon=3.0,
                                 dp_marginal_steps=50,
                                 dp_public_bounds={"x": (-4, 4), "y": (-4, 4)}).fit(correlated(2000))
    assert private.rejection_ is None
    assert "differential privacy" in private.training_["rejection"]["reason"]


def test_too_small_a_table_keeps_every_row():
    model = TabularSynthesizer(**TINY, rejection_sampling=True).fit(correlated(40))
    assert model.rejection_ is None and "too few" in model.training_["rejection"]["reason"]
    assert len(model.sample(100, seed=0)) == 100


def test_copula_view_hides_the_marginals():
    layout = Layout(n_scalars=1, block_sizes=(3,), conditional_blocks=(0,))
    codes = torch.tensor([[0], [2], [1], [2]])
    a = copula_view(torch.tensor([[0.1], [0.5], [-0.2], [0.3]]), codes, layout)
    b = copula_view(torch.tensor([[10.0], [50.0], [-20.0], [30.0]]), codes, layout)
    torch.testing.assert_close(a, b)  # only ranks matter
    assert a[:, 1:].sum(dim=1).tolist() == [1, 1, 1, 1] and a[1, 3] == 1


def test_rank_auc_is_the_roc_auc_with_ties_counted_half():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    positive, negative = rng.integers(0, 12, 40).astype(float), rng.integers(0, 10, 60).astype(float)
    expected = roc_auc_score(np.r_[np.ones(40), np.zeros(60)], np.r_[positive, negative])
    assert rank_auc(positive, negative) == pytest.approx(expected, abs=1e-12)
    assert rank_auc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert rank_auc(np.array([1.0]), np.array([1.0])) == 0.5


def test_sampling_a_table_does_not_import_scikit_learn(model, tmp_path):
    """scikit-learn costs a command more than a second to start; sampling a saved model has no use for it."""
    import subprocess
    import sys

    model.save(tmp_path / "m")
    code = ("import sys; import ganforge; ganforge.load(sys.argv[1]).sample(5, seed=0); "
            "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
