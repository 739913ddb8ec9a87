"""Sounds through the real command: demo data, fit, sample, info, evaluate with its report, and one clear line
for each bad input."""

import json
import re
from functools import partial

import numpy as np
import pytest
import torch

from ganforge.audio import evaluate as audio_evaluate
from ganforge.audio.data import read_audio
from ganforge.core.device import native_bfloat16
from tests.conftest import invoke_ganforge
from tests.conftest import run_ganforge as ganforge
from tests.report.test_tables import chromium, render_in_browser  # noqa: F401 (a fixture)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, spoken_digits):
    path = tmp_path_factory.mktemp("audio")
    result = ganforge("fit", str(spoken_digits), "--out", "model", "--epochs", "1", "--width", "8", "--seed", "0",
                      cwd=path)
    assert result.returncode == 0, result.stderr
    assert "10 classes from file-name prefix" in result.stderr
    assert re.search(r"clip length: \d[\d,]* samples \(0\.\d\d s at 8,000 Hz\)", result.stdout)
    assert "spectrogram GAN, cgan" in result.stdout and "model saved to model" in result.stdout
    native = native_bfloat16(torch.device("cpu"))  # the default precision follows the processor
    assert ("bfloat16 autocast" if native else "float32") in result.stdout
    return path


def test_sample_writes_class_folders_or_an_npz_and_info_describes_the_model(workdir):
    result = ganforge("sample", "model", "--num", "20", "--out", "wavs", "--seed", "1", cwd=workdir)
    assert result.returncode == 0, result.stderr
    clips = read_audio(workdir / "wavs")
    assert len(clips) == 20 and clips.labelled_by == "sub-folders" and clips.sample_rate == 8000
    result = ganforge("sample", "model", "-n", "5", "--label", "7", "--out", "sevens.npz", cwd=workdir)
    assert result.returncode == 0, result.stderr
    sevens = read_audio(workdir / "sevens.npz")
    assert len(sevens) == 5 and sevens.classes == [str(d) for d in range(10)] and set(sevens.labels) == {7}
    info = ganforge("info", "model", cwd=workdir)
    assert info.returncode == 0 and "spectrogram GAN, conditioning cgan" in info.stdout
    assert "labels from file-name prefix" in info.stdout and "sampling temperature 0.7" in info.stdout
    assert ("bfloat16" if native_bfloat16(torch.device("cpu")) else "float32") in info.stdout
    hot = ganforge("sample", "model", "-n", "5", "--temperature", "1", "--out", "hot.npz", "--seed", "1", cwd=workdir)
    cool = ganforge("sample", "model", "-n", "5", "--out", "cool.npz", "--seed", "1", cwd=workdir)
    assert hot.returncode == 0 and cool.returncode == 0, hot.stderr + cool.stderr
    assert not np.array_equal(np.stack(read_audio(workdir / "hot.npz").waves),
                              np.stack(read_audio(workdir / "cool.npz").waves))
    bad = ganforge("sample", "model", "-n", "5", "--temperature", "0", "--out", "x.npz", cwd=workdir)
    assert bad.returncode == 2 and "--temperature must be positive, got 0" in bad.stderr


@pytest.fixture
def quick_judge(monkeypatch):
    """The judge's 1,200 steps take a minute here; the commands below run in this process with 60."""
    monkeypatch.setattr(audio_evaluate, "train_extractor", partial(audio_evaluate.train_extractor, steps=60))
    return monkeypatch


def test_evaluate_prints_scores_beside_references_and_writes_a_report(workdir, spoken_digits, chromium, tmp_path,  # noqa: F811
                                                                       quick_judge):
    ganforge("sample", "model", "-n", "40", "--out", "eval", "--seed", "2", cwd=workdir)
    result = invoke_ganforge("evaluate", "--real", spoken_digits, "--synthetic", "eval", "--out", "m.json",
                             "--report", "r.html", cwd=workdir, monkeypatch=quick_judge)
    assert result.returncode == 0, result.stderr
    assert "real against real" in result.stdout and "noise" in result.stdout and "fidelity: " in result.stdout
    scores = json.loads((workdir / "m.json").read_text())
    assert scores["extractor"] == "ganforge-audio-cnn" and set(scores["per_class"]) <= {str(d) for d in range(10)}
    assert scores["real_reference"]["fad"] < scores["noise_reference"]["fad"]  # the references bracket the scale
    html = (workdir / "r.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    synthetic = read_audio(workdir / "eval")
    per_class = [int((synthetic.labels == k).sum()) for k in range(len(synthetic.classes))]
    players = 3 * 10 + sum(min(3, count) for count in per_class)  # up to three a class and side
    assert html.count("<audio") == html.count('src="data:audio/wav;base64,') == players
    dom, requests = render_in_browser(chromium, workdir / "r.html", tmp_path)
    assert requests == []
    loaded, total = re.search(r'data-figures-loaded="(\d+)"', dom), re.search(r'data-figures="(\d+)"', dom)
    pictures = 10 + sum(count > 0 for count in per_class)  # a strip of spectrograms a class and side
    assert loaded and total and int(loaded.group(1)) == int(total.group(1)) == pictures
    clips = re.search(r'data-clips-loaded="(\d+)"', dom)
    assert clips and int(clips.group(1)) == players, "a player's clip did not decode"


@pytest.mark.parametrize("args, message", [
    (("fit", "nowhere", "--out", "m"), "nowhere: no such file"),
    (("fit", "bad", "--out", "m"), "bad/broken.wav: cannot be read as a WAV file"),
    (("fit", "digits", "--out", "m", "--level", "word"), "--level only applies to texts"),
    (("fit", "digits", "--out", "m", "--representation", "waveform", "--arch", "resnet"),
     "--arch only applies to images"),
    (("evaluate", "--real", "digits", "--synthetic", "rows.csv"), "give synthetic sounds too"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, spoken_digits, args, message):
    (tmp_path / "digits").symlink_to(spoken_digits)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.wav").write_bytes((spoken_digits / "0_theo_0.wav").read_bytes())
    (tmp_path / "bad" / "broken.wav").write_bytes(b"RIFF0000WAVEjunk")
    (tmp_path / "rows.csv").write_text("a,b\n1,2\n")
    result = ganforge(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_demo_data_writes_the_bundled_recordings_with_their_notice(tmp_path):
    result = ganforge("demo-data", "spoken-digits", "--out", "digits", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "digits").glob("*.wav"))) == 500
    assert "CC BY-SA 4.0" in (tmp_path / "digits" / "NOTICE.md").read_text()
    again = ganforge("demo-data", "spoken-digits", "--out", "digits", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_augment_trains_the_classifier_with_and_without_synthetic_clips(tmp_path):
    from ganforge.audio.augment import compare_augmentation
    from ganforge.datasets import SPOKEN_DIGITS

    folder = tmp_path / "digits"
    folder.mkdir()
    for digit in range(10):
        for index in range(5):
            name = f"{digit}_theo_{index}.wav"
            (folder / name).write_bytes((SPOKEN_DIGITS / name).read_bytes())
    figures = compare_augmentation(read_audio(folder), labelled_share=1, epochs=1, steps=40)
    assert figures["labelled"] == 40 and figures["test"] == 10 and figures["synthetic"] == 160
    assert 0 <= figures["accuracy_real"] <= 1 and 0 <= figures["accuracy_augmented"] <= 1
    (tmp_path / "plain").mkdir()
    for name in ("a", "b", "c", "d"):
        (tmp_path / "plain" / f"{name}.wav").write_bytes((SPOKEN_DIGITS / "0_theo_0.wav").read_bytes())
    refused = ganforge("augment", "plain", cwd=tmp_path)
    assert refused.returncode == 2 and "augmentation needs labelled clips" in refused.stderr


def test_fit_with_a_report_holds_out_clips_and_scores_against_them(tmp_path, spoken_digits, quick_judge):
    result = invoke_ganforge("fit", spoken_digits, "--out", "m", "--epochs", "1", "--width", "8",
                             "--representation", "waveform", "--report", "r.html", "--holdout-share", "0.25",
                             cwd=tmp_path, monkeypatch=quick_judge)
    assert result.returncode == 0, result.stderr
    assert "holding out 10 clips for the report" in result.stderr and "fitting 30 clips" in result.stderr
    assert "waveform GAN" in result.stdout and "report written to r.html" in result.stdout
    assert (tmp_path / "r.html").read_text().count("<audio") > 0
