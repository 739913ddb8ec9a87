import json

import pytest

from tests.conftest import make_table, run_ganforge

ganforge = run_ganforge


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    path = tmp_path_factory.mktemp("evaluate")
    for name, seed in (("train.csv", 0), ("holdout.csv", 1), ("synthetic.csv", 2)):
        make_table(300, seed).to_csv(path / name, index=False)
    return path


def test_evaluate_writes_metrics_and_report(tables):
    result = ganforge("evaluate", "--real", "train.csv", "--synthetic", "synthetic.csv", "--holdout", "holdout.csv",
                      "--target", "colour", "--out", "metrics.json", "--report", "report.html", cwd=tables)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tables / "metrics.json").read_text())
    assert set(metrics) >= {"fidelity", "detection", "utility", "privacy", "validity", "verdict", "rows"}
    assert 0 <= metrics["fidelity"]["overall"] <= 1 and "_distances" not in metrics
    assert (tables / "report.html").stat().st_size > 10_000
    assert "privacy:" in result.stdout
    fidelity = metrics["fidelity"]
    assert f"over the {fidelity['pairs_scored']} of {fidelity['pairs_total']} with a strong real" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--real", "train.csv", "--synthetic", "nope.csv"], "nope.csv: no such file"),
    (["--real", "train.csv", "--synthetic", "synthetic.csv", "--target", "nope"], "--target 'nope' is not a column"),
    (["--real", "train.csv", "--synthetic", "empty.csv"], "empty.csv: file is empty"),
    (["--real", "train.csv", "--synthetic", "fewer.csv"], "missing 'age'"),
    (["--real", "train.csv", "--synthetic", "synthetic.csv", "--out", "train.csv"], "train.csv: already exists"),
])
def test_bad_evaluation_input_is_one_line(tables, args, message):
    (tables / "empty.csv").write_text("")
    make_table(50, 3).drop(columns=["age"]).to_csv(tables / "fewer.csv", index=False)
    result = ganforge("evaluate", *args, cwd=tables)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_fit_with_report_holds_out_and_reports(tables):
    result = ganforge("fit", "train.csv", "--out", "model", "--epochs", "2", "--report", "fit.html",
                      "--target", "colour", cwd=tables)
    assert result.returncode == 0, result.stderr
    assert "holding out 60 rows" in result.stderr
    html = (tables / "fit.html").read_text()
    assert ">Training" in html and ">Privacy" in html
    info = json.loads(ganforge("info", "model", "--json", cwd=tables).stdout)
    assert info["training"]["rows"] == 240


def test_augment_end_to_end(tmp_path):
    from tests.tabular.test_augment import imbalanced

    imbalanced(300).to_csv(tmp_path / "data.csv", index=False)
    result = ganforge("augment", "data.csv", "--target", "label", "--ratio", "1.0", "--out", "out.csv",
                      "--epochs", "2", "--mark-synthetic", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    import pandas as pd

    augmented = pd.read_csv(tmp_path / "out.csv")
    counts = augmented["label"].value_counts()
    assert counts["fraud"] == counts["ok"] and augmented["is_synthetic"].sum() == len(augmented) - 300
    bad = ganforge("augment", "data.csv", "--target", "amount", "--ratio", "1", "--out", "x.csv", cwd=tmp_path)
    assert bad.returncode == 2 and "must be categorical" in bad.stderr
