"""The image report: sample grids per class (real beside synthetic), the metric table, training curves."""

from __future__ import annotations

import base64
import io
from importlib import metadata

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from ..image.data import grid_picture
from . import plots

PER_CLASS = 10
UNLABELLED = 64


def grid_uri(images: np.ndarray, columns: int, scale: int = 1) -> str:
    """A PNG data URI of images side by side, `columns` per row, upscaled so that 8-pixel images are visible."""
    buffer = io.BytesIO()
    grid_picture(images, columns, gap=1, scale=scale).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _pick(images: np.ndarray, labels: np.ndarray | None, label: int | None, count: int) -> np.ndarray:
    chosen = images if label is None or labels is None else images[labels == label]
    return chosen[:count]


def class_grids(real, synthetic) -> list[dict]:
    """One row per class: real examples beside synthetic ones (or one block each when unlabelled)."""
    scale = max(1, 48 // real.images.shape[-1])
    if not real.classes or synthetic.labels is None:
        return [{"name": "all images", "real": grid_uri(real.images[:UNLABELLED], 8, scale),
                 "synthetic": grid_uri(synthetic.images[:UNLABELLED], 8, scale)}]
    grids = []
    for index, name in enumerate(real.classes):
        theirs = synthetic.classes.index(name) if name in synthetic.classes else None
        fake = _pick(synthetic.images, synthetic.labels, theirs, PER_CLASS) if theirs is not None else None
        grids.append({"name": name, "real": grid_uri(_pick(real.images, real.labels, index, PER_CLASS),
                                                     PER_CLASS, scale),
                      "synthetic": None if fake is None or len(fake) == 0 else grid_uri(fake, PER_CLASS, scale)})
    return grids


METRIC_ROWS = [  # key, label, direction
    ("fid", "FID", "lower is better, 0 for identical feature statistics"),
    ("kid", "KID", "lower is better, about 0 for the same distribution"),
    ("inception_score", "Inception Score (extractor's classes)", "higher is better, at most the number of classes"),
    ("precision", "precision", "share of synthetic images on the real manifold, higher is better"),
    ("recall", "recall", "share of real images on the synthetic manifold, higher is better"),
    ("density", "density", "about 1 is faithful; below 1 off-manifold, above 1 crowding"),
    ("coverage", "coverage", "share of real neighbourhoods with a synthetic image, higher is better"),
    ("label_accuracy", "label accuracy", "synthetic images classified as their label, higher is better"),
]


def render_image_report(results: dict, real, synthetic, history: list[dict] | None = None,
                        title: str = "Synthetic images report") -> str:
    metrics = [{"label": label, "value": results[key], "direction": direction}
               for key, label, direction in METRIC_ROWS if results.get(key) is not None]
    environment = Environment(loader=PackageLoader("ganforge.report", "templates"),
                              autoescape=select_autoescape(["html", "j2"]))
    return environment.get_template("images.html.j2").render(
        title=title, results=results, metrics=metrics, grids=class_grids(real, synthetic),
        training=plots.training_figure(history) if history else None, version=metadata.version("ganforge"))
