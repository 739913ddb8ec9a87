"""Property-based: any table either fits and samples with the right columns and dtypes, or stops with a
GanforgeError. Never another exception, never a silent wrong result."""

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganforge import GanforgeError, TabularSynthesizer
from tests.conftest import TINY

names = st.text(min_size=1, max_size=8)
texts = st.text(max_size=6)


@st.composite
def columns(draw, rows: int):
    kind = draw(st.sampled_from(["float", "int", "text", "bool", "date", "constant", "mixed", "extreme",
                                 "many", "nullable_int"]))
    nulls = draw(st.floats(0, 1)) if draw(st.booleans()) else 0.0
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if kind == "float":
        values = pd.Series(rng.normal(draw(st.floats(-1e6, 1e6)), draw(st.floats(1e-6, 1e6)), rows))
    elif kind == "int":
        values = pd.Series(rng.integers(-50, draw(st.integers(-49, 10**6)), rows))
    elif kind == "text":
        values = pd.Series(rng.choice(draw(st.lists(texts, min_size=1, max_size=20)), rows), dtype=object)
    elif kind == "bool":
        values = pd.Series(rng.random(rows) < 0.5)
    elif kind == "date":
        values = pd.Series(pd.Timestamp("2000-01-01") + pd.to_timedelta(rng.integers(0, 10**5, rows), unit="h"))
    elif kind == "constant":
        values = pd.Series([draw(st.one_of(texts, st.integers(), st.floats(allow_nan=False)))] * rows, dtype=object)
    elif kind == "mixed":
        pool = draw(st.lists(st.one_of(texts, st.integers(-5, 5), st.booleans()), min_size=1, max_size=6))
        values = pd.Series([pool[i] for i in rng.integers(0, len(pool), rows)], dtype=object)
    elif kind == "extreme":
        values = pd.Series(rng.choice([-1e300, 0.0, 1e-300, 1e300, 5.0], rows))
    elif kind == "many":
        values = pd.Series([f"level-{i}" for i in rng.integers(0, 10_000, rows)])
    else:
        values = pd.Series(rng.integers(0, 100, rows)).astype("Int64")
    if nulls:
        values = values.mask(rng.random(rows) < nulls)
    return values


@st.composite
def tables(draw):
    rows = draw(st.integers(1, 60))
    headers = draw(st.lists(names, min_size=1, max_size=5))
    return pd.DataFrame({f"{i}{h}": draw(columns(rows)) for i, h in enumerate(headers)})


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tables())
def test_any_table_fits_and_samples_or_says_why(table):
    try:
        model = TabularSynthesizer(**{**TINY, "epochs": 1, "pack": 2}).fit(table)
        rows = model.sample(17, seed=0)
    except GanforgeError as error:
        assert "\n" not in str(error)
        return
    assert list(rows.columns) == list(table.columns) and len(rows) == 17
    for name in table.columns:
        assert rows[name].dtype == table[name].dtype, name
        observed = table[name].dropna()
        if len(observed) and pd.api.types.is_numeric_dtype(table[name]) and not pd.api.types.is_bool_dtype(table[name]):
            generated = rows[name].dropna()
            assert ((generated >= observed.min()) & (generated <= observed.max())).all(), name
