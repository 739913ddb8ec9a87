"""A table's synthetic rows judged against its real ones: fidelity, detection, validity, utility and privacy,
with the plain-words verdict. The maths lives in `metrics/`; this is where it is put together for tables, as
`image/evaluate.py` and `text/evaluate.py` do for their data."""

from __future__ import annotations

import os
from collections.abc import Callable

import pandas as pd
from threadpoolctl import threadpool_limits

from ..errors import GanforgeError
from ..metrics.privacy import privacy
from ..metrics.tabular import detection, fidelity, utility, validity
from ..schema import ColumnSpec, check_table, infer_schema, numbers_as_read


def _check_columns(real: pd.DataFrame, other: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = [c for c in real.columns if c not in other.columns]
    extra = [c for c in other.columns if c not in real.columns]
    if missing or extra:
        parts = ([f"missing {', '.join(map(repr, missing))}"] if missing else []) + \
                ([f"unexpected {', '.join(map(repr, extra))}"] if extra else [])
        raise GanforgeError(f"{name} table's columns differ from the real table's: {'; '.join(parts)}")
    if len(other) == 0:
        raise GanforgeError(f"{name} table has no rows")
    return other[list(real.columns)]


def verdict(results: dict) -> dict[str, str]:
    """Plain words for the numbers, with the thresholds written out so nobody has to guess."""
    words = {}
    score = results["fidelity"]["overall"]
    words["fidelity"] = (f"statistics close to the real data (quality {score:.2f} of 1)" if score >= 0.9 else
                         f"statistics roughly like the real data (quality {score:.2f} of 1)" if score >= 0.8 else
                         f"statistics far from the real data (quality {score:.2f} of 1)")
    if results["fidelity"].get("pairs_total") and results["fidelity"]["column_pair_trends"] is None:
        words["fidelity"] += "; the shapes alone: no column pair is strongly associated in the real data"
    auc = results["detection"].get("auc")
    if auc is not None:
        words["detection"] = (f"rows hard to tell from real ones (detector AUC {auc:.2f}; 0.5 is perfect)"
                              if auc <= 0.65 else
                              f"rows a classifier can often tell apart (detector AUC {auc:.2f}; 0.5 is perfect)"
                              if auc <= 0.85 else
                              f"rows a classifier tells apart easily (detector AUC {auc:.2f}; 0.5 is perfect)")
    if "utility" in results and results["utility"].get("ratio") is not None:
        words["utility"] = _utility_words(results["utility"])
    if "privacy" in results:
        p = results["privacy"]
        warnings = []
        if p["exact_copies"] > 0.01 and p["copies_beyond_holdout"]:
            warnings.append(f"{p['exact_copies']:.1%} of rows copy a training row (of fresh real rows, "
                            f"{p['holdout_copies']:.1%})")
        if p["share_closer_to_train"] > 0.6:
            warnings.append(f"{p['share_closer_to_train']:.0%} of rows sit closer to training rows than to "
                            "holdout rows")
        if p["membership_auc"] is not None and p["membership_auc"] > 0.6:
            warnings.append(f"a membership attack reaches AUC {p['membership_auc']:.2f}")
        if p["density_membership_auc"] is not None and p["density_membership_auc"] > 0.6:
            warnings.append(f"a density membership attack reaches AUC {p['density_membership_auc']:.2f}")
        words["privacy"] = ("possible leak: " + "; ".join(warnings)) if warnings else \
            "no sign of memorised training rows (synthetic rows are as far from them as fresh real rows)"
    return words


def _utility_words(utility: dict) -> str:
    ratio, key = utility["ratio"], "macro_f1" if utility["task"] == "classification" else "r2"
    name = "macro F1" if key == "macro_f1" else "R2"
    real, synthetic = utility["train_on_real"][key], utility["train_on_synthetic"][key]
    scores = f"{name} {synthetic:.3f} trained on synthetic rows, {real:.3f} on real ones"
    if ratio <= 0:  # a negative R2 is worse than predicting the mean: no ratio says that plainly
        return f"the synthetic rows carry no usable signal for {utility['target']!r} ({scores})"
    quality = ("about as good as" if ratio >= 0.9 else "somewhat worse than" if ratio >= 0.7 else "much worse than")
    return f"a model trained on it is {quality} one trained on real data ({ratio:.0%}: {scores})"


# below this many rows (real plus synthetic) the models fit in well under a second per thread, and sharing one
# between cores costs more than it saves; above it every core helps
ROWS_PER_EXTRA_THREAD = 20_000


def threads_for(rows: int) -> int:
    """Threads worth giving the metrics' models for a table of `rows`; OMP_NUM_THREADS has the last word."""
    if "OMP_NUM_THREADS" in os.environ:
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    return max(1, min(os.cpu_count() or 1, 1 + rows // ROWS_PER_EXTRA_THREAD))


def evaluate(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None = None,
             target: str | None = None, seed: int = 0, schema: list[ColumnSpec] | None = None,
             progress: Callable[[str], None] | None = None) -> dict:
    """Fidelity, detection, validity, and (with `target`) utility and (with `holdout`) privacy, as a JSON-ready
    dict with stable keys. Raw distances for plotting are under the private key `_distances`. `schema` is the
    real table's, inferred when not given. `progress` hears a line as each part starts. The models behind the
    scores share one thread pool, sized for the rows (`threads_for`)."""
    rows = len(real) + len(synthetic) + (0 if holdout is None else len(holdout))
    with threadpool_limits(limits=threads_for(rows)):
        return _evaluate(real, synthetic, holdout, target, seed, schema, progress or (lambda line: None))


def _evaluate(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None, target: str | None,
              seed: int, schema: list[ColumnSpec] | None, progress: Callable[[str], None]) -> dict:
    real, synthetic, holdout = numbers_as_read(real, synthetic, holdout)  # "886,440" and "n/a" as `fit` reads them
    check_table(real, "real")
    synthetic = _check_columns(real, synthetic, "synthetic")
    holdout = None if holdout is None else _check_columns(real, holdout, "holdout")
    schema = schema or infer_schema(real)
    if target is not None and target not in real.columns:
        raise GanforgeError(f"--target {target!r} is not a column; columns are: {', '.join(real.columns)}")
    results: dict = {"rows": {"real": len(real), "synthetic": len(synthetic),
                              "holdout": None if holdout is None else len(holdout)},
                     "columns": {s.name: s.kind for s in schema}}
    progress(f"fidelity: column shapes and pair trends of {len(real):,} real and {len(synthetic):,} synthetic rows")
    results["fidelity"] = fidelity(real, synthetic, schema)
    progress("detection: a classifier tries to tell synthetic rows from real ones")
    results["detection"] = detection(real, synthetic, schema, seed)
    results["validity"] = validity(real, synthetic, schema)
    if target is not None:
        progress(f"utility: predicting {target!r}, trained on synthetic rows and on real ones")
        results["utility"] = utility(real, synthetic, schema, target, holdout, seed)
    if holdout is not None:
        progress(f"privacy: distances to {len(real):,} training and {len(holdout):,} holdout rows")
        results["privacy"] = privacy(real, synthetic, holdout, schema, seed)
        results["_distances"] = results["privacy"].pop("distances")
    results["verdict"] = verdict(results)
    return results
