import numpy as np
import pandas as pd
import pytest

from ganforge import GanforgeError, TabularSynthesizer
from ganforge.tabular.augment import MARK_COLUMN, augment, compare, rows_to_add
from tests.conftest import TINY


def imbalanced(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = np.where(rng.random(rows) < 0.1, "fraud", "ok")
    amount = np.where(label == "fraud", rng.normal(900, 50, rows), rng.normal(100, 30, rows)).round(2)
    return pd.DataFrame({"amount": amount, "channel": rng.choice(["web", "shop", "phone"], rows),
                         "age": rng.integers(18, 80, rows), "label": label})


@pytest.fixture(scope="module")
def table():
    return imbalanced()


@pytest.fixture(scope="module")
def model(table):
    return TabularSynthesizer(**{**TINY, "epochs": 5}).fit(table)


def test_ratio_one_balances_the_classes_and_keeps_the_real_rows(table, model):
    result = augment(table, "label", model=model, ratio=1.0, mark=True)
    counts = result["label"].value_counts()
    assert counts["fraud"] == counts["ok"] == (table["label"] == "ok").sum()
    real_part = result.iloc[:len(table)].drop(columns=MARK_COLUMN)
    pd.testing.assert_frame_equal(real_part, table)
    assert not result[MARK_COLUMN].iloc[:len(table)].any() and result[MARK_COLUMN].iloc[len(table):].all()
    synthetic = result.iloc[len(table):]
    assert (synthetic["label"] == "fraud").all() and synthetic["label"].notna().all()
    assert set(synthetic["channel"]) <= set(table["channel"])
    assert synthetic["amount"].between(table["amount"].min(), table["amount"].max()).all()
    assert (result.dtypes.drop(MARK_COLUMN) == table.dtypes).all()


def test_add_shares_rows_among_minority_classes():
    counts = pd.Series({"a": 100, "b": 40, "c": 10})
    assert rows_to_add(counts, add=50) == {"b": 20, "c": 30}
    assert sum(rows_to_add(counts, add=7).values()) == 7
    assert rows_to_add(counts, ratio=0.5) == {"c": 40, "b": 10}


@pytest.mark.parametrize("frame, target, settings, message", [
    (pd.DataFrame({"x": range(20), "y": ["a"] * 20}), "y", {"ratio": 1.0}, "single class"),
    (pd.DataFrame({"x": range(20), "y": ["a", "b"] * 10}), "z", {"ratio": 1.0}, "'z' is not a column"),
    (pd.DataFrame({"x": np.linspace(0, 1, 40), "y": ["a", "b"] * 20}), "x", {"ratio": 1.0}, "continuous column"),
    (pd.DataFrame({"x": range(20), "y": ["a", "b"] * 10}), "y", {}, "exactly one of --ratio and --add"),
    (pd.DataFrame({"x": range(20), "y": ["a", "b"] * 10}), "y", {"ratio": 2.0}, "--ratio must be in"),
])
def test_bad_targets_and_settings_are_named(frame, target, settings, message):
    with pytest.raises(GanforgeError, match=message):
        augment(frame, target, **settings, **TINY)


def test_compare_scores_every_method_on_the_same_split(table):
    results = compare(table, "label", seeds=(0,), **{**TINY, "epochs": 2})
    assert list(results["method"]) == ["none", "smote", "ganforge"]
    assert results["train_rows"].iloc[1] == results["train_rows"].iloc[2] > results["train_rows"].iloc[0]
    for column in ("minority_recall", "minority_f1", "minority_pr_auc", "balanced_accuracy"):
        assert results[column].between(0, 1).all()
    assert results.loc[results["method"] == "none", "minority_recall"].item() > 0.8  # amount separates fraud
