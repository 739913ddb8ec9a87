import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import ks_2samp

from ganforge import GanforgeError, TabularSynthesizer


@pytest.fixture(scope="module")
def fitted():
    from tests.conftest import TINY, make_table

    table = make_table()
    return table, TabularSynthesizer(**{**TINY, "epochs": 8}).fit(table)


def test_samples_keep_columns_order_and_dtypes(fitted):
    table, model = fitted
    rows = model.sample(300, seed=1)
    assert list(rows.columns) == list(table.columns) and len(rows) == 300
    assert (rows.dtypes == table.dtypes).all()


def test_samples_stay_in_the_real_domain(fitted):
    table, model = fitted
    rows = model.sample(2000, seed=2)
    assert set(rows["colour"]) <= set(table["colour"])
    assert rows["income"].between(table["income"].min(), table["income"].max()).all()
    assert rows["age"].between(table["age"].min(), table["age"].max()).all()
    assert (rows["country"] == "NZ").all()
    assert pd.to_datetime(rows["joined"], format="%Y-%m-%d").between(table["joined"].min(), table["joined"].max()).all()
    assert 0.05 < rows["score"].isna().mean() < 0.5  # 20% missing in the real table; 8 epochs get near


def test_rare_category_is_still_generated(fitted):
    _, model = fitted
    assert (model.sample(3000, seed=3)["colour"] == "violet").any()  # 2% of the real rows


def test_conditional_sampling_honours_every_condition(fitted):
    _, model = fitted
    rows = model.sample(50, conditions={"colour": "violet", "member": True}, seed=4)
    assert len(rows) == 50 and (rows["colour"] == "violet").all() and rows["member"].all()
    from_text = model.sample(10, conditions={"member": "True"}, seed=4)  # as the CLI passes it
    assert from_text["member"].all()


@pytest.mark.parametrize("conditions, message", [
    ({"nope": "x"}, "unknown column 'nope'"),
    ({"colour": "pink"}, "never occurs in column 'colour'"),
    ({"income": 3}, "cannot condition on column 'income'"),
])
def test_bad_conditions_are_named(fitted, conditions, message):
    with pytest.raises(GanforgeError, match=message):
        fitted[1].sample(5, conditions=conditions)


@pytest.mark.parametrize("num_rows", [0, -3, 2.5, True])
def test_row_count_must_be_a_positive_integer(fitted, num_rows):
    with pytest.raises(GanforgeError, match="positive integer"):
        fitted[1].sample(num_rows)


def test_same_seed_same_rows_and_chunks_agree(fitted):
    _, model = fitted
    pd.testing.assert_frame_equal(model.sample(100, seed=7), model.sample(100, seed=7))
    assert not model.sample(100, seed=7).equals(model.sample(100, seed=8))


def test_a_sample_smaller_than_a_unit_is_ranked_onto_the_quantiles_as_a_whole(fitted):
    # 60 rows taken from a full calibrated unit carry a random sample's noise (KS 0.09-0.17 against the table);
    # ranked together, they follow its distribution closely
    table, model = fitted
    for seed in range(3):
        rows, part = model.sample(60, seed=seed), model.sample(8192, seed=seed).iloc[:60]
        for column in ("income", "score"):
            assert ks_2samp(rows[column].dropna(), table[column].dropna()).statistic < 0.05
        assert max(ks_2samp(part[c].dropna(), table[c].dropna()).statistic for c in ("income", "score")) > 0.08


def test_save_load_round_trip_gives_identical_samples(fitted, tmp_path):
    _, model = fitted
    model.save(tmp_path / "model")
    again = TabularSynthesizer.load(tmp_path / "model")
    pd.testing.assert_frame_equal(model.sample(500, seed=5), again.sample(500, seed=5))
    assert again.info()["columns"] == model.info()["columns"]
    with pytest.raises(GanforgeError, match="already exists"):
        model.save(tmp_path / "model")
    model.save(tmp_path / "model", force=True)


def test_fit_is_repeatable_under_a_seed(tiny, table):
    first = TabularSynthesizer(**tiny).fit(table)
    second = TabularSynthesizer(**tiny).fit(table)
    for a, b in zip(first.generator_.state_dict().values(), second.generator_.state_dict().values()):
        assert torch.equal(a, b)


def test_a_batch_larger_than_the_table_trains_as_a_batch_of_the_whole_table(tiny, table):
    # the learning rates follow the batch actually used, not the one asked for (sqrt(100000/500) = 14x)
    huge = TabularSynthesizer(**{**tiny, "batch_size": 100_000}).fit(table)
    whole = TabularSynthesizer(**{**tiny, "batch_size": len(table)}).fit(table)
    assert huge.training_["batch_size"] == len(table)
    for a, b in zip(huge.generator_.state_dict().values(), whole.generator_.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("loss", ["hinge", "minimax", "nonsaturating", "lsgan"])
def test_every_loss_and_spectral_norm_fit(tiny, table, loss):
    model = TabularSynthesizer(**{**tiny, "epochs": 1, "loss": loss, "spectral_norm": True}).fit(table)
    assert len(model.sample(20, seed=0)) == 20


def test_unconditional_table_without_categories(tiny):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"x": rng.normal(size=200), "y": rng.gamma(2.0, size=200)})
    rows = TabularSynthesizer(**tiny).fit(table).sample(50, seed=0)
    assert rows.shape == (50, 2) and rows["y"].min() >= table["y"].min()


def test_unknown_settings_and_unfitted_use_are_errors():
    with pytest.raises(GanforgeError, match="unknown setting"):
        TabularSynthesizer(epoch=3)
    with pytest.raises(GanforgeError, match="not fitted"):
        TabularSynthesizer().sample(3)


def test_a_model_folder_is_json_plus_safetensors(fitted, tmp_path):
    _, model = fitted
    path = model.save(tmp_path / "m")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "generator.safetensors"]
    config = json.loads((path / "config.json").read_text())
    assert config["format_version"] == 1 and config["library_versions"]["torch"]


def test_a_table_of_constants_and_identifiers_still_samples(tiny):
    table = pd.DataFrame({"id": [f"row-{i:03d}" for i in range(30)], "country": ["NZ"] * 30})
    rows = TabularSynthesizer(**tiny).fit(table).sample(12, seed=0)
    assert rows.shape == (12, 2) and (rows["country"] == "NZ").all()
    assert rows["id"].str.match(r"^[a-z]{3}-\d{3}$").all()


def test_focus_columns_put_every_condition_on_them(tiny, table, tmp_path):
    model = TabularSynthesizer(**{**tiny, "epochs": 1, "focus_columns": ("colour",)}).fit(table)
    block = model.transform_.column_block("colour")
    start = int(model.sampler_.offsets[model.transform_.layout.conditional_blocks.index(block)])
    width = model.transform_.layout.block_sizes[block]
    condition = model.sampler_.generation_batch(300)  # the fitted sampler keeps no training rows
    assert condition[:, start:start + width].sum().item() == 300
    again = TabularSynthesizer.load(model.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(model.sample(50, seed=1), again.sample(50, seed=1))
    with pytest.raises(GanforgeError, match="focus column 'income' is not a categorical column"):
        TabularSynthesizer(**{**tiny, "focus_columns": ("income",)}).fit(table)
