"""A fit stopped by SIGTERM resumes from its checkpoint and ends with the same weights as an uninterrupted one."""

import signal
import subprocess
import sys
import time

from safetensors.torch import load_file

from tests.conftest import make_table, run_ganforge

FIT = ["fit", "data.csv", "--epochs", "16", "--seed", "3", "--checkpoint-every", "2", "--batch-size", "100"]

ganforge = run_ganforge


def test_sigterm_then_resume_matches_an_uninterrupted_fit(tmp_path):
    make_table(300).to_csv(tmp_path / "data.csv", index=False)
    assert ganforge(*FIT, "--out", "straight", cwd=tmp_path).returncode == 0

    process = subprocess.Popen([sys.executable, "-m", "ganforge", *FIT, "--out", "model"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    checkpoint = tmp_path / "model.checkpoint" / "checkpoint.pt"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr
    assert "run the same command with --resume" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "model").exists()

    resumed = ganforge(*FIT, "--out", "model", "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from epoch " in resumed.stderr and " of 16 (checkpoint " in resumed.stderr
    assert not (tmp_path / "model.checkpoint").exists()
    straight, again = load_file(tmp_path / "straight" / "generator.safetensors"), \
        load_file(tmp_path / "model" / "generator.safetensors")
    assert straight.keys() == again.keys()
    assert max((straight[k].float() - again[k].float()).abs().max().item() for k in straight) == 0.0


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path):
    make_table(100).to_csv(tmp_path / "data.csv", index=False)
    result = ganforge(*FIT, "--out", "model", "--resume", cwd=tmp_path)
    assert result.returncode == 2 and "no checkpoint to resume from" in result.stderr
