"""The paths that keep big tables cheap must give the same answers as the plain ones."""

import numpy as np
import pandas as pd
import pytest

from ganforge import GanforgeError, TabularSynthesizer
from ganforge.io import ParquetColumns, write_table_chunks
from ganforge.tabular import synthesizer
from tests.conftest import TINY, make_table, run_ganforge


@pytest.fixture(scope="module")
def model():
    return TabularSynthesizer(**TINY).fit(make_table())


def test_parquet_read_a_column_at_a_time_fits_the_same_model(tmp_path):
    table = make_table()
    table.to_parquet(tmp_path / "t.parquet", index=False)
    from_frame = TabularSynthesizer(**TINY).fit(table).sample(300, seed=0)
    from_file = TabularSynthesizer(**TINY).fit(tmp_path / "t.parquet").sample(300, seed=0)
    pd.testing.assert_frame_equal(from_frame, from_file)


def test_parquet_columns_look_like_the_table(tmp_path):
    table = make_table()
    table.set_index("country").to_parquet(tmp_path / "t.parquet")  # an index is not a column, as in pandas
    columns = ParquetColumns(tmp_path / "t.parquet")
    assert list(columns.columns) == [c for c in table.columns if c != "country"] and columns.shape == (400, 6)
    pd.testing.assert_series_equal(columns["income"], table["income"])
    shard = columns.shard(np.arange(100, 200))
    assert len(shard) == 100 and shard["age"].tolist() == table["age"].iloc[100:200].tolist()


@pytest.mark.parametrize("content, message", [(b"PAR1 not really", "cannot be read as parquet"),
                                              (None, "no such file")])
def test_bad_parquet_is_named(tmp_path, content, message):
    path = tmp_path / "bad.parquet"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(GanforgeError, match=message):
        TabularSynthesizer(**TINY).fit(path)


def test_empty_parquet_is_named(tmp_path):
    make_table().iloc[:0].to_parquet(tmp_path / "empty.parquet")
    with pytest.raises(GanforgeError, match="no rows"):
        ParquetColumns(tmp_path / "empty.parquet")


def test_whole_units_of_rows_do_not_depend_on_how_many_are_asked_for(model, monkeypatch):
    monkeypatch.setattr(synthesizer, "SAMPLE_CHUNK", 128)
    monkeypatch.setattr(synthesizer, "CALIBRATION_UNIT", 128)
    many = model.sample(1000, seed=3)
    chunks = list(model.sample_chunks(300, seed=3))
    whole = pd.concat(chunks[:-1])  # the last rows, part of a unit, are ranked onto the quantiles on their own
    assert len(whole) >= 128 and sum(map(len, chunks)) == 300
    pd.testing.assert_frame_equal(whole, many.iloc[:len(whole)])
    conditioned = model.sample(400, conditions={"colour": "blue"}, seed=3)  # rejection across chunks
    assert (conditioned["colour"] == "blue").all()
    pd.testing.assert_frame_equal(model.sample(150, conditions={"colour": "blue"}, seed=3), conditioned.iloc[:150])


@pytest.mark.parametrize("name", ["rows.csv", "rows.parquet"])
def test_rows_written_in_chunks_equal_rows_sampled_at_once(model, monkeypatch, tmp_path, name):
    monkeypatch.setattr(synthesizer, "SAMPLE_CHUNK", 128)
    chunks = list(model.sample_chunks(1000, seed=4))
    assert len(chunks) >= 8 and sum(map(len, chunks)) == 1000  # rejection sampling may thin a chunk
    assert write_table_chunks(iter(chunks), tmp_path / name) == 1000
    reader = pd.read_parquet if name.endswith("parquet") else pd.read_csv
    written, at_once = reader(tmp_path / name), model.sample(1000, seed=4)
    if name.endswith("csv"):
        at_once = pd.read_csv(__import__("io").StringIO(at_once.to_csv(index=False)))
    pd.testing.assert_frame_equal(written, at_once)


def test_cli_fits_a_parquet_file_and_samples_to_parquet(tmp_path):
    make_table().to_parquet(tmp_path / "t.parquet", index=False)
    fit = run_ganforge("fit", "t.parquet", "--out", "m", "--epochs", "2", "--batch-size", "100", cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr
    sample = run_ganforge("sample", "m", "-n", "20000", "--out", "s.parquet", "--seed", "1", cwd=tmp_path)
    assert sample.returncode == 0, sample.stderr
    rows = pd.read_parquet(tmp_path / "s.parquet")
    assert len(rows) == 20000 and (rows.dtypes == make_table().dtypes).all()


def test_mixed_precision_trains_to_finite_losses_and_samples():
    model = TabularSynthesizer(**{**TINY, "mixed_precision": True}).fit(make_table())
    assert all(np.isfinite([h["loss_d"], h["loss_g"]]).all() for h in model.training_["history"])
    rows = model.sample(200, seed=0)
    assert len(rows) == 200 and rows["income"].notna().all()
