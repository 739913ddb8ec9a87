"""Images through the real command: fit, sample, info, evaluate and augment on a folder of digits."""

import json
from functools import partial

import numpy as np
import pytest
from PIL import Image

from ganforge.image import evaluate as image_evaluate
from ganforge.image.data import read_images
from tests.conftest import invoke_ganforge
from tests.conftest import run_ganforge as ganforge


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("images")
    assert ganforge("demo-data", "digits", "--out", "digits", cwd=path).returncode == 0
    result = ganforge("fit", "digits", "--out", "model", "--epochs", "2", "--width", "16", "--seed", "0", cwd=path)
    assert result.returncode == 0, result.stderr
    assert "model saved to model" in result.stdout and "images/s" in result.stdout
    assert ("8px, width 16, loss hinge, float32, mode seeking 0.1, class guidance 0, EMA 0.999,"  # 8 px recipe
            in result.stdout)
    assert "spread within each class (samples over real, 1 is as varied as real): 0 " in result.stdout
    assert "sampling: every draw kept (the critic names no classes" in result.stdout  # 8 px: no class guidance
    return path


def test_sample_writes_class_folders_a_grid_and_an_npz(workdir):
    result = ganforge("sample", "model", "--num", "30", "--out", "samples", "--grid", "grid.png", "--seed", "1",
                      cwd=workdir)
    assert result.returncode == 0, result.stderr
    samples = read_images(workdir / "samples")
    assert samples.images.shape == (30, 1, 8, 8) and set(samples.classes) <= {str(i) for i in range(10)}
    assert Image.open(workdir / "grid.png").size == (10 * 10 + 2, 10 * 10 + 2)  # ten per class, a row each
    result = ganforge("sample", "model", "-n", "12", "--out", "sevens.npz", "--label", "7", cwd=workdir)
    assert result.returncode == 0, result.stderr
    with np.load(workdir / "sevens.npz") as archive:
        assert archive["x"].shape == (12, 8, 8) and set(archive["y"]) == {"7"}


def test_info_and_evaluate(workdir, monkeypatch):
    info = ganforge("info", "model", cwd=workdir)
    assert info.returncode == 0 and "dcgan" in info.stdout and "cgan" in info.stdout
    ganforge("sample", "model", "-n", "200", "--out", "eval", "--seed", "2", cwd=workdir)
    # The offline network's 800 steps take a minute here: train a short one in this process, save it, reuse it.
    monkeypatch.setattr(image_evaluate, "train_feature_net", partial(image_evaluate.train_feature_net, steps=40))
    saved = invoke_ganforge("evaluate", "--real", "digits", "--synthetic", "eval", "--save-feature-net", "net",
                            cwd=workdir, monkeypatch=monkeypatch)
    assert saved.returncode == 0, saved.stderr
    assert "feature network written to net" in saved.stdout
    assert {p.name for p in (workdir / "net").iterdir()} == {"features.json", "features.safetensors"}
    result = ganforge("evaluate", "--real", "digits", "--synthetic", "eval", "--out", "m.json", "--report", "r.html",
                      "--feature-net", "net", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "training the offline feature network" not in result.stderr  # reused, not trained again
    metrics = json.loads((workdir / "m.json").read_text())
    assert metrics["extractor"].startswith("ganforge-cnn") and metrics["fid"] > 0
    assert {"kid", "precision", "recall", "density", "coverage", "inception_score"} <= set(metrics)
    assert "ganforge-cnn" in result.stderr  # says which extractor it used
    assert "collapse" in metrics and set(metrics["per_class"]) <= {str(i) for i in range(10)}
    assert "collapse: " in result.stdout and "  class " in result.stdout  # per-class recall and coverage
    html = (workdir / "r.html").read_text()
    assert "FID" in html and html.count("data:image/png") >= 10  # grids per class
    assert "Inside each class" in html


@pytest.mark.parametrize("args, message", [
    (("fit", "empty", "--out", "m2"), "no images found"),
    (("fit", "digits", "--out", "m3", "--pack", "5"), "--pack only applies to tables"),
    (("sample", "model", "-n", "3", "--out", "x", "--condition", "a=b"), "use --label"),
    (("sample", "model", "-n", "3", "--out", "x", "--label", "twelve"), "unknown label"),
    (("evaluate", "--real", "digits", "--synthetic", "nothing.csv"), "give synthetic images"),
    (("evaluate", "--real", "digits", "--synthetic", "digits", "--features", "inception", "--save-feature-net", "n"),
     "cannot be given with --features inception"),
])
def test_bad_image_commands_get_one_line(workdir, args, message):
    (workdir / "empty").mkdir(exist_ok=True)
    result = ganforge(*args, cwd=workdir)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
