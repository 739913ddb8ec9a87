"""Texts through the real command: fit (with its report), sample, info, evaluate, and the errors a user meets."""

import json
import random

import pandas as pd
import pytest

from ganforge.text.tokenize import split_words
from tests.conftest import run_ganforge as ganforge
from tests.metrics.test_text import sentences
from tests.text.test_synthesizer import SLOTS

TINY = ["--mle-epochs", "2", "--epochs", "1", "--batch-size", "32", "--seed", "0"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("texts")
    (path / "lines.txt").write_text("".join(" ".join(s) + ".\n" for s in sentences(150, 0)))
    (path / "test.txt").write_text("".join(" ".join(s) + ".\n" for s in sentences(60, 1)))
    result = ganforge("fit", "lines.txt", "--out", "model", "--level", "word", *TINY, "--report", "r.html",
                      cwd=path)
    assert result.returncode == 0, result.stderr
    assert "model saved to model" in result.stdout and "maximum likelihood" in result.stderr
    assert "level: word (asked for)" in result.stdout and "time: maximum likelihood" in result.stdout
    assert "output: one softmax over all" in result.stdout and "words: a small layer)" in result.stdout
    assert "shipped: the maximum likelihood generator (120 texts are too few to hold out" in result.stdout
    assert "sampling: temperature 1 (no texts held out to choose by)" in result.stdout
    return path


def test_fit_report_shows_the_gan_beside_its_maximum_likelihood_baseline(workdir):
    html = (workdir / "r.html").read_text()
    assert "GAN against plain maximum likelihood" in html and "data:image/png;base64" in html
    assert html.count("<td>maximum likelihood</td>") == 4 and html.count("<td>GAN</td>") == 4
    assert "Shipped: the maximum likelihood generator" in html  # the rejected GAN is still shown beside it
    assert "Sampling temperature 1.0</strong> (no texts held out to choose by)" in html


def test_a_budget_that_runs_out_still_saves_a_model_and_the_level_is_chosen(workdir):
    result = ganforge("fit", "lines.txt", "--out", "quick", "--max-minutes", "0.005", "--seed", "0", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "level: word (texts average" in result.stdout and "sentences)" in result.stdout
    assert "shipped: the maximum likelihood generator (the time budget was spent" in result.stdout
    assert ganforge("sample", "quick", "-n", "3", "--out", "quick.txt", cwd=workdir).returncode == 0


def test_sample_info_and_evaluate(workdir):
    result = ganforge("sample", "model", "--num", "40", "--out", "gen.txt", "--seed", "1", "--temperature", "0.8",
                      cwd=workdir)
    assert result.returncode == 0, result.stderr
    texts = (workdir / "gen.txt").read_text().splitlines()
    vocabulary = set(split_words((workdir / "lines.txt").read_text()))
    assert len(texts) == 40 and all(set(split_words(t)) <= vocabulary for t in texts)
    again = ganforge("sample", "model", "-n", "40", "--out", "again.txt", "--seed", "1", "--temperature", "0.8",
                     cwd=workdir)
    assert again.returncode == 0 and (workdir / "again.txt").read_text() == (workdir / "gen.txt").read_text()
    assert ganforge("sample", "model", "-n", "5", "--out", "mle.txt", "--baseline", cwd=workdir).returncode == 0
    info = ganforge("info", "model", cwd=workdir)
    assert info.returncode == 0 and "word level" in info.stdout and "1 adversarial (gumbel)" in info.stdout
    assert "output layer its own" in info.stdout and "sampling:   temperature 1 (no texts held out" in info.stdout
    result = ganforge("evaluate", "--real", "test.txt", "--synthetic", "gen.txt", "--train", "lines.txt",
                      "--out", "m.json", "--report", "e.html", "--encoder", "ganforge-lsa", cwd=workdir)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((workdir / "m.json").read_text())
    assert metrics["encoder"] == "ganforge-lsa" and "(encoder ganforge-lsa)" in result.stdout
    assert 0 <= metrics["bleu4"] <= 1 and 0 <= metrics["memorisation"] <= 1 and metrics["frechet_distance"] >= 0
    assert "real against real" in result.stdout and (workdir / "e.html").is_file()


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"), (b"\n \n\n", "only empty lines"), (b"\x00\x01binary\x00", "binary"),
    (b"just one line\n", "one text"), (b"caf\xe9\nbar\n", "not UTF-8"),
])
def test_bad_text_files_get_one_line_errors(tmp_path, content, message):
    (tmp_path / "bad.txt").write_bytes(content)
    result = ganforge("fit", "bad.txt", "--out", "m", *TINY, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "m").exists()


def test_options_of_other_kinds_of_data_are_refused(workdir):
    for args, message in [(["fit", "lines.txt", "--out", "x", "--pack", "4"], "--pack only applies to tables"),
                          (["fit", "lines.txt", "--out", "x", "--arch", "dcgan"], "--arch only applies to images"),
                          (["fit", "lines.txt", "--out", "x", "--no-mixed-precision"],
                           "--mixed-precision only applies to tables and images and sounds"),
                          (["sample", "model", "-n", "3", "--out", "y.txt", "--label", "a"],
                           "--label only applies to image and audio models"),
                          (["evaluate", "--real", "test.txt", "--synthetic", "x.csv"], "give synthetic texts too"),
                          (["evaluate", "--real", "t.csv", "--synthetic", "t.csv", "--encoder", "ganforge-lsa"],
                           "--encoder only applies to texts")]:
        result = ganforge(*args, cwd=workdir)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (workdir / "x").exists()


def test_a_table_with_a_text_column_end_to_end(tmp_path):
    assert ganforge("demo-data", "names", "--out", "names.csv", cwd=tmp_path).returncode == 0
    names = pd.read_csv(tmp_path / "names.csv")
    assert len(names) == 5494 and list(names.columns) == ["name", "sex", "percent", "rank"]
    names.sample(600, random_state=0).to_csv(tmp_path / "small.csv", index=False)
    drawn = ganforge("fit", "small.csv", "--out", "drawn", "--epochs", "1", "--column-kind", "name=categorical",
                     cwd=tmp_path)
    assert drawn.returncode == 0 and "--column-kind name=text" in drawn.stderr  # the hint for 600 levels
    result = ganforge("fit", "small.csv", "--out", "m", "--epochs", "2", cwd=tmp_path)  # 599 distinct of 600
    assert result.returncode == 0, result.stderr
    assert "name: text (mostly distinct" in result.stdout and "--column-kind name=text" not in result.stderr
    assert ganforge("sample", "m", "-n", "300", "--out", "s.csv", "--seed", "0", cwd=tmp_path).returncode == 0
    synthetic = pd.read_csv(tmp_path / "s.csv")
    assert synthetic["name"].dropna().map(type).eq(str).all()
    assert synthetic["name"].isin(set(names["name"])).mean() < 0.9
    evaluated = ganforge("evaluate", "--real", "small.csv", "--synthetic", "s.csv", "--column-kind", "name=text",
                         "--out", "m.json", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    copied = json.loads((tmp_path / "m.json").read_text())["validity"]["columns"]["name"]["copied_from_real"]
    real_names = set(pd.read_csv(tmp_path / "small.csv")["name"])
    assert copied == pytest.approx(synthetic["name"].dropna().isin(real_names).mean(), abs=1e-4) and copied < 0.9


def test_fortunes_write_one_sentence_per_line(tmp_path):
    from ganforge.datasets import FORTUNES_FOLDER

    if not FORTUNES_FOLDER.is_dir():
        pytest.skip("Debian's fortunes packages are not installed (make demo-text installs them)")
    result = ganforge("demo-data", "fortunes", "--out", "f.txt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = (tmp_path / "f.txt").read_text().splitlines()
    assert len(lines) > 10_000 and len(set(lines)) == len(lines)
    assert all(4 <= len(line.split()) <= 20 and line[-1] in ".!?" for line in lines)


def test_fit_says_how_far_it_trained_past_the_lowest_held_out_loss(tmp_path):
    rng = random.Random(0)
    lines = [" ".join(rng.choice(slot) for slot in SLOTS) for _ in range(400)]
    (tmp_path / "lines.txt").write_text("".join(line + "\n" for line in lines))
    result = ganforge("fit", "lines.txt", "--out", "m", "--level", "word", "--adversarial", "none", "--seed", "0",
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    said = next(line for line in result.stdout.splitlines() if line.startswith("beyond the lowest held-out loss: "))
    assert "more epochs, kept epoch" in said and "stopped by" in said and "at most 1% of its texts" in said
    assert "beyond its lowest held-out loss)" in result.stdout and "beyond the lowest loss epoch 1" in result.stderr
