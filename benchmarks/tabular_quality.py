"""Quality of ganforge against CTGAN, a Gaussian copula and independent column sampling on bundled real tables.

Run inside the benchmark environment (`make bench-env`, which adds ctgan, sdv and sdmetrics):

    .bench/bin/python benchmarks/tabular_quality.py [--tables males computers] [--seeds 0 1 2] [--epochs 300]

ganforge is fitted through its command line with no column types given; CTGAN gets its discrete columns
(the non-numeric ones) as its API requires. Printed per table and method, as mean ± std over seeds:
SDMetrics' QualityReport score and its two parts (column shapes, column-pair trends), the ROC AUC of a
gradient-boosting classifier telling real from synthetic rows (0.5 is best), the share of synthetic rows with a
number outside the real range, and the fit time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score

from ganforge.datasets import load_dataset

warnings.filterwarnings("ignore")
METHODS = ("ganforge", "ctgan", "copula", "independent")


def detection_auc(real: pd.DataFrame, synthetic: pd.DataFrame, seed: int = 0) -> float:
    """Cross-validated ROC AUC of a classifier telling real rows from synthetic ones (0.5: indistinguishable)."""
    both = pd.concat([real, synthetic], ignore_index=True)
    features = pd.DataFrame(index=both.index)
    for name in both.columns:
        column = both[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            features[name] = column.astype("float64")
        else:
            features[name] = column.astype("category").cat.codes.replace(-1, np.nan).astype("float64")
    labels = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    classifier = HistGradientBoostingClassifier(random_state=seed)
    return float(cross_val_score(classifier, features, labels, cv=folds, scoring="roc_auc").mean())


def out_of_range_share(real: pd.DataFrame, synthetic: pd.DataFrame) -> float:
    """Share of synthetic rows holding a number outside the real column's [min, max]."""
    outside = np.zeros(len(synthetic), dtype=bool)
    for name in real.columns:
        if pd.api.types.is_numeric_dtype(real[name]) and not pd.api.types.is_bool_dtype(real[name]):
            values = pd.to_numeric(synthetic[name], errors="coerce")
            outside |= ((values < real[name].min()) | (values > real[name].max())).to_numpy()
    return float(outside.mean())


def quality(real: pd.DataFrame, synthetic: pd.DataFrame, metadata: dict) -> dict[str, float]:
    from sdmetrics.reports.single_table import QualityReport

    report = QualityReport()
    report.generate(real, synthetic[real.columns], metadata, verbose=False)
    properties = report.get_properties().set_index("Property")["Score"]
    return {"quality": report.get_score(), "shapes": properties["Column Shapes"],
            "pairs": properties["Column Pair Trends"]}


def fit_ganforge(real: pd.DataFrame, seed: int, epochs: int, workdir: Path) -> pd.DataFrame:
    data, model, out = workdir / "real.csv", workdir / f"model-{seed}", workdir / f"synthetic-{seed}.csv"
    real.to_csv(data, index=False)
    for command in (["fit", str(data), "--out", str(model), "--epochs", str(epochs), "--seed", str(seed), "--force"],
                    ["sample", str(model), "--num-rows", str(len(real)), "--out", str(out), "--seed", str(seed),
                     "--force"]):
        subprocess.run([sys.executable, "-m", "ganforge", *command], check=True, stdout=subprocess.DEVNULL)
    return pd.read_csv(out)


def fit_ctgan(real: pd.DataFrame, seed: int, epochs: int) -> pd.DataFrame:
    import torch
    from ctgan import CTGAN

    torch.manual_seed(seed)
    np.random.seed(seed)
    discrete = [c for c in real.columns if not pd.api.types.is_numeric_dtype(real[c])]
    model = CTGAN(epochs=epochs)
    model.fit(real, discrete)
    return model.sample(len(real))


def fit_copula(real: pd.DataFrame, seed: int, metadata, table: str) -> pd.DataFrame:
    from sdv.single_table import GaussianCopulaSynthesizer

    np.random.seed(seed)
    model = GaussianCopulaSynthesizer(metadata)
    model.fit({table: real})
    return model.sample(len(real))[table]


def independent(real: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each column resampled on its own: perfect marginals, no relationships."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({name: real[name].to_numpy()[rng.integers(len(real), size=len(real))] for name in real})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=["males", "computers", "benefits", "workinghours"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--json", type=Path, help="Also write every measurement here.")
    parser.add_argument("--rows-from", nargs="+", type=Path, metavar="LOG",
                        help="Print the table from measurements saved by earlier runs (their JSON lines on "
                             "stderr, or --json files) instead of fitting; for runs split across processes.")
    args = parser.parse_args()
    if args.rows_from:
        summarise(load_rows(args.rows_from), args.epochs, sorted({r["seed"] for r in load_rows(args.rows_from)}))
        return

    from sdv.metadata import Metadata

    rows = []
    for table in args.tables:
        real = load_dataset(table)
        metadata = Metadata.detect_from_dataframes({table: real})
        metadata_dict = metadata.to_dict()["tables"][table]
        for method in args.methods:
            for seed in args.seeds:
                start = time.monotonic()
                with tempfile.TemporaryDirectory() as workdir:
                    if method == "ganforge":
                        synthetic = fit_ganforge(real, seed, args.epochs, Path(workdir))
                    elif method == "ctgan":
                        synthetic = fit_ctgan(real, seed, args.epochs)
                    elif method == "copula":
                        synthetic = fit_copula(real, seed, metadata, table)
                    else:
                        synthetic = independent(real, seed)
                seconds = time.monotonic() - start
                synthetic = synthetic[real.columns].astype({c: real[c].dtype for c in real.columns}, errors="ignore")
                row = {"table": table, "method": method, "seed": seed, "seconds": seconds,
                       **quality(real, synthetic, metadata_dict), "detection_auc": detection_auc(real, synthetic),
                       "out_of_range": out_of_range_share(real, synthetic)}
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
    if args.json:
        pd.DataFrame(rows).to_json(args.json, orient="records", indent=1)
    summarise(rows, args.epochs, args.seeds)


def load_rows(paths: list[Path]) -> list[dict]:
    """Measurements from logs or JSON files; a later measurement of the same (table, method, seed) wins."""
    rows: dict[tuple, dict] = {}
    for path in paths:
        text = path.read_text()
        records = json.loads(text) if text.lstrip().startswith("[") else \
            [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        for record in records:
            rows[(record["table"], record["method"], record["seed"])] = record
    return list(rows.values())


def summarise(rows: list[dict], epochs: int, seeds: list[int]) -> None:
    results = pd.DataFrame(rows)
    metrics = ["quality", "shapes", "pairs", "detection_auc", "out_of_range", "seconds"]
    summary = results.groupby(["table", "method"], sort=False)[metrics].agg(["mean", "std"])
    print(f"\nepochs {epochs}, seeds {seeds}; mean ± std over seeds "
          "(quality/shapes/pairs: higher is better; detection AUC: 0.5 is best; out_of_range: 0 is best)")
    table_rows = []
    for (table, method), values in summary.iterrows():
        cells = [f"{values[(m, 'mean')]:.3f} ± {0 if np.isnan(values[(m, 'std')]) else values[(m, 'std')]:.3f}"
                 if m != "seconds" else f"{values[(m, 'mean')]:.1f}" for m in metrics]
        table_rows.append([table, method, *cells])
    header = ["table", "method", *metrics]
    widths = [max(len(str(r[i])) for r in [*table_rows, header]) for i in range(len(metrics) + 2)]
    for r in [["table", "method", *metrics]] + table_rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
