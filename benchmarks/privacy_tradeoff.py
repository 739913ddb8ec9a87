"""What differential privacy costs on the tabular suite: `ganforge fit --dp-epsilon E` (no other flag) beside MST,
AIM and DP-CTGAN (smartnoise-synth) at the same epsilon, on the same split, with ganforge's non-private default as the
reference.

    .bench/bin/python benchmarks/privacy_tradeoff.py [--half tuning|held-out|both] [--epsilons 0.5 1 3]
                                                     [--methods ganforge mst aim dpctgan] [--variant LABEL=JSON]
    .bench/bin/python benchmarks/privacy_tradeoff.py --runs 0 1   # ganforge's runs beside MST (the README table)

The tables, their 70/30 split and the scores are the tabular suite's (benchmarks/tabular_suite.py), so the
non-private rows come from its results file. MST, AIM and DP-CTGAN run in `.bench-dp` (`make bench-env`) through
benchmarks/peers/smartnoise_run.py, spending 30% of epsilon on their own DP bounds; where those bounds cannot
be found they get the true ranges instead, a head start the table marks with "(public bounds)"; where ganforge
refuses a table as too small, it is run again with the options its message asks for (`--dp-bounds`,
`--dp-categories`) filled with the training table's own values, the same head start, marked the same way. Printed per
table and epsilon: quality and its ratio to the non-private default, the column-pair trends as the quality
report scores them and with numbers cut at the real column's bins in both tables (`evaluate`'s
`column_pair_trends_shared_bins`: the report cuts each table over its own range, so thin tails left out move its
bins), detection AUC, TSTR ratio, the distance and density membership-attack AUCs (0.5 is best), the epsilon
the model reports as spent, and fit seconds.
Results are kept in benchmarks/results/privacy.jsonl. Defaults are chosen on the tuning half only.
ganforge draws its privacy noise from fresh entropy, never from the seed, so `--seed 1` is a second run of
ganforge (the spread between runs is part of the result), not a repeat of the first.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tabular_suite as suite  # noqa: E402  (also sets one thread)

RESULTS = suite.ROOT / "benchmarks" / "results" / "privacy.jsonl"
DP_PYTHON = suite.ROOT / ".bench-dp" / "bin" / "python"
METHODS = ("ganforge", "mst", "aim", "dpctgan")
PREPROCESSOR_SHARE = 0.3
RETRIES = 8  # of a refused ganforge fit, each adding the options its message asks for (14 columns near their
# thresholds, as `boston` at epsilon 1, can each fail in a later run than the last)
VARIANTS: dict[str, dict] = {}


def fit_ganforge(train: pd.DataFrame, epsilon: float, seed: int,
                 workdir: Path) -> tuple[pd.DataFrame, float, str]:
    """The default command; where it refuses a table as too small, the same command again with the options its
    message asks for, filled with the true ranges and levels: the head start MST gets, marked the same way."""
    data, model, out = workdir / "train.csv", workdir / "model", workdir / "synthetic.csv"
    train.to_csv(data, index=False)
    run = [sys.executable, "-m", "ganforge"]
    fit = [*run, "fit", str(data), "--out", str(model), "--dp-epsilon", f"{epsilon:g}",
           *([] if seed == 0 else ["--seed", str(seed)])]
    done = subprocess.run(fit, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    note, written = "", None
    for _ in range(RETRIES):  # a column near its threshold passes in one run and fails in the next
        if done.returncode == 0 or "are too few for statistics" not in done.stderr:
            break
        written = pd.read_csv(data) if written is None else written  # the values as the command read them
        fit += public_options(done.stderr, written)
        note = "public bounds"
        done = subprocess.run(fit, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, fit, stderr=done.stderr)
    subprocess.run([*run, "sample", str(model), "--num-rows", str(len(train)), "--out", str(out), "--seed",
                    str(seed)], check=True, stdout=subprocess.DEVNULL)
    spent = json.loads((model / "config.json").read_text())["privacy"]["epsilon"]
    return pd.read_csv(out), spent, note


def public_options(message: str, table: pd.DataFrame) -> list[str]:
    """--dp-bounds and --dp-categories for the columns a refusal names, with the training table's own values."""
    options = []
    for column in re.findall(r"--dp-bounds (.+?)=LOW:HIGH", message):
        values = pd.to_numeric(table[column], errors="coerce")
        options += ["--dp-bounds", f"{column}={values.min():.10g}:{values.max():.10g}"]
    for column in re.findall(r"--dp-categories (.+?)=A,B,\.\.\.", message):
        levels = sorted(table[column].dropna().astype(str).unique())
        if any("," in level for level in levels):
            raise RuntimeError(f"column {column!r} has a level with a comma: it cannot be declared on the command line")
        options += ["--dp-categories", f"{column}={','.join(levels)}"]
    return options


def fit_variant(train: pd.DataFrame, epsilon: float, seed: int, settings: dict) -> tuple[pd.DataFrame, float]:
    from ganforge import TabularSynthesizer

    model = TabularSynthesizer(**{"seed": seed, **settings, "dp_epsilon": epsilon}).fit(train)
    return model.sample(len(train), seed=seed), model.privacy_["epsilon"]


def fit_smartnoise(method: str, train: pd.DataFrame, kinds: dict, formats: dict, epsilon: float, seed: int,
                   workdir: Path) -> tuple[pd.DataFrame, float, str]:
    if not DP_PYTHON.exists():
        raise RuntimeError(f"{DP_PYTHON} missing: make bench-env")
    numbers = suite.as_numbers(train, kinds, formats)
    spec = {"categorical": [c for c, k in kinds.items() if k == "categorical"],
            "continuous": [c for c, k in kinds.items() if k != "categorical"], "preprocessor_share": PREPROCESSOR_SHARE}
    source, target, spec_path = workdir / "in.parquet", workdir / "out.parquet", workdir / "spec.json"
    numbers.to_parquet(source)
    note = ""
    for public in (False, True):
        spec_path.write_text(json.dumps({**spec, "public_bounds": public}))
        done = subprocess.run([str(DP_PYTHON), str(Path(__file__).parent / "peers" / "smartnoise_run.py"), method,
                               str(epsilon), str(seed), str(source), str(target), str(spec_path)],
                              capture_output=True, text=True)
        if done.returncode == 0:
            break
        if "could not find bounds" not in done.stderr or public:
            raise RuntimeError(done.stderr.strip().splitlines()[-1][:200])
        note = "public bounds"
    synthetic = pd.read_parquet(target)
    return suite.from_numbers(synthetic, train, kinds, formats), epsilon, note


def run(name: str, method: str, epsilon: float, seed: int, max_rows: int) -> dict:
    table = suite.TABLES[name]
    train, holdout = suite.split(suite.load_table(name, max_rows))
    kinds = suite.true_kinds(name, train)
    row = {"table": name, "half": table.half, "method": method, "epsilon": epsilon, "seed": seed, "rows": len(train)}
    with tempfile.TemporaryDirectory() as workdir:
        start = time.monotonic()
        try:
            if method == "ganforge":
                synthetic, spent, row["note"] = fit_ganforge(train, epsilon, seed, Path(workdir))
            elif method.startswith("ganforge:"):
                synthetic, spent = fit_variant(train, epsilon, seed, VARIANTS[method.split(":", 1)[1]])
            else:
                synthetic, spent, note = fit_smartnoise(method, train, kinds, table.datetime, epsilon, seed,
                                                        Path(workdir))
                row["note"] = note
        except subprocess.CalledProcessError as error:
            lines = (error.stderr or "").strip().splitlines()
            return {**row, "error": (lines[-1] if lines else str(error))[:300]}
        except Exception as error:
            return {**row, "error": f"{type(error).__name__}: {str(error)[:300]}"}
        row["seconds"], row["spent"] = round(time.monotonic() - start, 2), spent
    try:
        synthetic = suite.conform(synthetic, train, kinds, table.datetime)
        return {**row, **suite.score(name, train, holdout, synthetic, kinds, seed)}
    except Exception as error:
        return {**row, "error": f"scoring failed: {type(error).__name__}: {str(error)[:200]}"}


COLUMNS = ("quality", "ratio", "pairs", "pairs_shared", "detection", "tstr", "membership_auc", "density_auc", "spent",
           "seconds")


def load_results() -> dict[tuple, dict]:
    rows = {}
    if RESULTS.exists():
        for line in RESULTS.read_text().splitlines():
            record = json.loads(line)
            rows[(record["table"], record["method"], record["epsilon"], record["seed"])] = record
    return rows


def print_half(half: str, rows: list[dict], methods: list[str], epsilons: list[float], seed: int) -> None:
    reference = {r["table"]: r for r in suite.load_results().values()
                 if r["method"] == "ganforge" and r["seed"] == seed and "error" not in r}
    rows = [r for r in rows if r["half"] == half]
    if not rows:
        return
    print(f"\n## {half} half: quality ratio = quality / ganforge's non-private quality on the same table\n")
    print("| table | epsilon | method | " + " | ".join(COLUMNS) + " |")
    print("|---|---|---|" + "---|" * len(COLUMNS))
    summary = []
    for name in suite.TABLES:
        for epsilon in epsilons:
            for method in methods:
                for r in rows:
                    if (r["table"], r["epsilon"], r["method"]) != (name, epsilon, method):
                        continue
                    label = method + (f" ({r['note']})" if r.get("note") else "")
                    if "error" in r:
                        print(f"| {name} ({r['rows']}) | {epsilon:g} | {label} | failed: {r['error'][:90]} |")
                        summary.append({"method": method, "epsilon": epsilon, "failed": 1})
                        continue
                    if name in reference:
                        r = {**r, "ratio": r["quality"] / reference[name]["quality"]}
                    summary.append({"method": method, "epsilon": epsilon, "failed": 0, **r})
                    values = [suite.cell(r.get(c), c) for c in COLUMNS]
                    print(f"| {name} ({r['rows']}) | {epsilon:g} | {label} | " + " | ".join(values) + " |")
    frame = pd.DataFrame(summary)
    print("\nmeans over the tables each method finished (failures counted apart):\n")
    print("| epsilon | method | tables | failed | " + " | ".join(COLUMNS) + " |")
    print("|---|---|---|---|" + "---|" * len(COLUMNS))
    for (epsilon, method), part in frame.groupby(["epsilon", "method"], sort=True):
        done = part[part["failed"] == 0]
        means = done.reindex(columns=list(COLUMNS)).mean(numeric_only=True) if len(done) else pd.Series(dtype=float)
        print(f"| {epsilon:g} | {method} | {len(done)} | {int(part['failed'].sum())} | "
              + " | ".join(suite.cell(means.get(c, np.nan), c) for c in COLUMNS) + " |")


def print_runs(names: list[str], epsilons: list[float], seeds: list[int]) -> None:
    """ganforge's runs (one per seed: fresh noise each) side by side with MST's first run, per table and
    epsilon, then the means over the tables where both ran, per half."""
    results = load_results()
    print("| half | table (train rows) | epsilon | ganforge quality (" + " / ".join(f"run {s}" for s in seeds)
          + ") | ganforge mean | MST quality | ganforge - MST | ganforge pairs (mean) | MST pairs "
          "| ganforge pairs, shared bins | MST pairs, shared bins |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    means: dict[tuple[str, float], list[tuple[float, float]]] = {}
    for name in names:
        for epsilon in epsilons:
            mst = results.get((name, "mst", epsilon, seeds[0]))
            if mst is None or "error" in mst:
                continue
            runs = [results.get((name, "ganforge", epsilon, seed)) for seed in seeds]
            done = [r for r in runs if r is not None and "error" not in r]
            bounds = " (public bounds)" if mst.get("note") else ""
            head = f"| {mst['half']} | {name} ({mst['rows']:,}) | {epsilon:g} | "
            if not done:
                print(head + f"refused (too few rows for the statistics) | | {mst['quality']:.3f}{bounds} | | | "
                      f"{mst['pairs']:.3f} | | {suite.cell(mst.get('pairs_shared'), 'pairs')} |")
                continue
            quality = float(np.mean([r["quality"] for r in done]))
            pairs = float(np.mean([r["pairs"] for r in done]))
            shown = " / ".join("refused" if r is None or "error" in r else
                               f"{r['quality']:.3f}{' (public bounds)' if r.get('note') else ''}" for r in runs)
            shared = [r["pairs_shared"] for r in done if r.get("pairs_shared") is not None]
            shared = float(np.mean(shared)) if len(shared) == len(done) else None  # every run, or none shown
            print(head + f"{shown} | {quality:.3f} | {mst['quality']:.3f}{bounds} | {quality - mst['quality']:+.3f} "
                  f"| {pairs:.3f} | {mst['pairs']:.3f} | {suite.cell(shared, 'pairs')} "
                  f"| {suite.cell(mst.get('pairs_shared'), 'pairs')} |")
            helped = any(r.get("note") for r in done)  # told the true ranges and levels after refusing, as MST was
            means.setdefault((mst["half"], epsilon, helped), []).append((quality, mst["quality"]))
    print("\n| half | epsilon | tables ganforge ran | ganforge mean quality | MST on the same tables | ganforge wins |")
    print("|---|---|---|---|---|---|")
    for (half, epsilon, helped), pairs_ in sorted(means.items()):
        ours, theirs = np.mean([a for a, _ in pairs_]), np.mean([b for _, b in pairs_])
        wins = sum(a > b for a, b in pairs_)
        tables = f"{len(pairs_)}{' (public bounds)' if helped else ''}"
        print(f"| {half} | {epsilon:g} | {tables} | {ours:.3f} | {theirs:.3f} | {wins} of {len(pairs_)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tuning", "held-out", "both"), default="both")
    parser.add_argument("--tables", nargs="+", choices=list(suite.TABLES))
    parser.add_argument("--epsilons", nargs="+", type=float, default=[0.5, 1.0, 3.0])
    parser.add_argument("--methods", nargs="*", choices=METHODS, default=list(METHODS))
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=JSON",
                        help="also fit ganforge with these API settings (dp_epsilon is added), as ganforge:LABEL")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-rows", type=int, default=20_000)
    parser.add_argument("--skip-done", action="store_true")
    parser.add_argument("--print-only", action="store_true")
    parser.add_argument("--runs", nargs="+", type=int, metavar="SEED",
                        help="print ganforge's runs under these seeds beside MST (the README's table), then stop")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    names = args.tables or [n for n, t in suite.TABLES.items() if args.half in ("both", t.half)]
    suite.add_variants(args.variant, VARIANTS, args.methods)
    if args.runs:
        print_runs([n for n in suite.TABLES if n in names], args.epsilons, args.runs)
        return
    if not args.print_only:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        done = {k for k, r in load_results().items() if "error" not in r} if args.skip_done else set()
        for name in names:
            for epsilon in args.epsilons:
                for method in args.methods:
                    if (name, method, epsilon, args.seed) in done:
                        continue
                    row = run(name, method, epsilon, args.seed, args.max_rows)
                    with RESULTS.open("a") as handle:
                        handle.write(json.dumps(row) + "\n")
                    print(json.dumps(row), file=sys.stderr, flush=True)
    rows = [r for r in load_results().values() if r["seed"] == args.seed and r["table"] in names
            and r["epsilon"] in args.epsilons]
    present = {r["method"] for r in rows}
    methods = [m for m in METHODS if m in present] + sorted(m for m in present if ":" in m)
    for half in ("tuning", "held-out"):
        print_half(half, rows, methods, args.epsilons, args.seed)


if __name__ == "__main__":
    main()
