"""How long the reversible table transform takes on a million mixed rows (schema, fit, encode, decode).

    .venv/bin/python benchmarks/transform_speed.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from ganforge.config import TabularConfig
from ganforge.tabular.schema import infer_schema
from ganforge.tabular.transform import TableTransform


def mixed_table(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({
        "normal": rng.normal(size=rows),
        "bimodal": np.where(rng.random(rows) < 0.5, rng.normal(0, 1, rows), rng.normal(10, 2, rows)),
        "count": rng.integers(0, 1000, rows),
        "city": rng.choice([f"city-{i}" for i in range(5000)], rows),
        "segment": rng.choice(["a", "b", "c"], rows),
        "amount": np.where(rng.random(rows) < 0.1, np.nan, rng.exponential(1.0, rows)),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    table = mixed_table(args.rows, rng)
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
    print(f"{args.rows:,} rows x {table.shape[1]} columns; generator width {transform.layout.width}")
    for step, seconds in timings.items():
        print(f"{step:<14} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
