import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):  # one worker a core: threads beyond it only wait on each other
    import torch

    os.environ["OMP_NUM_THREADS"] = "1"  # the commands the tests start
    torch.set_num_threads(1)

TINY = dict(epochs=3, batch_size=100, embedding_dim=16, generator_dims=(32, 32), discriminator_dims=(32, 32),
            seed=0)


def make_table(rows: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small mixed table with the hard parts: a rare category, two modes, missing values, dates, booleans."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue", "violet"], rows, p=[0.5, 0.3, 0.18, 0.02])
    colour[:3] = "violet"
    income = np.where(colour == "red", rng.normal(20, 3, rows), rng.normal(80, 10, rows)).round(2)
    return pd.DataFrame({
        "colour": colour,
        "income": income,
        "age": rng.integers(18, 90, rows),
        "member": rng.random(rows) < 0.3,
        "joined": pd.Series(pd.date_range("2020-01-01", periods=rows, freq="D")).dt.strftime("%Y-%m-%d"),
        "score": np.where(rng.random(rows) < 0.2, np.nan, rng.exponential(2.0, rows)),
        "country": "NZ",
    })


@pytest.fixture
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture
def tiny() -> dict:
    return dict(TINY)


def run_ganforge(*args, cwd, timeout: int = 600) -> subprocess.CompletedProcess:
    """The real command in a subprocess, as a user would run it."""
    return subprocess.run([sys.executable, "-m", "ganforge", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def invoke_ganforge(*args, cwd, monkeypatch) -> subprocess.CompletedProcess:
    """The real command in this process, so that a test can shorten a slow inner step (a judge's training) with
    `monkeypatch`; answered as `run_ganforge` answers."""
    from click.testing import CliRunner

    from ganforge.cli.commands import cli

    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(cli, [str(arg) for arg in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)
