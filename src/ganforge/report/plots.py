"""Figures for the report, returned as PNG data URIs so the page needs no other file and no network."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..schema import ColumnSpec, datetime_seconds  # noqa: E402

REAL, SYNTHETIC = "#4C72B0", "#DD8452"
MAX_LEVELS = 15


def _data_uri(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _as_numbers(column: pd.Series, spec: ColumnSpec) -> pd.Series:
    if spec.kind == "datetime":
        return (datetime_seconds(column, spec) / 86_400).dropna()
    return pd.to_numeric(column, errors="coerce").dropna()


def column_figure(real: pd.Series, synthetic: pd.Series, spec: ColumnSpec) -> str:
    """Real vs synthetic: overlaid histograms for numbers and dates, side-by-side bars for categories."""
    figure, axis = plt.subplots(figsize=(4.2, 2.6))
    if spec.kind in ("continuous", "integer", "datetime"):
        real_values, synthetic_values = _as_numbers(real, spec), _as_numbers(synthetic, spec)
        both = pd.concat([real_values, synthetic_values])
        bins = np.histogram_bin_edges(both, bins=30) if len(both) else 10
        axis.hist(real_values, bins=bins, alpha=0.6, density=True, color=REAL, label="real")
        axis.hist(synthetic_values, bins=bins, alpha=0.6, density=True, color=SYNTHETIC, label="synthetic")
        if spec.kind == "datetime":
            axis.set_xlabel("days since 1970-01-01")
    else:
        real_share = real.astype(str).where(real.notna(), "(missing)").value_counts(normalize=True)
        synthetic_share = synthetic.astype(str).where(synthetic.notna(), "(missing)").value_counts(normalize=True)
        levels = real_share.index[:MAX_LEVELS]
        positions = np.arange(len(levels))
        axis.bar(positions - 0.2, real_share.reindex(levels).fillna(0), 0.4, color=REAL, label="real")
        axis.bar(positions + 0.2, synthetic_share.reindex(levels).fillna(0), 0.4, color=SYNTHETIC, label="synthetic")
        axis.set_xticks(positions, [str(level)[:14] for level in levels], rotation=45, ha="right", fontsize=7)
        axis.set_ylabel("share")
    axis.set_title(f"{spec.name} ({spec.kind})", fontsize=9)
    axis.legend(fontsize=7)
    return _data_uri(figure)


def correlation_figure(real: pd.DataFrame, synthetic: pd.DataFrame, schema: list[ColumnSpec]) -> str | None:
    """Spearman correlations of the numeric, date and boolean columns: real, synthetic, and their difference."""
    names = [s.name for s in schema if s.kind in ("continuous", "integer", "datetime", "boolean")]
    if len(names) < 2:
        return None
    specs = {s.name: s for s in schema}

    def matrix(frame: pd.DataFrame) -> pd.DataFrame:
        numbers = pd.DataFrame({n: (frame[n].astype(float) if specs[n].kind == "boolean" else
                                    _as_numbers(frame[n], specs[n]).reindex(frame.index)) for n in names})
        return numbers.corr(method="spearman").fillna(0)

    real_matrix, synthetic_matrix = matrix(real), matrix(synthetic)
    figure, axes = plt.subplots(1, 3, figsize=(13.5, 4), layout="constrained")
    panels = [(real_matrix, "real", "coolwarm", -1), (synthetic_matrix, "synthetic", "coolwarm", -1),
              ((real_matrix - synthetic_matrix).abs(), "|difference|", "Reds", 0)]
    for axis, (values, title, colours, low) in zip(axes, panels):
        image = axis.imshow(values.to_numpy(), cmap=colours, vmin=low, vmax=1)
        axis.set_xticks(range(len(names)), [n[:12] for n in names], rotation=90, fontsize=7)
        axis.set_yticks(range(len(names)), [n[:12] for n in names], fontsize=7)
        axis.set_title(title, fontsize=10)
        figure.colorbar(image, ax=axis, shrink=0.8)
    return _data_uri(figure)


def distance_figure(distances: dict[str, list[float]]) -> str:
    """Distance to the closest training row, for synthetic rows and for real holdout rows."""
    figure, axis = plt.subplots(figsize=(6, 2.8))
    both = np.concatenate([distances["synthetic"], distances["holdout"]])
    bins = np.histogram_bin_edges(both, bins=40)
    axis.hist(distances["holdout"], bins=bins, alpha=0.6, density=True, color=REAL, label="holdout (real, unseen)")
    axis.hist(distances["synthetic"], bins=bins, alpha=0.6, density=True, color=SYNTHETIC, label="synthetic")
    axis.set_xlabel("distance to closest training row")
    axis.legend(fontsize=8)
    return _data_uri(figure)


def training_figure(history: list[dict[str, float]]) -> str:
    """Losses over training and, where the fit scored it, the pairwise fidelity score on a second axis."""
    figure, axis = plt.subplots(figsize=(6, 2.8))
    unit = "step" if all("step" in h for h in history) else "epoch"
    x = [h[unit] for h in history]
    axis.plot(x, [h["loss_d"] for h in history], label="discriminator loss", color=REAL)
    axis.plot(x, [h["loss_g"] for h in history], label="generator loss", color=SYNTHETIC)
    axis.set_xlabel(unit)
    axis.set_ylabel("loss")
    axis.legend(fontsize=8, loc="upper left")
    scored = [h for h in history if "fidelity" in h]
    if scored:
        score_axis = axis.twinx()
        score_axis.plot([h[unit] for h in scored], [h["fidelity"] for h in scored], "k.-", label="pairwise fidelity")
        score_axis.set_ylabel("pairwise fidelity (higher is better)")
        score_axis.legend(fontsize=8, loc="upper right")
    return _data_uri(figure)


def quality_diversity_figure(curve: list[dict]) -> str:
    """BLEU-4 (quality) against self-BLEU-4 (lack of diversity), one line per model through its temperatures:
    a curve up and to the left is better."""
    figure, axis = plt.subplots(figsize=(6, 3.6))
    for name, colour in (("gan", SYNTHETIC), ("mle", REAL)):
        rows = [row for row in curve if row["model"] == name]
        if not rows:
            continue
        label = "GAN" if name == "gan" else "maximum likelihood (no adversarial phase)"
        axis.plot([r["self_bleu4"] for r in rows], [r["bleu4"] for r in rows], "o-", color=colour, label=label)
        for row in rows:
            axis.annotate(f"T={row['temperature']:g}", (row["self_bleu4"], row["bleu4"]), fontsize=7,
                          textcoords="offset points", xytext=(4, 3))
    axis.set_xlabel("self-BLEU-4 (lower: more diverse)")
    axis.set_ylabel("BLEU-4 vs held-out (higher: better)")
    axis.legend(fontsize=8)
    return _data_uri(figure)
