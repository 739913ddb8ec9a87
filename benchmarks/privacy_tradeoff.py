"""What privacy costs: the same real table fitted without DP and at epsilon 10, 3 and 1.

    .venv/bin/python benchmarks/privacy_tradeoff.py [--table benefits:ui] [--epsilons 10 3 1] [--epochs 100]

The table is split in half: the model sees the training half only; the other half is the holdout, used both
as the test set of train-on-synthetic-test-on-real and as the non-members of the membership attacks. Under DP a
codebook is declared public, as a data publisher would print one: the level list of every categorical column and
power-of-two bounds of every number (0..64 for ages, say). Frequencies, mixture modes and the model itself are
learned privately. With `--private-codebook` the level lists and ranges are learned under DP too, which needs a
large epsilon on a table with many columns (the statistics budget is split over them). Printed per
setting: spent epsilon, fit time, SDMetrics quality (higher is better), detection AUC (0.5 is best), macro F1 of
a classifier of the target trained on synthetic rows and tested on real holdout rows (train-on-real beside it),
the distance and density membership-attack AUCs (0.5 is best), the median distance to the closest training
row of synthetic and holdout rows, and the share of exact copies.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import pandas as pd
from sklearn.model_selection import train_test_split

from ganforge import TabularSynthesizer
from ganforge.datasets import load_dataset
from ganforge.metrics import evaluate
from ganforge.tabular.schema import infer_schema

warnings.filterwarnings("ignore")


def codebook(table: pd.DataFrame) -> dict[str, dict]:
    """Level lists of categorical and boolean columns, and power-of-two bounds of numeric ones."""
    levels, bounds = {}, {}
    for spec in infer_schema(table):
        column = table[spec.name].dropna()
        if spec.kind in ("categorical", "boolean"):
            levels[spec.name] = sorted(column.unique().tolist(), key=str)
        elif spec.kind in ("continuous", "integer"):
            low, high = float(column.min()), float(column.max())
            bounds[spec.name] = [0.0 if low >= 0 else -2.0 ** math.ceil(math.log2(-low)),
                                 0.0 if high <= 0 else 2.0 ** math.ceil(math.log2(high))]
    return {"dp_public_categories": levels, "dp_public_bounds": bounds}


def run(train: pd.DataFrame, holdout: pd.DataFrame, target: str, epsilon: float | None, epochs: int,
        seed: int, public: dict[str, dict]) -> dict:
    started = time.perf_counter()
    private = {} if epsilon is None else {"dp_epsilon": epsilon, **public}
    model = TabularSynthesizer(epochs=epochs, seed=seed, **private).fit(train)
    seconds = time.perf_counter() - started
    synthetic = model.sample(len(train), seed=seed)
    results = evaluate(train, synthetic, holdout=holdout, target=target, seed=seed, schema=model.schema_)
    privacy, utility = results["privacy"], results["utility"]
    return {
        "dp epsilon": "none" if epsilon is None else f"{epsilon:g}",
        "spent": None if model.privacy_ is None else round(model.privacy_["epsilon"], 3),
        "fit s": round(seconds, 1),
        "quality": results["fidelity"]["overall"],
        "detection auc": results["detection"]["auc"],
        "tstr f1": utility["train_on_synthetic"]["macro_f1"],
        "trtr f1": utility["train_on_real"]["macro_f1"],
        "distance attack auc": privacy["membership_auc"],
        "density attack auc": privacy["density_membership_auc"],
        "dcr synthetic": privacy["dcr_synthetic_median"],
        "dcr holdout": privacy["dcr_holdout_median"],
        "exact copies": privacy["exact_copies"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="benefits:ui", metavar="NAME:TARGET")
    parser.add_argument("--epsilons", nargs="+", type=float, default=[10.0, 3.0, 1.0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--private-codebook", action="store_true",
                        help="Learn level lists and ranges under DP too instead of declaring them public.")
    args = parser.parse_args()
    name, target = args.table.split(":")
    table = load_dataset(name)
    train, holdout = train_test_split(table, test_size=0.5, random_state=args.seed,
                                      stratify=table[target].astype(str))
    public = {} if args.private_codebook else codebook(table)
    rows = []
    for epsilon in [None, *args.epsilons]:
        rows.append(run(train, holdout, target, epsilon, args.epochs, args.seed, public))
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    print(f"\n{name}: {len(train)} training rows, {len(holdout)} holdout rows, target {target!r}, "
          f"{args.epochs} epochs, seed {args.seed}, delta 1e-5, "
          f"codebook (levels, bounds) {'private' if args.private_codebook else 'public'}")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
