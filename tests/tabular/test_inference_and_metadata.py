"""Column kinds a person would declare: integer codes, ranks, counts, identifiers, tokens for missing values,
and metadata files in SDV's format and the project's own."""

import json

import numpy as np
import pandas as pd
import pytest

from ganforge.errors import GanforgeError
from ganforge.schema import infer_kind_and_reason, infer_schema, numbers_as_read, read_metadata, read_numbers_in_text

rng = np.random.default_rng(0)


@pytest.mark.parametrize("name, values, kind", [
    ("state", rng.integers(1, 51, 600), "categorical"),  # US state codes: 50 levels, named as codes
    ("schidkn", rng.integers(1, 80, 2000), "categorical"),  # school ids
    ("STATEFIP", rng.integers(1, 57, 2000), "categorical"),  # a code word joined to a code suffix
    ("statemb", rng.choice(rng.choice(np.arange(84, 294), 138, replace=False), 3000), "integer"),  # a state's
    # maximum benefit: a quantity about a coded thing, whose name only begins with a code word
    ("zip_code", rng.choice([10001, 10002, 94105, 60601, 73301] * 4 + list(range(20000, 20030)), 500), "categorical"),
    ("satisfaction", rng.integers(1, 8, 300), "categorical"),  # a 1-7 survey answer
    ("children", rng.poisson(1.5, 400), "categorical"),  # a count with few values: encoded as levels
    ("visits", rng.poisson(30, 400), "integer"),  # a genuine count
    ("age", rng.integers(18, 90, 400), "integer"),  # a quantity, whatever its level count
    ("school", rng.integers(6, 19, 400), "integer"),  # years of schooling, not school numbers
    ("state", rng.integers(1, 51, 80), "integer"),  # too few rows per level to learn codes from
    ("customer", np.arange(1000, 1400), "id"),
    ("case", rng.permutation(900)[:630] + 1, "id"),  # the row numbers of a 70% split: no longer consecutive
    ("docno", np.sort(rng.choice(20_000, 88, replace=False)), "id"),  # sparse, but the name numbers the rows
    ("PID", rng.choice(np.arange(500, 3500), 300, replace=False), "id"),
    ("income", rng.choice(200_000, 300, replace=False), "integer"),  # all different, a quantity
    ("amount_paid", rng.choice(20_000, 300, replace=False), "integer"),
])
def test_integer_columns_are_codes_counts_or_ids(name, values, kind):
    found, _, reason = infer_kind_and_reason(pd.Series(values, name=name))
    assert found == kind, reason
    assert reason


def test_the_reason_for_codes_names_the_way_out():
    _, _, reason = infer_kind_and_reason(pd.Series(rng.integers(1, 51, 600), name="state"))
    assert "--column-kind state=integer" in reason


def coded_industries(rows: int = 1500, seed: int = 0) -> pd.DataFrame:
    """An industry code (21 codes and -999 for none) whose sector and capital follow the code, not its order;
    beside it an age whose income follows it smoothly, and a count that says little about anything."""
    rng = np.random.default_rng(seed)
    codes = np.r_[-999, np.arange(1, 22)]
    science, capital = rng.random(len(codes)) < 0.4, rng.normal(0, 1, len(codes))
    pick = rng.integers(0, len(codes), rows)
    age = rng.integers(18, 70, rows)
    return pd.DataFrame({"ardsic": codes[pick], "scisect": np.where(science[pick], "yes", "no"),
                         "capital": capital[pick] + rng.normal(0, 0.3, rows), "age": age,
                         "income": 1000 * (age - 18) - 12 * (age - 18) ** 2 + rng.normal(0, 2000, rows),
                         "visits": rng.poisson(30, rows)})


def test_codes_in_no_meaningful_order_are_categories_whatever_their_name():
    specs = {s.name: s for s in infer_schema(coded_industries())}
    assert specs["ardsic"].kind == "categorical"
    assert "no meaningful order" in specs["ardsic"].reason and "--column-kind ardsic=integer" in specs["ardsic"].reason
    assert specs["age"].kind == "integer"  # income follows its order
    assert specs["visits"].kind == "integer"  # its levels say nothing about the other columns
    in_order = coded_industries()  # codes renumbered in the order of what they stand for: a quantity's order
    in_order["ardsic"] = in_order.groupby("ardsic")["capital"].transform("mean").rank(method="dense").astype(int)
    in_order["scisect"] = np.where(in_order["capital"] > 0, "yes", "no")
    assert {s.name: s.kind for s in infer_schema(in_order)}["ardsic"] == "integer"


def test_the_order_of_codes_is_not_read_under_differential_privacy():
    specs = {s.name: s for s in infer_schema(coded_industries(), private=True)}
    assert specs["ardsic"].kind == "integer"


def test_declared_kinds_say_who_declared_them():
    frame = pd.DataFrame({"state": rng.integers(1, 51, 300), "x": rng.normal(size=300)})
    specs = {s.name: s for s in infer_schema(frame, {"state": "integer"}, declared="declared in meta.json")}
    assert specs["state"].kind == "integer" and specs["state"].reason == "declared in meta.json"
    assert specs["x"].reason == "numbers"


def test_missing_tokens_in_a_numeric_column_become_missing_numbers():
    frame = pd.DataFrame({"income": ["12.5", "unknown", "7", "-", "3.25", "n/a"] * 5,
                          "city": ["a", "unknown", "b", "c", "-", "d"] * 5})
    cleaned, notes = read_numbers_in_text(frame)
    assert pd.api.types.is_float_dtype(cleaned["income"])
    assert cleaned["income"].isna().sum() == 15 and cleaned["income"].max() == 12.5
    assert cleaned["city"].equals(frame["city"])  # text with a token stays text
    assert len(notes) == 1 and "'income'" in notes[0] and "'unknown'" in notes[0]
    assert frame["income"].iloc[1] == "unknown"  # the caller's table is not changed


def sdv_metadata(columns: dict) -> dict:
    return {"METADATA_SPEC_VERSION": "V1", "tables": {"people": {"columns": columns}}}


def test_sdv_metadata_declares_every_type(tmp_path):
    frame = pd.DataFrame({"state": [1, 2, 3] * 10, "income": np.linspace(1, 9, 30), "n": range(30),
                          "joined": ["2020-01-01"] * 30, "email": ["a@b.c"] * 30})
    path = tmp_path / "meta.json"
    path.write_text(json.dumps(sdv_metadata({
        "state": {"sdtype": "categorical"}, "income": {"sdtype": "numerical"}, "n": {"sdtype": "numerical"},
        "joined": {"sdtype": "datetime", "datetime_format": "%Y-%m-%d"}, "email": {"sdtype": "email"}})))
    assert read_metadata(path, frame) == {"state": "categorical", "income": "continuous", "n": "integer",
                                          "joined": "datetime", "email": "text"}


def test_own_metadata_format(tmp_path):
    path = tmp_path / "kinds.json"
    path.write_text(json.dumps({"column_kinds": {"state": "categorical"}}))
    assert read_metadata(path, pd.DataFrame({"state": [1, 2]})) == {"state": "categorical"}


@pytest.mark.parametrize("content, message", [
    (sdv_metadata({"state": {"sdtype": "colour"}}), "column 'state': unknown sdtype 'colour'"),
    ({"column_kinds": {"state": "fancy"}}, "column 'state': unknown kind 'fancy'"),
    ({"tables": {"a": {"columns": {}}, "b": {"columns": {}}}}, "holds 2 tables"),
    ({"something": 1}, "no 'columns' object"),
    ([1, 2], "expected a JSON object"),
])
def test_bad_metadata_is_named(tmp_path, content, message):
    path = tmp_path / "meta.json"
    path.write_text(json.dumps(content))
    with pytest.raises(GanforgeError, match=message):
        read_metadata(path, pd.DataFrame({"state": [1, 2]}))


def test_unreadable_metadata_is_named(tmp_path):
    with pytest.raises(GanforgeError, match="not found"):
        read_metadata(tmp_path / "missing.json", pd.DataFrame())
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(GanforgeError, match="not a readable JSON"):
        read_metadata(tmp_path / "bad.json", pd.DataFrame())


def test_numbers_written_with_separators_currency_or_percent_signs_are_numbers():
    """Read as text they were categories with a level per row, whose synthetic values only copy real ones."""
    frame = pd.DataFrame({"amount": ["886,440", "43,450", "1,200,000", "5"] * 10,
                          "price": ["$1,200.50", "$3.00", "-$4", "$0.5"] * 10,
                          "share": ["50%", "3%", "100%", "n/a"] * 10,
                          "small": [".5", "1e-3", "unknown", "2"] * 10,
                          "code": ["1,2", "3", "4", "5"] * 10, "word": ["a", "b", "c", "d"] * 10})
    cleaned, notes = read_numbers_in_text(frame)
    assert cleaned["amount"].tolist()[:4] == [886440.0, 43450.0, 1200000.0, 5.0]
    assert cleaned["price"].tolist()[:4] == [1200.5, 3.0, -4.0, 0.5]
    assert cleaned["share"].tolist()[:3] == [50.0, 3.0, 100.0] and cleaned["share"].isna().sum() == 10
    assert cleaned["small"].tolist()[:2] == [0.5, 0.001]
    assert cleaned["code"].equals(frame["code"]) and cleaned["word"].equals(frame["word"])  # not numbers
    said = {note.split("'")[1]: note for note in notes}
    assert set(said) == {"amount", "price", "share", "small"}
    assert "'1,200,000'" in said["amount"] and "'n/a'" in said["share"] and "plain numbers" in said["price"]
    assert cleaned["amount"].dtype == "int64" and cleaned["price"].dtype == "float64"  # whole numbers stay whole
    named = pd.DataFrame({"self": ["1,000", "0", "n/a", "2,500"] * 10})  # a name that once clashed with `assign`
    assert read_numbers_in_text(named)[0]["self"].iloc[:4].fillna(-1).tolist() == [1000.0, 0.0, -1.0, 2500.0]


def test_evaluate_reads_numbers_in_text_as_fit_does():
    """The real table holds "886,440" and "n/a", the synthetic one the plain numbers `sample` writes: compared
    as text against numbers they looked like nothing alike."""
    from ganforge.tabular.evaluate import evaluate

    rng = np.random.default_rng(0)
    amounts, shares = rng.integers(1_000, 900_000, 200), rng.integers(1, 100, 200)
    real = pd.DataFrame({"amount": [f"{a:,}" for a in amounts],
                         "share": [f"{s}%" if i % 20 else "n/a" for i, s in enumerate(shares)]})
    holdout = real.sample(60, random_state=1).reset_index(drop=True)
    synthetic, _ = read_numbers_in_text(real.sample(frac=1.0, random_state=2).reset_index(drop=True))
    read_real, read_synthetic, read_holdout = numbers_as_read(real, synthetic, holdout)
    assert read_real["amount"].dtype.kind in "if"
    assert read_holdout["share"].isna().sum() == (holdout["share"] == "n/a").sum()
    assert read_synthetic["amount"].equals(synthetic["amount"])  # plain numbers pass unchanged
    result = evaluate(real, synthetic, holdout)
    assert result["columns"] == {"amount": "integer", "share": "integer"}
    assert result["fidelity"]["column_shapes"] > 0.95
