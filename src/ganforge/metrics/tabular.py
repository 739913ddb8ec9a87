"""Fidelity, detection, utility and validity of a synthetic table against the real one.

Pure functions: data frames in, plain numbers and dicts out. Each says its range and which way is better.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, f1_score, r2_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

from ..errors import GanforgeError
from ..schema import UNMODELLED, ColumnSpec, datetime_seconds

SHARED_BINS_APART = 0.005  # pair trends on shared bins are shown beside the report's where they differ by this

SDTYPES = {"continuous": "numerical", "integer": "numerical", "categorical": "categorical",
           "boolean": "boolean", "datetime": "datetime", "constant": "categorical", "id": "id",
           "text": "id"}


def sdmetrics_metadata(schema: list[ColumnSpec]) -> dict:
    columns = {}
    for spec in schema:
        columns[spec.name] = {"sdtype": SDTYPES[spec.kind]}
        if spec.kind == "datetime" and spec.datetime_format:
            columns[spec.name]["datetime_format"] = spec.datetime_format
    return {"columns": columns}


def fidelity(real: pd.DataFrame, synthetic: pd.DataFrame, schema: list[ColumnSpec]) -> dict:
    """SDMetrics' QualityReport: per-column shape similarity (KS complement for numbers and dates,
    total-variation complement for categories), column-pair trends (correlation and contingency similarity)
    and their mean. All in [0, 1], higher is better. SDMetrics (0.32 on) scores only the pairs that the real
    data associates strongly (correlation above 0.5, association above 0.3): weak pairs match trivially.
    `pairs_scored` of `pairs_total` says how many counted; with none, the trends are None and overall is the
    shapes alone. `column_pair_trends_shared_bins`: the same pairs, with a number or date that meets a category
    cut at the real column's bins in both tables (`_shared_bin_trends`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.generate(real, synthetic[real.columns], sdmetrics_metadata(schema), verbose=False)
    properties = report.get_properties().set_index("Property")["Score"]
    shapes = report.get_details("Column Shapes")
    pairs = report.get_details("Column Pair Trends")
    scored = (pairs["Meets Threshold?"].astype("boolean").fillna(False) & pairs["Score"].notna()
              if "Meets Threshold?" in pairs else pairs.get("Score", pd.Series(dtype=float)).notna())
    return {
        "overall": _number(report.get_score()),
        "column_shapes": _number(properties.get("Column Shapes")),
        "column_pair_trends": _number(properties.get("Column Pair Trends")),
        "column_pair_trends_shared_bins": _number(_shared_bin_trends(real, synthetic, schema, pairs[scored])),
        "pairs_scored": int(scored.sum()),
        "pairs_total": len(pairs),
        "per_column": {row["Column"]: {"metric": row["Metric"], "score": _number(row["Score"])}
                       for _, row in shapes.iterrows()},
        "worst_pairs": [{"columns": [row["Column 1"], row["Column 2"]], "metric": row["Metric"],
                         "score": _number(row["Score"])}
                        for _, row in pairs.dropna(subset=["Score"]).nsmallest(5, "Score").iterrows()],
    }


def _shared_bin_trends(real: pd.DataFrame, synthetic: pd.DataFrame, schema: list[ColumnSpec],
                       scored: pd.DataFrame) -> float | None:
    """The mean over the scored pairs with each number-and-category pair cut at the real number's ten even bins
    in both tables. The quality report cuts each table over its own [min, max], so a synthetic column whose
    extremes differ from the real ones is scored on shifted bins, whatever its joint: `chile`'s holdout, real
    rows themselves, scores 0.63 on its `statusquo` x `vote` pair against its training rows (0.94 on shared
    bins); under differential privacy, where tails too thin to clear the noise are not released, the shift
    decides such pairs."""
    from sdmetrics.column_pairs import ContingencySimilarity

    specs = {spec.name: spec for spec in schema}
    numbers = {name for name, spec in specs.items() if spec.kind in ("continuous", "integer", "datetime")}
    mixed = scored[(scored["Metric"] == "ContingencySimilarity")
                   & (scored["Column 1"].isin(numbers) | scored["Column 2"].isin(numbers))]
    wanted = numbers & set(mixed["Column 1"]) | numbers & set(mixed["Column 2"])
    as_numbers = [{name: datetime_seconds(frame[name], specs[name]) if specs[name].kind == "datetime"
                   else pd.to_numeric(frame[name], errors="coerce") for name in wanted}  # each column once
                  for frame in (real, synthetic)]
    scores = []
    for index, pair in scored.iterrows():
        if index not in mixed.index:
            scores.append(float(pair["Score"]))
            continue
        columns = [pair["Column 1"], pair["Column 2"]]
        both = [pd.DataFrame({c: converted[c] if c in numbers else frame[c] for c in columns})
                for frame, converted in zip((real, synthetic), as_numbers)]
        scores.append(float(ContingencySimilarity.compute(
            *both, continuous_column_names=[c for c in columns if c in numbers])))
    return float(np.mean(scores)) if scores else None


def shared_bins_apart(fidelity: dict) -> float | None:
    """The pair trends on shared bins where they differ from the report's by SHARED_BINS_APART or more (what
    `evaluate` and the report show beside it), else None."""
    shared, report = fidelity.get("column_pair_trends_shared_bins"), fidelity.get("column_pair_trends")
    return shared if shared is not None and report is not None and abs(shared - report) >= SHARED_BINS_APART else None


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)


def encode_features(frames: list[pd.DataFrame], schema: list[ColumnSpec]) -> list[pd.DataFrame]:
    """Numbers as floats, dates as seconds plus their day of the year, of the month and of the week and their
    hour (a tree cannot read a season, a weekend or an afternoon off the seconds alone, so a detector would miss
    them), categories as shared integer codes (NaN kept) for tree models."""
    names = [s.name for s in schema if s.kind not in UNMODELLED]
    both = pd.concat([f[names] for f in frames], ignore_index=True)
    features = pd.DataFrame(index=both.index)
    for spec in schema:
        if spec.name not in names:
            continue
        column = both[spec.name]
        if spec.kind in ("continuous", "integer"):
            features[spec.name] = pd.to_numeric(column, errors="coerce").astype("float64")
        elif spec.kind == "datetime":
            features[spec.name] = datetime_seconds(column, spec)
            seconds = datetime_seconds(column, spec, wall_clock=True)  # the calendar as the rows' clocks show it
            stamps = pd.to_datetime(seconds, unit="s")
            for part in ("dayofyear", "day", "dayofweek"):
                features[f"{spec.name} ({part})"] = getattr(stamps.dt, part).astype("float64")
            features[f"{spec.name} (hour)"] = (seconds % 86_400) / 3_600
        else:
            codes = column.astype(str).where(column.notna()).astype("category").cat.codes
            features[spec.name] = codes.replace(-1, np.nan).astype("float64")
    bounds = np.cumsum([0] + [len(f) for f in frames])
    return [features.iloc[start:end].reset_index(drop=True) for start, end in zip(bounds[:-1], bounds[1:])]


def detection(real: pd.DataFrame, synthetic: pd.DataFrame, schema: list[ColumnSpec], seed: int = 0) -> dict:
    """Cross-validated ROC AUC of gradient boosting telling real rows from synthetic ones.
    0.5 is perfect (indistinguishable); 1.0 means every synthetic row is recognisable."""
    size = min(len(real), len(synthetic))
    real = real.sample(size, random_state=seed) if len(real) > size else real
    synthetic = synthetic.sample(size, random_state=seed) if len(synthetic) > size else synthetic
    real_features, synthetic_features = encode_features([real, synthetic], schema)
    features = pd.concat([real_features, synthetic_features], ignore_index=True)
    labels = np.r_[np.zeros(len(real)), np.ones(len(synthetic))]
    folds = min(5, size)
    if folds < 2 or features.shape[1] == 0:
        return {"auc": None, "note": "too few rows or no usable columns"}
    scores = cross_val_predict(HistGradientBoostingClassifier(random_state=seed), features, labels,
                               cv=StratifiedKFold(folds, shuffle=True, random_state=seed), method="predict_proba")
    # below 0.5 only means rows present in both tables confuse the folds: no better than chance
    return {"auc": _number(max(0.5, roc_auc_score(labels, scores[:, 1]))), "rows_each": size}


def is_classification(spec: ColumnSpec) -> bool:
    return spec.kind in ("categorical", "boolean", "constant")


def utility(real: pd.DataFrame, synthetic: pd.DataFrame, schema: list[ColumnSpec], target: str,
            holdout: pd.DataFrame | None = None, seed: int = 0) -> dict:
    """Train-on-synthetic-test-on-real against train-on-real-test-on-real for `target`.
    Classification: accuracy and macro F1; regression: R2. Ratio TSTR/TRTR near 1 is best."""
    specs = {s.name: s for s in schema}
    if target not in specs:
        raise GanforgeError(f"--target {target!r} is not a column; columns are: {', '.join(specs)}")
    spec = specs[target]
    if spec.kind in ("id", "text"):
        raise GanforgeError(f"--target {target!r} is an {spec.kind} column; pick a column to predict")
    note = None
    if holdout is None:
        real, holdout = train_test_split(real, test_size=0.3, random_state=seed)
        note = "no holdout given: tested on 30% of the real table, which the generator may have seen"
    real, synthetic, holdout = (f[f[target].notna()] for f in (real, synthetic, holdout))
    if len(holdout) == 0 or len(real) == 0 or len(synthetic) == 0:
        return {"target": target, "note": "target is missing in every row of a table"}
    features_schema = [s for s in schema if s.name != target]
    x_real, x_synthetic, x_test = encode_features([real, synthetic, holdout], features_schema)
    classification = is_classification(spec)
    results = {"target": target, "task": "classification" if classification else "regression"}
    for name, x_train, y_train in (("real", x_real, real[target]), ("synthetic", x_synthetic, synthetic[target])):
        results[f"train_on_{name}"] = _fit_and_score(x_train, y_train, x_test, holdout[target], classification, seed)
    key = "macro_f1" if classification else "r2"
    real_score, synthetic_score = results["train_on_real"][key], results["train_on_synthetic"][key]
    results["ratio"] = _number(synthetic_score / real_score) if real_score and real_score > 0 else None
    if note:
        results["note"] = note
    return results


def _fit_and_score(x_train: pd.DataFrame, y_train: pd.Series, x_test: pd.DataFrame, y_test: pd.Series,
                   classification: bool, seed: int) -> dict:
    if classification:
        y_train, y_test = y_train.astype(str), y_test.astype(str)
        if y_train.nunique() < 2:  # a model of one class predicts it everywhere
            predictions = np.full(len(y_test), y_train.iloc[0])
        else:
            model = HistGradientBoostingClassifier(random_state=seed).fit(x_train, y_train)
            predictions = model.predict(x_test)
        return {"accuracy": _number(accuracy_score(y_test, predictions)),
                "macro_f1": _number(f1_score(y_test, predictions, average="macro", zero_division=0))}
    y_train = pd.to_numeric(y_train, errors="coerce").astype(float)
    y_test = pd.to_numeric(y_test, errors="coerce").astype(float)
    model = HistGradientBoostingRegressor(random_state=seed).fit(x_train, y_train)
    return {"r2": _number(r2_score(y_test, model.predict(x_test))) if len(y_test) > 1 else None}


def validity(real: pd.DataFrame, synthetic: pd.DataFrame, schema: list[ColumnSpec]) -> dict:
    """Per column: share of synthetic values outside the real range (numbers, dates) or never seen in the real
    table (categories), and missing rates real vs synthetic. Shares near 0 and equal null rates are best."""
    columns = {}
    for spec in schema:
        real_column, synthetic_column = real[spec.name], synthetic[spec.name]
        entry = {"kind": spec.kind, "null_rate_real": _number(real_column.isna().mean()),
                 "null_rate_synthetic": _number(synthetic_column.isna().mean())}
        observed = synthetic_column.dropna()
        if spec.kind in ("continuous", "integer", "datetime") and real_column.notna().any() and len(observed):
            convert = (lambda c, spec=spec: datetime_seconds(c, spec)) if spec.kind == "datetime" else \
                (lambda c: pd.to_numeric(c, errors="coerce"))
            low, high = convert(real_column).agg(["min", "max"])
            values = convert(observed)
            entry["out_of_range"] = _number(((values < low) | (values > high) | values.isna()).mean())
        elif spec.kind in ("categorical", "boolean", "constant") and len(observed):
            seen = set(real_column.dropna().astype(str))
            entry["unseen_categories"] = _number((~observed.astype(str).isin(seen)).mean())
        elif spec.kind == "text" and len(observed):  # generated, not drawn: copies of real values are the risk
            entry["copied_from_real"] = _number(observed.astype(str).isin(set(real_column.dropna().astype(str))).mean())
        columns[spec.name] = entry
    shares = [v.get("out_of_range", v.get("unseen_categories")) for v in columns.values()]
    shares = [s for s in shares if s is not None]
    return {"worst_share": max(shares) if shares else 0.0, "columns": columns}
