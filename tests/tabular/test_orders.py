"""A number (or date) that never exceeds another in a training row never does in a sampled one."""

import numpy as np
import pandas as pd
import pytest

from ganforge.config import TabularConfig, TrainConfig
from ganforge.errors import GanforgeError
from ganforge.schema import ColumnSpec, infer_schema
from ganforge.tabular.orders import apply_orders, find_orders
from ganforge.tabular.synthesizer import TabularSynthesizer
from ganforge.tabular.transform import TableTransform


def prices(rows: int = 500, seed: int = 0) -> pd.DataFrame:
    """A lowest and a highest price that overlap widely across rows but are ordered within each."""
    rng = np.random.default_rng(seed)
    low = rng.lognormal(3, 0.5, rows).round(1)
    return pd.DataFrame({"low": low, "high": (low + rng.gamma(1.5, 4, rows)).round(1),
                         "kind": rng.choice(["a", "b", "c"], rows), "doors": rng.integers(2, 6, rows)})


def test_an_order_is_found_and_one_broken_row_or_chance_give_none():
    frame = prices()
    schema = infer_schema(frame)
    assert find_orders(frame, schema, set()) == ({"low": ["high"]}, {})
    assert find_orders(frame, schema, {"high"}) == ({}, {})  # a column set by other structure is left alone
    broken = frame.copy()
    broken.loc[7, "low"] = broken.loc[7, "high"] + 1
    assert find_orders(broken, schema, set()) == ({}, {})
    # ordered by their ranges alone (a price always below a salary): nothing to keep
    apart = pd.DataFrame({"price": np.linspace(1, 10, 300).round(2), "salary": np.linspace(20, 90, 300)[::-1].round(2)})
    assert find_orders(apart, infer_schema(apart), set()) == ({}, {})
    # ordered in 30 rows by chance: independent columns keep the order that often (odds above one in a million)
    rng = np.random.default_rng(1)
    few = pd.DataFrame({"x": rng.uniform(0, 1, 30).round(3), "y": rng.uniform(0.9, 2, 30).round(3)})
    assert (few["x"] <= few["y"]).all() and find_orders(few, infer_schema(few), set()) == ({}, {})


def test_ordered_columns_are_cut_into_chains_and_a_near_one_is_learned_above_its_partner():
    rng = np.random.default_rng(2)
    total = rng.lognormal(10, 1, 600).round()
    adults = (total * rng.uniform(0.6, 0.7, 600)).round()
    frame = pd.DataFrame({"total": total, "adults": adults, "voters": (adults * rng.uniform(0.5, 0.9, 600)).round(),
                          "white": (total * rng.uniform(0.97, 0.995, 600)).round()})
    # voters <= adults is a chain; white people sit a sliver under the total (1-3% of it, a fraction of its
    # spread), too near for the generator to place, so the total is learned as its distance above them
    assert find_orders(frame, infer_schema(frame), set()) == ({"voters": ["adults"]}, {"total": "white"})
    frame.loc[3, "white"] = np.nan  # a gap needs both columns in every row: with a missing value, a chain again
    orders, gaps = find_orders(frame, infer_schema(frame), set())
    assert gaps == {} and orders["voters"][0] == "adults"


def test_columns_of_different_types_are_not_paired():
    frame = prices()
    frame["high"] = frame["high"].round().astype(int) + 1
    frame["low"] = frame["low"].astype(float)
    assert find_orders(frame, infer_schema(frame), set()) == ({}, {})


def test_swaps_sort_a_chain_and_leave_missing_values_and_ordered_rows_alone():
    specs = {name: ColumnSpec(name, "continuous", "float64", 0.0) for name in ("a", "b", "c")}
    frame = pd.DataFrame({"a": [3.0, 1.0, np.nan, 5.0], "b": [2.0, 2.0, 1.0, 4.0], "c": [1.0, 3.0, 0.0, 6.0]})
    apply_orders(frame, [("a", "b"), ("b", "c")], specs)
    assert frame.to_numpy().tolist()[:2] == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    assert np.isnan(frame.loc[2, "a"]) and frame.loc[2, ["b", "c"]].tolist() == [0.0, 1.0]
    assert frame.loc[3].tolist() == [4.0, 5.0, 6.0]


def test_date_text_swaps_as_text():
    specs = {name: ColumnSpec(name, "datetime", "object", 0.0, datetime_format="%Y-%m-%d") for name in ("start", "end")}
    frame = pd.DataFrame({"start": ["2024-03-05", "2024-01-01"], "end": ["2024-02-01", "2024-01-09"]})
    apply_orders(frame, [("start", "end")], specs)
    assert frame.to_numpy().tolist() == [["2024-02-01", "2024-03-05"], ["2024-01-01", "2024-01-09"]]


def test_sampled_rows_keep_the_order_and_it_survives_save_and_load(tmp_path):
    frame = prices()
    model = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=60)).fit(frame)
    assert "never above high" in {s.name: s.reason for s in model.schema_}["low"]
    rows = model.sample(2000, seed=0)
    assert (rows["low"] <= rows["high"]).all()
    assert rows["low"].dtype == np.float64 and rows["low"].nunique() > 100  # still drawn, not pinned to a value
    model.save(tmp_path / "model")
    assert TabularSynthesizer.load(tmp_path / "model").sample(300, seed=2).equals(model.sample(300, seed=2))
    # the order is the sampler's doing: without the structure, the 60-step generator breaks it
    loose = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=60, derive_columns=False)).fit(frame)
    assert (loose.sample(2000, seed=0).eval("low > high")).mean() > 0.02


def test_start_and_end_dates_stay_in_order():
    rng = np.random.default_rng(3)
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, 400), unit="D")
    end = start + pd.to_timedelta(rng.integers(1, 40, 400), unit="D")
    frame = pd.DataFrame({"start": start.strftime("%Y-%m-%d"), "end": end.strftime("%Y-%m-%d"),
                          "amount": rng.gamma(2, 50, 400).round(2)})
    model = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=60)).fit(frame)
    rows = model.sample(1000, seed=0)
    assert (pd.to_datetime(rows["start"]) <= pd.to_datetime(rows["end"])).all()
    assert rows["start"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_a_stay_is_learned_as_its_length_after_the_admission(tmp_path):
    # discharges a few days after admissions spread over two years: drawn apart, 40% came out before them
    rng = np.random.default_rng(4)
    admitted = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 700 * 24, 600), unit="h")
    ward = rng.choice(["surgery", "maternity"], 600)
    days = np.where(ward == "surgery", rng.integers(5, 20, 600), rng.integers(1, 4, 600))
    frame = pd.DataFrame({"admitted": admitted.strftime("%Y-%m-%d %H:%M"), "ward": ward,
                          "discharged": (admitted + pd.to_timedelta(days * 24 + rng.integers(-4, 4, 600), unit="h"))
                          .strftime("%Y-%m-%d %H:%M")})
    model = TabularSynthesizer(TrainConfig(seed=0), TabularConfig(steps=100)).fit(frame)
    assert "learned as its distance above it" in {s.name: s.reason for s in model.schema_}["discharged"]
    rows = model.sample(1000, seed=0)
    stay = (pd.to_datetime(rows["discharged"]) - pd.to_datetime(rows["admitted"])).dt.total_seconds() / 86400
    assert stay.min() > 0 and stay.max() <= 20.5  # the training stays' range
    assert rows["discharged"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").all()
    model.save(tmp_path / "model")
    assert TabularSynthesizer.load(tmp_path / "model").sample(300, seed=2).equals(model.sample(300, seed=2))


def test_a_model_file_whose_columns_stack_in_a_circle_is_refused():
    rng = np.random.default_rng(5)
    total = rng.lognormal(10, 1, 300).round()
    frame = pd.DataFrame({"total": total, "white": (total * rng.uniform(0.97, 0.995, 300)).round()})
    transform = TableTransform.fit(frame, infer_schema(frame), TabularConfig(), rng)
    state = transform.state()
    assert state[0]["extra"]["above"] == "white"
    state[1]["extra"]["above"] = "total"  # damaged: each above the other
    damaged = TableTransform.from_state(state)
    scalars = np.zeros((10, damaged.layout.n_scalars), np.float32)
    with pytest.raises(GanforgeError, match="damaged"):
        damaged.decode(scalars, np.zeros((10, len(damaged.layout.block_sizes)), np.int32), rng)
