"""Rebalance a classification table with conditional synthetic rows, and measure whether it helps.

`augment` adds rows of the minority classes drawn from the conditional generator; `compare` trains the same
gradient-boosting classifier with no augmentation, with SMOTE (SMOTENC for mixed types, Chawla et al. 2002)
and with ganforge rows, and scores each on an untouched stratified test split.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import average_precision_score, balanced_accuracy_score, f1_score, recall_score
from sklearn.model_selection import train_test_split

from ..errors import GanforgeError
from ..metrics.tabular import encode_features
from ..schema import ColumnSpec, check_table, infer_schema
from .synthesizer import TabularSynthesizer

MARK_COLUMN = "is_synthetic"


def _class_counts(table: pd.DataFrame, target: str) -> pd.Series:
    if target not in table.columns:
        raise GanforgeError(f"--target {target!r} is not a column; columns are: {', '.join(table.columns)}")
    spec = {s.name: s for s in infer_schema(table[[target]])}[target]
    if spec.kind not in ("categorical", "boolean", "constant"):
        raise GanforgeError(f"--target {target!r} is a {spec.kind} column; augmentation balances classes, "
                            "so the target must be categorical")
    counts = table[target].value_counts()
    if len(counts) < 2:
        raise GanforgeError(f"--target {target!r} has a single class ({counts.index[0]!r}); nothing to balance")
    return counts


def rows_to_add(counts: pd.Series, ratio: float | None = None, add: int | None = None) -> dict[Any, int]:
    """Synthetic rows per class: `ratio` tops each class up to ratio x the majority's count; `add` shares
    that many rows among the minority classes in proportion to what they lack."""
    if (ratio is None) == (add is None):
        raise GanforgeError("give exactly one of --ratio and --add")
    if ratio is not None:
        if not 0 < ratio <= 1:
            raise GanforgeError(f"--ratio must be in (0, 1], got {ratio}")
        goal = math.ceil(ratio * counts.max())
        return {label: int(goal - count) for label, count in counts.items() if count < goal}
    if add <= 0:
        raise GanforgeError(f"--add must be positive, got {add}")
    deficits = counts.max() - counts[counts < counts.max()]
    shares = np.floor(add * deficits / deficits.sum()).astype(int)
    shares.iloc[: add - shares.sum()] += 1  # hand out the remainder, largest deficits first
    return {label: int(n) for label, n in shares.items() if n > 0}


def augment(table: pd.DataFrame, target: str, model: TabularSynthesizer | None = None, ratio: float | None = None,
            add: int | None = None, seed: int = 0, mark: bool = False, **settings: Any) -> pd.DataFrame:
    """The real rows, unchanged and in order, followed by conditional synthetic rows of the minority classes."""
    check_table(table)
    counts = _class_counts(table, target)
    plan = rows_to_add(counts, ratio, add)
    if mark and MARK_COLUMN in table.columns:
        raise GanforgeError(f"the table already has a column {MARK_COLUMN!r}; cannot mark synthetic rows")
    if model is None:  # every training step conditions on the target: the conditionals are what we sample
        model = TabularSynthesizer(**{"seed": seed, "focus_columns": (target,), **settings}).fit(table)
    elif target not in [s.name for s in model.schema_]:
        raise GanforgeError(f"the model was not trained on a table with column {target!r}")
    parts = [model.sample(n, conditions={target: label}, seed=seed + i) for i, (label, n) in enumerate(plan.items())]
    synthetic = pd.concat(parts, ignore_index=True) if parts else table.iloc[:0]
    synthetic = synthetic[list(table.columns)].astype(table.dtypes.to_dict())
    if mark:
        return pd.concat([table.assign(**{MARK_COLUMN: False}), synthetic.assign(**{MARK_COLUMN: True})],
                         ignore_index=True)
    return pd.concat([table, synthetic], ignore_index=True)


def _scores(y_test: pd.Series, predictions: np.ndarray, probabilities: np.ndarray, classes: np.ndarray,
            minority: str) -> dict[str, float]:
    column = list(classes).index(minority)
    return {"minority_recall": recall_score(y_test, predictions, labels=[minority], average="macro", zero_division=0),
            "minority_f1": f1_score(y_test, predictions, labels=[minority], average="macro", zero_division=0),
            "minority_pr_auc": average_precision_score(y_test == minority, probabilities[:, column]),
            "balanced_accuracy": balanced_accuracy_score(y_test, predictions)}


def _smote(features: pd.DataFrame, labels: pd.Series, schema: list[ColumnSpec], seed: int, ratio: float):
    """SMOTE (SMOTENC with categorical features) on imputed features; returns the resampled training set and
    the imputation to apply to test rows."""
    from imblearn.over_sampling import SMOTE, SMOTENC

    kinds = {s.name: s.kind for s in schema}
    categorical = [name for name in features.columns if kinds[name] in ("categorical", "boolean")]
    numbers = [name for name in features.columns if name not in categorical]
    imputer = SimpleImputer(strategy="median", keep_empty_features=True).fit(features[numbers]) if numbers else None

    def impute(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        if imputer is not None:
            frame[numbers] = imputer.transform(frame[numbers])
        frame[categorical] = frame[categorical].fillna(-1)
        return frame

    counts = labels.value_counts()
    neighbours = max(1, min(5, counts.min() - 1))
    goal = math.ceil(ratio * counts.max())
    strategy = {label: max(int(count), goal) for label, count in counts.items()}  # the same rows ganforge adds
    if categorical and numbers:
        positions = [features.columns.get_loc(name) for name in categorical]
        sampler = SMOTENC(categorical_features=positions, k_neighbors=neighbours, sampling_strategy=strategy,
                          random_state=seed)
    else:
        sampler = SMOTE(k_neighbors=neighbours, sampling_strategy=strategy, random_state=seed)
    x, y = sampler.fit_resample(impute(features), labels)
    return x, y, impute


def compare(table: pd.DataFrame, target: str, seeds: tuple[int, ...] = (0, 1, 2), test_share: float = 0.3,
            ratio: float = 1.0, **settings: Any) -> pd.DataFrame:
    """One row per (method, seed): minority-class recall, F1, PR-AUC and balanced accuracy on a held-out
    stratified split, for no augmentation, SMOTE and ganforge (the same classifier each time; SMOTE and ganforge
    add the same number of rows, topping minority classes up to `ratio` x the majority's count)."""
    check_table(table)
    _class_counts(table, target)
    table = table[table[target].notna()]
    settings.pop("seed", None)  # each split's seed also seeds its generator
    rows = []
    for seed in seeds:
        train, test = train_test_split(table, test_size=test_share, stratify=table[target], random_state=seed)
        minority = str(train[target].value_counts().idxmin())
        schema = [s for s in infer_schema(train) if s.name != target]
        synthetic_train = augment(train, target, ratio=ratio, seed=seed, **settings)
        x_train, x_test, x_augmented = encode_features([train, test, synthetic_train], schema)
        y_train, y_test = train[target].astype(str), test[target].astype(str)
        x_smote, y_smote, impute = _smote(x_train, y_train, schema, seed, ratio)
        candidates = {"none": (x_train, y_train, x_test), "smote": (x_smote, y_smote, impute(x_test)),
                      "ganforge": (x_augmented, synthetic_train[target].astype(str), x_test)}
        for method, (x, y, x_eval) in candidates.items():
            classifier = HistGradientBoostingClassifier(random_state=seed).fit(x, y)
            rows.append({"method": method, "seed": seed, "train_rows": len(x),
                         **_scores(y_test, classifier.predict(x_eval), classifier.predict_proba(x_eval),
                                   classifier.classes_, minority)})
    return pd.DataFrame(rows)
