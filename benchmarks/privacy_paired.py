"""One private fit of a suite table, for comparing two versions of the code on the same noise.

A private fit draws its statistics' noise afresh each run (a stored seed would let anyone replay it), so two
versions of the code run once each differ by the noise as much as by the change: on a table of a few hundred
rows the quality of two runs of the same code spreads by about 0.05. Here, and only here, the fit's noise (and
the torch seed a private fit draws with it) comes from `--noise-seed`, so a run of each version with the same
seeds compares the change alone. The rest is `privacy_tradeoff.py`'s procedure: the default fit, and where it
refuses a table as too small, the columns its message names declared with the training table's own ranges and
levels; scored as the suite scores. Prints one JSON line.

    PYTHONPATH=<copy of the code>/src .venv/bin/python benchmarks/privacy_paired.py TABLE EPSILON --seed S
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tabular_suite as suite  # noqa: E402  (also sets one thread)

RETRIES = 8


def seeded_noise(seed: int) -> None:
    """The synthesizer's fresh entropy, and only that, drawn from `seed`: its NumPy generator for the statistics
    and the torch seed it sets."""
    from ganforge.tabular import synthesizer

    class Random:
        def __getattr__(self, name):
            return getattr(np.random, name)

        @staticmethod
        def default_rng(*args):
            return np.random.default_rng(*(args or (seed,)))

    class NumPy:
        random = Random()

        def __getattr__(self, name):
            return getattr(np, name)

    class Secrets:
        @staticmethod
        def randbits(bits: int) -> int:  # the torch seed for the networks, Poisson sampling and DP-SGD
            return seed

    synthesizer.np, synthesizer.secrets = NumPy(), Secrets()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", choices=sorted(suite.TABLES))
    parser.add_argument("epsilon", type=float)
    parser.add_argument("--seed", type=int, default=0, help="the model's seed")
    parser.add_argument("--noise-seed", type=int, default=None, help="the statistics' noise (default 1000 + seed)")
    parser.add_argument("--max-rows", type=int, default=20000)
    args = parser.parse_args()
    seeded_noise(1000 + args.seed if args.noise_seed is None else args.noise_seed)
    from ganforge import GanforgeError, TabularSynthesizer

    train, holdout = suite.split(suite.load_table(args.table, args.max_rows))
    kinds = suite.true_kinds(args.table, train)
    bounds, levels = {}, {}
    for _ in range(RETRIES):
        try:
            model = TabularSynthesizer(dp_epsilon=args.epsilon, seed=args.seed, dp_public_bounds=bounds,
                                       dp_public_categories=levels).fit(train)
            break
        except GanforgeError as refusal:
            message = str(refusal)
            for column in re.findall(r"column '([^']+)'", message):
                if f"--dp-bounds {column}=" in message:
                    bounds[column] = [float(train[column].min()), float(train[column].max())]
                elif column in train:
                    levels[column] = sorted(train[column].dropna().unique().tolist())
    else:
        print(json.dumps({"table": args.table, "epsilon": args.epsilon, "seed": args.seed, "error": "refused"}))
        return
    synthetic = suite.conform(model.sample(len(train), seed=args.seed), train, kinds, suite.TABLES[args.table].datetime)
    scores = suite.score(args.table, train, holdout, synthetic, kinds, args.seed)
    print(json.dumps({"table": args.table, "epsilon": args.epsilon, "seed": args.seed,
                      "declared": len(bounds) + len(levels),
                      **{key: scores[key] for key in ("quality", "shapes", "pairs", "detection")}}))


if __name__ == "__main__":
    main()
