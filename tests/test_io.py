import pandas as pd
import pytest

from ganforge import GanforgeError
from ganforge.io import read_table, write_table
from tests.conftest import make_table


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.parquet"])
def test_tables_round_trip_in_every_format(tmp_path, name):
    table = make_table(50)
    write_table(table, tmp_path / name)
    back = read_table(tmp_path / name)
    assert list(back.columns) == list(table.columns) and len(back) == 50
    assert back["colour"].tolist() == table["colour"].tolist()
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left behind


def test_existing_output_is_kept_without_force(tmp_path):
    path = tmp_path / "keep.csv"
    path.write_text("precious\n")
    with pytest.raises(GanforgeError, match="already exists"):
        write_table(make_table(20), path)
    assert path.read_text() == "precious\n"
    write_table(make_table(20), path, force=True)
    assert len(pd.read_csv(path)) == 20


def test_a_broken_parquet_file_is_named(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(GanforgeError, match="broken.parquet: cannot be read as parquet"):
        read_table(path)


def test_a_folder_is_not_a_table(tmp_path):
    with pytest.raises(GanforgeError, match="is a folder"):
        read_table(tmp_path)
