"""Render evaluation results into one self-contained HTML page."""

from __future__ import annotations

from importlib import metadata

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from ..schema import ColumnSpec, infer_schema
from . import plots

MAX_COLUMN_FIGURES = 40


def _grade(value: float | None, good: float, fair: float, higher_is_better: bool = True) -> str:
    if value is None:
        return ""
    if not higher_is_better:
        value, good, fair = -value, -good, -fair
    return "good" if value >= good else "fair" if value >= fair else "bad"


def _cards(results: dict) -> list[dict]:
    fidelity, detection = results["fidelity"], results["detection"]
    cards = [{"value": f"{fidelity['overall']:.2f}", "label": "quality (higher is better, max 1)",
              "grade": _grade(fidelity["overall"], 0.9, 0.8)},
             {"value": f"{fidelity['column_shapes']:.2f}", "label": "column shapes",
              "grade": _grade(fidelity["column_shapes"], 0.9, 0.8)}]
    if fidelity["column_pair_trends"] is not None:
        counted = f"{fidelity.get('pairs_scored')} of {fidelity.get('pairs_total')} pairs strongly associated"
        from ..metrics.tabular import shared_bins_apart  # scikit-learn comes with it: only where a report is made

        if (shared := shared_bins_apart(fidelity)) is not None:
            counted += f"; {shared:.2f} with numbers cut at the real columns' bins"
        cards.append({"value": f"{fidelity['column_pair_trends']:.2f}", "label": f"column-pair trends ({counted})",
                      "grade": _grade(fidelity["column_pair_trends"], 0.9, 0.8)})
    if detection.get("auc") is not None:
        cards.append({"value": f"{detection['auc']:.2f}", "label": "detection AUC (0.5 is best)",
                      "grade": _grade(detection["auc"], 0.65, 0.85, higher_is_better=False)})
    if results.get("utility", {}).get("ratio") is not None:
        cards.append({"value": f"{results['utility']['ratio']:.0%}", "label": "utility vs real data",
                      "grade": _grade(results["utility"]["ratio"], 0.9, 0.7)})
    if "privacy" in results:
        share = results["privacy"]["share_closer_to_train"]
        cards.append({"value": f"{share:.0%}", "label": "closer to train than holdout (50% is best)",
                      "grade": _grade(abs(share - 0.5), 0.1, 0.2, higher_is_better=False)})
    return cards


def _validity_text(entry: dict) -> str:
    parts = []
    if entry.get("out_of_range"):
        parts.append(f"{entry['out_of_range']:.1%} out of range")
    if entry.get("unseen_categories"):
        parts.append(f"{entry['unseen_categories']:.1%} unseen values")
    if entry["null_rate_real"] or entry["null_rate_synthetic"]:
        parts.append(f"missing {entry['null_rate_real']:.1%} real / {entry['null_rate_synthetic']:.1%} synthetic")
    return ", ".join(parts)


def render_report(results: dict, real: pd.DataFrame, synthetic: pd.DataFrame,
                  history: list[dict] | None = None, title: str = "Synthetic data report",
                  schema: list[ColumnSpec] | None = None) -> str:
    schema = schema or infer_schema(real)
    shown = [s for s in schema if s.kind not in ("id", "text")][:MAX_COLUMN_FIGURES]
    columns = [{"name": s.name, "figure": plots.column_figure(real[s.name], synthetic[s.name], s),
                "score": results["fidelity"]["per_column"].get(s.name, {}).get("score", "n/a"),
                "validity": _validity_text(results["validity"]["columns"][s.name])} for s in shown]
    figures = {"correlations": plots.correlation_figure(real, synthetic, schema),
               "distances": plots.distance_figure(results["_distances"]) if "_distances" in results else None,
               "training": plots.training_figure(history) if history else None}
    environment = Environment(loader=PackageLoader("ganforge.report", "templates"),
                              autoescape=select_autoescape(["html", "j2"]))
    return environment.get_template("report.html.j2").render(
        title=title, rows=results["rows"], version=metadata.version("ganforge"), cards=_cards(results),
        verdict=results["verdict"], utility=results.get("utility"), privacy=results.get("privacy"),
        figures=figures, columns=columns, hidden_columns=max(0, len(schema) - len(shown)))
