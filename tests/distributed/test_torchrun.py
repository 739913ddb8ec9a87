"""A real two-process job on the CPU (gloo), started by torchrun as a user would."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from ganforge import TabularSynthesizer
from tests.conftest import make_table, run_ganforge

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
pytestmark = pytest.mark.skipif(not torch.distributed.is_gloo_available(), reason="torch built without gloo")


def torchrun(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([*TORCHRUN, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_two_processes_train_and_rank_zero_writes_a_model_that_samples(tmp_path):
    make_table(400).to_csv(tmp_path / "t.csv", index=False)
    done = torchrun("-m", "ganforge", "fit", "t.csv", "--out", "model", "--epochs", "4", "--batch-size", "100",
                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("model saved to model") == 1  # rank 0 alone writes
    info = json.loads(run_ganforge("info", "model", "--json", cwd=tmp_path).stdout)
    assert info["training"]["processes"] == 2 and info["training"]["epochs_run"] == 4
    assert all(map(torch.isfinite, [torch.tensor(h["loss_d"]) for h in info["training"]["history"]]))

    assert run_ganforge("fit", "t.csv", "--out", "single", "--epochs", "1", "--batch-size", "100",
                        cwd=tmp_path).returncode == 0
    model, single = TabularSynthesizer.load(tmp_path / "model"), TabularSynthesizer.load(tmp_path / "single")
    rows = model.sample(200, seed=0)
    assert len(rows) == 200 and (rows.dtypes == single.sample(5, seed=0).dtypes).all()
    assert rows["income"].between(0, 200).all() and set(rows["colour"]) <= {"red", "green", "blue", "violet"}
    assert {k: v.shape for k, v in model.generator_.state_dict().items()} == \
        {k: v.shape for k, v in single.generator_.state_dict().items()}

def test_ranks_end_with_the_same_weights(tmp_path):
    """DistributedDataParallel averages every gradient, the penalty's included; ranks see different rows,
    so without it their weights would part after the first step."""
    make_table(400).to_csv(tmp_path / "t.csv", index=False)
    shutil.copy(Path(__file__).with_name("fit_worker.py"), tmp_path)
    done = torchrun("fit_worker.py", "t.csv", tmp_path, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    first, second = load_file(tmp_path / "rank0.safetensors"), load_file(tmp_path / "rank1.safetensors")
    assert first.keys() == second.keys()
    for name in first:
        if name.endswith("num_batches_tracked") or "running_" in name:
            continue  # batch-norm statistics are each rank's own
        assert torch.equal(first[name], second[name]), name
