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


def test_a_semicolon_file_with_decimal_commas_is_read_as_numbers(tmp_path):
    """What a spreadsheet writes where the comma is the decimal mark; read as commas it was one text column."""
    path = tmp_path / "eu.csv"
    path.write_text("city;price;rooms\nLyon;1250,5;3\nGent;980,25;2\nGraz;1100,0;4\n")
    table = read_table(path)
    assert list(table.columns) == ["city", "price", "rooms"]
    assert table["price"].tolist() == [1250.5, 980.25, 1100.0] and table["rooms"].dtype.kind == "i"
    assert table.attrs["read_as"] == "columns separated by semicolons, decimal commas"


def test_other_separators_keep_decimal_points_and_commas_stay_the_default(tmp_path):
    semicolons = tmp_path / "points.csv"
    semicolons.write_text("a;b\n1.5;x\n2.5;y\n")
    assert read_table(semicolons)["a"].tolist() == [1.5, 2.5]
    bars = tmp_path / "bars.csv"
    bars.write_text("a|b\n1|x\n2|y\n")
    assert read_table(bars).attrs["read_as"] == "columns separated by vertical bars"
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b\n1;2,x\n3;4,y\n")  # a comma header: semicolons in values are values
    table = read_table(plain)
    assert table["a"].tolist() == ["1;2", "3;4"] and "read_as" not in table.attrs
