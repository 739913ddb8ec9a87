"""The real command, run in a subprocess on a temporary folder, as a user would."""


import pandas as pd
import pytest

from tests.conftest import make_table, run_ganforge

ganforge = run_ganforge


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli")
    make_table().to_csv(path / "data.csv", index=False)
    result = ganforge("fit", "data.csv", "--out", "model", "--epochs", "3", "--seed", "1", cwd=path)
    assert result.returncode == 0, result.stderr
    assert "model saved to model" in result.stdout
    return path


def test_fit_sample_info_end_to_end(workdir):
    result = ganforge("sample", "model", "--num-rows", "250", "--out", "synthetic.parquet", "--seed", "3", cwd=workdir)
    assert result.returncode == 0, result.stderr
    real, synthetic = pd.read_csv(workdir / "data.csv"), pd.read_parquet(workdir / "synthetic.parquet")
    assert list(synthetic.columns) == list(real.columns) and len(synthetic) == 250
    info = ganforge("info", "model", cwd=workdir)
    assert info.returncode == 0 and "colour" in info.stdout and "categorical" in info.stdout
    assert "wgan-gp" in info.stdout and "torch" in info.stdout


def test_rejection_sampling_and_category_calibration_are_reported(workdir):
    info = ganforge("info", "model", cwd=workdir)
    assert "rejection:" in info.stdout, info.stdout
    assert "categories: the generator's category shares were off by up to" in info.stdout, info.stdout
    plain = ganforge("sample", "model", "-n", "300", "--out", "plain.csv", "--seed", "2", "--no-rejection",
                     cwd=workdir)
    assert plain.returncode == 0, plain.stderr
    assert len(pd.read_csv(workdir / "plain.csv")) == 300


def test_same_seed_same_file(workdir):
    for name in ("a.csv", "b.csv"):
        assert ganforge("sample", "model", "-n", "100", "--out", name, "--seed", "9", cwd=workdir).returncode == 0
    assert (workdir / "a.csv").read_text() == (workdir / "b.csv").read_text()


def test_conditions_from_the_command_line(workdir):
    result = ganforge("sample", "model", "-n", "40", "--out", "violet.csv", "--condition", "colour=violet",
                      "--condition", "member=False", cwd=workdir)
    assert result.returncode == 0, result.stderr
    rows = pd.read_csv(workdir / "violet.csv")
    assert (rows["colour"] == "violet").all() and not rows["member"].any()


def write(path, text):
    path.write_text(text)
    return path.name


@pytest.mark.parametrize("make_input, message", [
    (lambda d: "missing.csv", "missing.csv: no such file"),
    (lambda d: write(d / "empty.csv", ""), "empty.csv: file is empty"),
    (lambda d: write(d / "header.csv", "a,b\n"), "header.csv: has a header but no rows"),
    (lambda d: write(d / "one.csv", "a,b\n1,2\n"), "one.csv: has 1 row(s)"),
    (lambda d: write(d / "dup.csv", "a,a\n" + "1,2\n" * 20), "dup.csv: duplicate column names: 'a'"),
    (lambda d: write(d / "data.xlsx", "hello"), "unsupported table format"),
    (lambda d: (d / "bad.csv").write_bytes(b"a,b\n\xff\xfe\x00\x81" * 20) and "bad.csv", "bad.csv: not UTF-8 text"),
    (lambda d: write(d / "ragged.csv", "a,b\n1,2\n" + "1,2,3,4\n" * 20), "ragged.csv: cannot be read"),
])
def test_bad_training_input_is_one_line_and_exit_2(workdir, make_input, message):
    result = ganforge("fit", make_input(workdir), "--out", "never", "--epochs", "1", cwd=workdir)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (workdir / "never").exists()


@pytest.mark.parametrize("args, message", [
    (["sample", "model", "-n", "5", "--out", "x.csv", "--condition", "nope=1"], "unknown column 'nope'"),
    (["sample", "model", "-n", "5", "--out", "x.csv", "--condition", "colour=pink"], "never occurs"),
    (["sample", "model", "-n", "5", "--out", "x.csv", "--condition", "colour"], "expected COLUMN=VALUE"),
    (["sample", "model", "-n", "5", "--out", "x.csv", "--temperature", "0.5"],
     "--temperature only applies to image, text and audio models"),
    (["sample", "model", "-n", "5", "--out", "x.csv", "--no-label-filter"], "--no-label-filter only applies to image"),
    (["sample", "model", "-n", "0", "--out", "x.csv"], "-n must be positive"),  # the option as typed
    (["sample", "model", "--num-rows", "-3", "--out", "x.csv"], "--num-rows must be positive"),
    (["sample", "model", "-n", "5", "--out", "data.csv"], "data.csv: already exists"),
    (["sample", ".", "-n", "5", "--out", "x.csv"], "not a ganforge model folder"),
    (["sample", "model", "-n", "5", "--out", "no/such/dir.csv"], "output folder does not exist"),
    (["fit", "data.csv", "--out", "model", "--epochs", "1"], "model: already exists"),
    (["fit", "data.csv", "--out", "m2", "--column-kind", "colour=number"], "kind 'number' is not one of"),
    (["info", "nowhere"], "no such model folder"),
    (["info", "nowhere.csv"], "nowhere.csv: no such file"),
    (["fit", "data.csv", "--out", "m2", "--dp-sgd-share", "0.2"], "only apply with --dp-epsilon"),
    (["fit", "data.csv", "--out", "m2", "--dp-epsilon", "1", "--dp-sgd-share", "0.5"], "--dp-sgd-share) must be"),
    (["fit", "data.csv", "--out", "m2", "--steps", "100", "--epochs", "2"], "--steps sets the length"),
    (["fit", "data.csv", "--out", "m2", "--steps", "0"], "invalid setting steps: must be at least 1"),
])
def test_bad_use_is_one_line_and_exit_2(workdir, args, message):
    before = (workdir / "data.csv").read_text()
    result = ganforge(*args, cwd=workdir)
    assert result.returncode == 2, result.stdout
    assert message in result.stderr and "Traceback" not in result.stderr
    assert (workdir / "data.csv").read_text() == before  # nothing the user had is touched


def test_force_replaces_output(workdir):
    result = ganforge("sample", "model", "-n", "5", "--out", "forced.csv", cwd=workdir)
    assert result.returncode == 0
    result = ganforge("sample", "model", "-n", "7", "--out", "forced.csv", "--force", cwd=workdir)
    assert result.returncode == 0 and len(pd.read_csv(workdir / "forced.csv")) == 7


def test_bundled_data_sets(tmp_path):
    listing = ganforge("demo-data", cwd=tmp_path)
    assert listing.returncode == 0 and "males" in listing.stdout
    result = ganforge("demo-data", "seattle-weather", "--out", "weather.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    weather = pd.read_csv(tmp_path / "weather.csv")
    assert len(weather) == 1461 and "weather" in weather.columns


def test_a_private_fit_prints_its_budget_and_info_the_epsilon_spent(tmp_path):
    from tests.tabular.test_privacy import survey

    survey(1701).to_csv(tmp_path / "survey.csv", index=False)
    fit = ganforge("fit", "survey.csv", "--out", "private", "--dp-epsilon", "1", cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr
    said = fit.stdout
    assert "fitted the generator to noisy pair marginals in" in said and "(no adversarial epochs)" in said, said
    assert "budget split: row count epsilon 0.03, statistics epsilon 0.67" in said
    assert "statistics bought for statusquo: range" in said and "pair marginals bought the joint counts" in said
    info = ganforge("info", "private", cwd=tmp_path)
    assert info.returncode == 0 and "epsilon 1.000 spent of 1" in info.stdout, info.stdout
    sample = ganforge("sample", "private", "-n", "200", "--out", "rows.csv", "--seed", "0", cwd=tmp_path)
    assert sample.returncode == 0, sample.stderr
    rows = pd.read_csv(tmp_path / "rows.csv")
    assert list(rows.columns) == list(survey(5).columns) and len(rows) == 200
