import numpy as np
import pandas as pd
import pytest

from ganforge.errors import GanforgeError
from ganforge.schema import check_table, infer_kind, infer_schema


@pytest.mark.parametrize("values, kind", [
    (np.random.default_rng(0).normal(size=100), "continuous"),
    (np.arange(100) % 37 * 3, "integer"),
    (np.arange(100) % 4, "categorical"),
    (["a", "b", None] * 30, "categorical"),
    ([True, False] * 50, "boolean"),
    (pd.date_range("2020-01-01", periods=100), "datetime"),
    ([f"2021-03-{d:02d}" for d in range(1, 29)] * 3, "datetime"),
    (["x"] * 50, "constant"),
    ([None] * 50, "constant"),
    (np.arange(100), "id"),
    ([f"user-{i:04d}" for i in range(100)], "id"),
])
def test_kind_is_inferred_from_values(values, kind):
    assert infer_kind(pd.Series(values))[0] == kind


def test_date_text_keeps_its_format():
    assert infer_kind(pd.Series(["03/01/2021", "04/01/2021", "13/02/2021"]))[1] == "%d/%m/%Y"


def test_numbers_in_text_are_not_dates():
    assert infer_kind(pd.Series(["1", "2", "3", "2"] * 10))[0] == "categorical"


def test_override_wins_and_is_checked(table):
    schema = {s.name: s.kind for s in infer_schema(table, {"age": "continuous"})}
    assert schema["age"] == "continuous"
    with pytest.raises(GanforgeError, match="'colour': cannot be continuous"):
        infer_schema(table, {"colour": "continuous"})
    with pytest.raises(GanforgeError, match="unknown column"):
        infer_schema(table, {"nope": "integer"})
    with pytest.raises(GanforgeError, match="unknown kind"):
        infer_schema(table, {"age": "fancy"})


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"a": range(3)}), "at least 10"),
    (pd.DataFrame(index=range(20)), "no columns"),
    (pd.DataFrame([[1, 2]] * 20, columns=["a", "a"]), "duplicate column"),
    (pd.DataFrame({0: range(20)}), "must be text"),
    ([1, 2, 3], "expected a pandas DataFrame"),
])
def test_unusable_tables_are_refused(frame, message):
    with pytest.raises(GanforgeError, match=message):
        check_table(frame)
