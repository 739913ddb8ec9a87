"""The metrics move the right way on constructed cases."""

import numpy as np
import pandas as pd
import pytest

from ganforge import GanforgeError
from ganforge.metrics import evaluate
from tests.conftest import make_table


@pytest.fixture(scope="module")
def train():
    return make_table(600, seed=0)


@pytest.fixture(scope="module")
def holdout():
    return make_table(600, seed=1)


@pytest.fixture(scope="module")
def fresh():
    """A second sample from the same process: what a perfect generator would give."""
    return make_table(600, seed=2)


def independent_columns(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: frame[c].sample(frac=1, random_state=i).to_numpy() for i, c in enumerate(frame)})


def test_a_copy_of_train_is_faithful_and_fails_privacy(train, holdout):
    results = evaluate(train, train.copy(), holdout=holdout, target="colour")
    assert results["fidelity"]["overall"] > 0.98
    assert results["privacy"]["exact_copies"] == 1.0
    assert results["privacy"]["share_closer_to_train"] > 0.9
    assert results["privacy"]["membership_auc"] > 0.9
    assert results["privacy"]["dcr_synthetic_median"] < results["privacy"]["dcr_holdout_median"]
    assert results["verdict"]["privacy"].startswith("possible leak")


def test_a_fresh_sample_passes_privacy_and_detection(train, holdout, fresh):
    results = evaluate(train, fresh, holdout=holdout, target="colour")
    assert results["privacy"]["exact_copies"] == 0.0
    assert 0.35 < results["privacy"]["share_closer_to_train"] < 0.65
    assert results["privacy"]["membership_auc"] < 0.6
    assert results["detection"]["auc"] < 0.65
    assert results["utility"]["ratio"] > 0.8
    assert "no sign" in results["verdict"]["privacy"]


def few_categories(rows: int, seed: int) -> pd.DataFrame:
    """Three small categories: fresh real rows repeat training rows by chance (a survey of coded answers)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"sex": rng.choice(["f", "m"], rows), "rate": rng.integers(1, 6, rows),
                         "child": rng.choice(["yes", "no"], rows, p=[0.3, 0.7])})


def test_copies_are_a_leak_only_beyond_what_fresh_real_rows_copy():
    train, holdout = few_categories(400, 0), few_categories(200, 1)
    results = evaluate(train, few_categories(300, 2), holdout=holdout)
    fresh = results["privacy"]
    assert fresh["exact_copies"] > 0.9 and fresh["holdout_copies"] > 0.9  # 20 combinations: all seen in training
    assert not fresh["copies_beyond_holdout"] and "copy" not in results["verdict"]["privacy"]

    wide_train, wide_holdout = make_table(600, seed=0), make_table(600, seed=1)
    copying = pd.concat([wide_train.iloc[:30], make_table(270, seed=2)], ignore_index=True)  # 10% copies
    results = evaluate(wide_train, copying, holdout=wide_holdout)
    assert results["privacy"]["holdout_copies"] == 0.0 and results["privacy"]["copies_beyond_holdout"]
    assert "copy a training row (of fresh real rows, 0.0%)" in results["verdict"]["privacy"]


def test_independent_columns_lose_pair_trends_and_are_detected(train, fresh):
    faithful = evaluate(train, fresh)
    shuffled = evaluate(train, independent_columns(fresh))
    assert shuffled["fidelity"]["column_pair_trends"] < faithful["fidelity"]["column_pair_trends"] - 0.05
    assert shuffled["detection"]["auc"] > max(0.65, faithful["detection"]["auc"] + 0.1)
    assert abs(shuffled["fidelity"]["column_shapes"] - faithful["fidelity"]["column_shapes"]) < 0.03


def test_the_detector_sees_seasons_and_days_of_the_month_the_seconds_alone_hide():
    rng = np.random.default_rng(0)
    days = pd.Series(pd.date_range("1991-01-01", "2018-12-31", freq="D")).sample(1200, random_state=0)
    season = np.cos(2 * np.pi * days.dt.dayofyear.to_numpy() / 365.25)
    real = pd.DataFrame({"day": days.dt.strftime("%Y-%m-%d").to_numpy(), "x": season + rng.normal(0, 0.2, 1200)})
    holdout, real = real.iloc[800:], real.iloc[:800]
    unseasonal = real.assign(x=rng.permutation(real["x"].to_numpy()))  # the same days and values, no seasons
    assert evaluate(real, unseasonal, holdout=holdout)["detection"]["auc"] > 0.7  # 0.5 from the seconds alone
    hours = pd.Series(pd.date_range("2010-01-01", "2011-12-31", freq="h")).sample(1200, random_state=1)
    warmth = np.cos(2 * np.pi * (hours.dt.hour.to_numpy() - 15) / 24) + rng.normal(0, 0.2, 1200)
    daily = pd.DataFrame({"at": hours.dt.strftime("%Y-%m-%d %H:%M").to_numpy(), "x": warmth})
    flat = daily.iloc[:800].assign(x=rng.permutation(daily["x"].iloc[:800].to_numpy()))  # no afternoons
    assert evaluate(daily.iloc[:800], flat, holdout=daily.iloc[800:])["detection"]["auc"] > 0.7
    months = real.assign(day=pd.to_datetime(real["day"]).dt.strftime("%Y-%m-01"))  # monthly rows, daily copies
    assert evaluate(months, real, holdout=holdout.assign(day=months["day"].iloc[:400].to_numpy()))[
        "detection"]["auc"] > 0.9


def test_a_shifted_column_lowers_its_shape_score(train, fresh):
    shifted = fresh.assign(income=fresh["income"] + 40)
    per_column = evaluate(train, shifted)["fidelity"]["per_column"]
    assert per_column["income"]["score"] < 0.6
    assert per_column["age"]["score"] > 0.85


def test_validity_counts_out_of_range_and_unseen_values(train, fresh):
    broken = fresh.copy()
    broken.loc[:59, "age"] = 500
    broken.loc[:29, "colour"] = "ultraviolet"
    columns = evaluate(train, broken)["validity"]["columns"]
    assert columns["age"]["out_of_range"] == pytest.approx(0.1)
    assert columns["colour"]["unseen_categories"] == pytest.approx(0.05)
    assert columns["score"]["null_rate_real"] == pytest.approx(train["score"].isna().mean(), abs=1e-4)


def test_regression_target_reports_r2(train, holdout, fresh):
    utility = evaluate(train, fresh, holdout=holdout, target="income")["utility"]
    assert utility["task"] == "regression" and utility["train_on_real"]["r2"] > 0.5


def test_awkward_tables_still_get_numbers():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"const": ["a"] * 12, "empty": [np.nan] * 12, "x": rng.normal(size=12),
                         "label": ["yes"] * 12})
    synthetic = real.assign(x=rng.normal(size=12))
    results = evaluate(real, synthetic, holdout=real.copy(), target="label")
    assert results["fidelity"]["overall"] is not None
    assert results["utility"]["train_on_synthetic"]["accuracy"] == 1.0  # one class: predicted everywhere
    assert results["privacy"]["rows_compared"] == 12


def test_true_and_false_as_objects_score_as_the_bools_they_are(train, holdout, fresh):
    """A synthetic frame built in Python may hold a flag as objects (True, False); the real table as bools."""
    flagged = {name: frame.assign(member=frame["age"] > 40) for name, frame in
               (("train", train), ("holdout", holdout), ("fresh", fresh))}
    as_objects = flagged["fresh"].assign(member=flagged["fresh"]["member"].astype(object))
    plain = evaluate(flagged["train"], flagged["fresh"], holdout=flagged["holdout"], target="income")
    objects = evaluate(flagged["train"], as_objects, holdout=flagged["holdout"], target="income")
    assert objects["fidelity"]["per_column"]["member"]["score"] > 0.9
    assert objects["fidelity"]["overall"] == plain["fidelity"]["overall"]
    assert objects["utility"]["train_on_synthetic"] == plain["utility"]["train_on_synthetic"]


def test_a_column_named_self_is_read_like_any_other(train, holdout, fresh):
    """A survey's self-employed flag: its name once clashed with a keyword argument where numbers were read."""
    def flagged(frame: pd.DataFrame, as_text: bool) -> pd.DataFrame:
        frame = frame.copy()
        frame["self"] = (frame["age"] > 40).astype(int)
        if as_text:  # as a frame built in Python may hold it
            frame["self"] = frame["self"].astype(str).astype(object)
        return frame

    results = evaluate(flagged(train, False), flagged(fresh, True), holdout=flagged(holdout, True))
    assert results["fidelity"]["per_column"]["self"]["score"] > 0.9


@pytest.mark.parametrize("change, message", [
    (lambda f: f.drop(columns=["age"]), "missing 'age'"),
    (lambda f: f.assign(extra=1), "unexpected 'extra'"),
    (lambda f: f.iloc[:0], "synthetic table has no rows"),
])
def test_mismatched_tables_are_named(train, change, message):
    with pytest.raises(GanforgeError, match=message):
        evaluate(train, change(train))


def test_unknown_target_is_named(train):
    with pytest.raises(GanforgeError, match="--target 'nope' is not a column"):
        evaluate(train, train, target="nope")


def test_utility_words_say_plainly_when_synthetic_rows_carry_no_signal():
    from ganforge.tabular.evaluate import verdict

    def words(synthetic_r2: float) -> str:
        utility = {"target": "y", "task": "regression", "ratio": synthetic_r2 / 0.6,
                   "train_on_real": {"r2": 0.6}, "train_on_synthetic": {"r2": synthetic_r2}}
        return verdict({"fidelity": {"overall": 0.9}, "detection": {}, "utility": utility})["utility"]

    negative = words(-0.3)
    assert "no usable signal for 'y'" in negative and "-0.300" in negative and "0.600" in negative
    assert "%" not in negative  # no "-50%" of anything
    assert "about as good as" in words(0.57) and "(95%" in words(0.57)


def test_evaluation_says_what_it_is_doing_in_one_pool_sized_for_the_rows(train, holdout, fresh, monkeypatch):
    from threadpoolctl import threadpool_info

    from ganforge.tabular import evaluate as module

    lines, pools = [], []
    original = module._evaluate

    def watched(*args):
        pools.append({pool["num_threads"] for pool in threadpool_info()})
        return original(*args)

    monkeypatch.setattr(module, "_evaluate", watched)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    module.evaluate(train, fresh, holdout=holdout, target="income", progress=lines.append)
    assert [line.split(":")[0] for line in lines] == ["fidelity", "detection", "utility", "privacy"]
    assert pools == [{1}]  # 1,800 rows: one thread for every library's pool
    monkeypatch.setattr(module.os, "cpu_count", lambda: 8)
    assert module.threads_for(1_800) == 1 and module.threads_for(100_000) == 6 and module.threads_for(10**7) == 8
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert module.threads_for(10**7) == 3


def test_closer_to_train_share_steadies_on_a_small_holdout(train, fresh, monkeypatch):
    """One equal-size train sample makes a noisy yardstick against 30 holdout rows; several make a steadier one.
    (The 30 holdout rows are one draw too, which no averaging removes: hence the loose centre.)"""
    from ganforge.metrics import privacy as module
    from ganforge.schema import infer_schema

    schema, holdout = infer_schema(train), make_table(600, seed=3).sample(30, random_state=0)

    def shares() -> np.ndarray:
        return np.array([module.privacy(train, fresh, holdout, schema, seed=seed)["share_closer_to_train"]
                         for seed in range(12)])

    averaged = shares()
    monkeypatch.setattr(module, "MAX_SHARE_DRAWS", 1)
    single = shares()
    assert averaged.std() < 0.6 * single.std()
    assert abs(averaged.mean() - 0.5) < 0.1


def test_pair_trends_count_only_strongly_associated_pairs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    linked = pd.DataFrame({"x": x, "y": x + 0.3 * rng.normal(size=400), "z": rng.normal(size=400)})
    fidelity = evaluate(linked, linked.sample(frac=1, random_state=1).reset_index(drop=True))["fidelity"]
    assert (fidelity["pairs_scored"], fidelity["pairs_total"]) == (1, 3)  # only x-y is strongly correlated
    assert fidelity["column_pair_trends"] > 0.95

    unlinked = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    results = evaluate(unlinked, unlinked.iloc[::-1].reset_index(drop=True))
    assert results["fidelity"]["column_pair_trends"] is None and results["fidelity"]["pairs_scored"] == 0
    assert results["fidelity"]["overall"] == results["fidelity"]["column_shapes"]
    assert "the shapes alone" in results["verdict"]["fidelity"]


def test_a_sample_without_the_real_extremes_is_scored_on_shared_bins_too():
    rng = np.random.default_rng(0)
    score = np.append(rng.normal(size=998), [-9.0, 9.0])  # two far outliers set the report's bins for the real rows
    vote = np.where(score + 0.5 * rng.normal(size=1000) > 0, "yes", "no")
    real = pd.DataFrame({"score": score, "vote": vote})
    trimmed = real.iloc[:998].sample(n=1000, replace=True, random_state=1).reset_index(drop=True)  # same joint
    fidelity = evaluate(real, trimmed)["fidelity"]
    # the report cuts each table over its own range, so the trimmed sample's bins no longer line up with the
    # real ones; on the real column's bins the joint is the same
    assert fidelity["column_pair_trends_shared_bins"] > 0.97
    assert fidelity["column_pair_trends"] < fidelity["column_pair_trends_shared_bins"] - 0.2

    shuffled = trimmed.assign(vote=trimmed["vote"].sample(frac=1, random_state=2).to_numpy())  # joint lost
    assert evaluate(real, shuffled)["fidelity"]["column_pair_trends_shared_bins"] < 0.8
