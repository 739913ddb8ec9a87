"""A million-row table: how long the reversible transform takes, and how much memory a Parquet fit needs.

    .venv/bin/python benchmarks/large_table.py [--rows 1000000] [--epochs 1]

Part 1 times the transform's steps (schema, fit, encode, decode) in this process. Part 2 writes the table as
Parquet and CSV and measures, each in a fresh process, the peak resident memory of: reading the Parquet file
with pandas (one copy of the table), and `ganforge fit` on the Parquet file (read a column at a time) and on
the CSV file (read whole), each as the peak above the process's settled size after its imports. A fit also
costs a fixed amount whatever the table (the training code pages of libtorch, autograd's buffers, the
allocator's pools), so the same fit on the table's first 1% measures it, and the difference is what the rows
cost: that is what is compared with the table's size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ganforge.config import TabularConfig
from ganforge.schema import infer_schema
from ganforge.tabular.transform import TableTransform

IMPORTS = "import ganforge, ganforge.cli, ganforge.tabular.synthesizer, torch, sklearn.mixture, pandas"
# After the imports, Linux's peak-RSS mark (VmHWM) is reset, so the import's own transient peak does not
# hide the work's: the work's cost is its peak above the settled size after the imports.
RESET = ("open('/proc/self/clear_refs', 'w').write('5')\n"
         "BASE = int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])")
PEAK = ("HWM = int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])\n"
        "print('PEAK', (HWM - BASE) / 1024, BASE / 1024)")


def mixed_table(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({
        "normal": rng.normal(size=rows),
        "bimodal": np.where(rng.random(rows) < 0.5, rng.normal(0, 1, rows), rng.normal(10, 2, rows)),
        "count": rng.integers(0, 1000, rows),
        "city": rng.choice([f"city-{i}" for i in range(5000)], rows),
        "segment": rng.choice(["a", "b", "c"], rows),
        "amount": np.where(rng.random(rows) < 0.1, np.nan, rng.exponential(1.0, rows)),
    })


def transform_timings(table: pd.DataFrame, rng: np.random.Generator) -> None:
    timings = {}
    start = time.perf_counter()
    schema = infer_schema(table)
    timings["infer schema"] = time.perf_counter() - start
    start = time.perf_counter()
    transform = TableTransform.fit(table, schema, TabularConfig(), rng)
    timings["fit transform"] = time.perf_counter() - start
    start = time.perf_counter()
    scalars, codes = transform.encode(table, rng)
    timings["encode"] = time.perf_counter() - start
    start = time.perf_counter()
    transform.decode(scalars, codes, rng)
    timings["decode"] = time.perf_counter() - start
    print(f"{len(table):,} rows x {table.shape[1]} columns; generator width {transform.layout.width}")
    for step, seconds in timings.items():
        print(f"{step:<14} {seconds:6.2f} s")


def peak_of(code: str) -> tuple[float, float, float]:
    """(MB of peak resident memory above the settled size after the imports, that size, seconds) of a
    fresh Python process running `code`."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", f"{IMPORTS}\n{RESET}\n{code}\n{PEAK}"], capture_output=True,
                            text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    line = [line for line in result.stdout.splitlines() if line.startswith("PEAK")][-1]
    return float(line.split()[1]), float(line.split()[2]), seconds


def fit_code(path: Path, epochs: int) -> str:
    arguments = ["fit", str(path), "--out", str(path.with_suffix(".model")), "--epochs", str(epochs), "--force"]
    return f"from ganforge.cli import cli\ncli({json.dumps(arguments)}, standalone_mode=False)"


def memory(table: pd.DataFrame, epochs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        parquet, csv = Path(folder) / "big.parquet", Path(folder) / "big.csv"
        small = Path(folder) / "small.parquet"
        table.to_parquet(parquet, index=False)
        table.iloc[:len(table) // 100].to_parquet(small, index=False)
        table.to_csv(csv, index=False)
        size = table.memory_usage(deep=True).sum() / 2**20
        rows = [("pandas.read_parquet", *peak_of(f"frame = pandas.read_parquet({str(parquet)!r})"))]
        rows.append((f"fit parquet, {epochs} epoch(s)", *peak_of(fit_code(parquet, epochs))))
        rows.append((f"fit csv, {epochs} epoch(s)", *peak_of(fit_code(csv, epochs))))
        fixed = peak_of(fit_code(small, epochs))
    print(f"\ntable in pandas: {size:,.0f} MB ({len(table):,} rows); peak resident memory of a fresh process "
          f"above its size after importing ganforge, torch and pandas ({rows[0][2]:,.0f} MB):")
    for name, extra, _, seconds in rows:
        print(f"{name:<26} +{extra:6,.0f} MB  ({extra / size:4.2f} table copies)  {seconds:6.1f} s")
    print(f"fit parquet, first 1% rows +{fixed[0]:6,.0f} MB  (the fixed cost of a fit)")
    for name, extra, _, _ in rows[1:]:
        print(f"{name:<26} rows cost +{extra - fixed[0]:6,.0f} MB  ({(extra - fixed[0]) / size:4.2f} table copies)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--skip-memory", action="store_true", help="Only time the transform.")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    table = mixed_table(args.rows, rng)
    transform_timings(table, rng)
    if not args.skip_memory:
        memory(table, args.epochs)


if __name__ == "__main__":
    main()
