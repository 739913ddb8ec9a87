"""The text report: scores beside real-against-real, the quality-diversity curve of the GAN and its
maximum-likelihood baseline over temperatures, sample texts, training curves."""

from __future__ import annotations

from importlib import metadata

from jinja2 import Environment, PackageLoader, select_autoescape

from . import plots

METRIC_ROWS = [  # key, label, direction
    ("bleu2", "BLEU-2", "quality: n-grams shared with held-out real texts, higher is better"),
    ("bleu4", "BLEU-4", "quality, stricter (4-grams), higher is better"),
    ("self_bleu4", "self-BLEU-4", "diversity: generated texts against each other, lower is more diverse"),
    ("distinct1", "distinct-1", "diversity: distinct words over all words, higher is more varied"),
    ("distinct2", "distinct-2", "diversity: distinct word pairs over all pairs, higher is more varied"),
    ("memorisation", "memorisation", "share of generated texts copied verbatim from the training texts, lower is "
                                     "better"),
    ("frechet_distance", "Frechet distance", "distribution of sentence embeddings against the real one, lower "
                                             "is better"),
    ("mean_words", "words per text", "close to the real texts' is better"),
]


def render_text_report(results: dict, real: list[str], training: dict | None = None,
                       title: str = "Synthetic texts report") -> str:
    scores = results["scores"]
    reference = scores.get("real_reference", {})
    metrics = [{"label": label, "value": scores[key], "real": reference.get(key), "direction": direction}
               for key, label, direction in METRIC_ROWS if scores.get(key) is not None]
    environment = Environment(loader=PackageLoader("ganforge.report", "templates"),
                              autoescape=select_autoescape(["html", "j2"]))
    adversarial = (training or {}).get("adversarial") or []
    return environment.get_template("texts.html.j2").render(
        title=title, scores=scores, metrics=metrics, curve=results["curve"],
        curve_figure=plots.quality_diversity_figure(results["curve"]) if results["curve"] else None,
        samples=results["samples"], real_samples=real[:30],
        training=plots.training_figure(adversarial) if adversarial else None,
        mle=(training or {}).get("mle"), shipped=(training or {}).get("shipped"),
        temperature=(training or {}).get("temperature"),
        version=metadata.version("ganforge"))
