"""`fit --metadata` as a user runs it: declared kinds win, reasons are printed, bad files are one-line errors."""

import json

import numpy as np
import pandas as pd

from tests.conftest import run_ganforge


def codes_table(path):
    rng = np.random.default_rng(0)
    state = rng.integers(1, 51, 400)
    pd.DataFrame({"state": state, "income": (rng.lognormal(10, 1, 400) + 100 * state).round(2),
                  "visits": ["unknown" if i % 17 == 0 else str(v) for i, v in enumerate(rng.poisson(40, 400))]}
                 ).to_csv(path / "people.csv", index=False)


def test_fit_reads_sdv_metadata_and_says_why_each_kind(tmp_path):
    codes_table(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"columns": {"state": {"sdtype": "numerical"}}}))
    result = run_ganforge("fit", "people.csv", "--out", "model", "--epochs", "2", "--metadata", "meta.json",
                          cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "state: integer (declared)" in result.stdout  # the file overrode the codes rule
    assert "income: continuous (numbers)" in result.stdout
    assert "column 'visits': read 24 cell(s) such as 'unknown' as missing" in result.stderr
    info = run_ganforge("info", "model", cwd=tmp_path)
    assert "(declared)" in info.stdout and "whole numbers" in info.stdout  # visits: numbers again
    inferred = run_ganforge("fit", "people.csv", "--out", "inferred", "--epochs", "2", cwd=tmp_path)
    assert "state: categorical (whole numbers with 50 levels under a name that reads as codes" in inferred.stdout


def test_bad_metadata_is_one_line_and_nothing_is_written(tmp_path):
    codes_table(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"columns": {"state": {"sdtype": "colour"}}}))
    result = run_ganforge("fit", "people.csv", "--out", "model", "--metadata", "meta.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "meta.json: column 'state': unknown sdtype 'colour'" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "model").exists()


def test_info_on_a_table_file_says_what_fit_would_make_of_it_without_training(tmp_path):
    codes_table(tmp_path)
    table = pd.read_csv(tmp_path / "people.csv")
    table["income_k"] = table["income"] / 1000 + 1  # in thousands, a rule of the income
    table.to_csv(tmp_path / "people.csv", index=False)
    result = run_ganforge("info", "people.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "400 rows x 4 columns" in result.stdout
    assert "state: categorical (whole numbers with 50 levels under a name that reads as codes" in result.stdout
    lines = {line.split(":")[0].strip(): line for line in result.stdout.splitlines() if line.startswith("  ")}
    assert ("derived: 0.001 * income + 1 in every training row" in lines["income_k"]
            or "derived: 1000 * income_k - 1000 in every training row" in lines["income"])
    assert "read 24 cell(s) such as 'unknown' as missing" in result.stdout
    listed = json.loads(run_ganforge("info", "people.csv", "--json", cwd=tmp_path).stdout)
    assert [c["kind"] for c in listed["columns"]] == ["categorical", "continuous", "integer", "continuous"]
    assert not any(p.is_dir() for p in tmp_path.iterdir())  # nothing trained, nothing written
