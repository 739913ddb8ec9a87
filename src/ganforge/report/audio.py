"""The audio report: per class, spectrograms of real clips beside synthetic ones and players for a few of
each (WAV data URIs, so the page fetches nothing), the metric table with its two references, training curves."""

from __future__ import annotations

import base64
from importlib import metadata

import numpy as np
import torch
from jinja2 import Environment, PackageLoader, select_autoescape

from ..audio.data import AudioSet, clip_length, wav_bytes
from ..audio.spectrogram import Spectrogram
from . import plots

PER_CLASS = 6  # spectrograms per class and side
PLAYERS = 3  # clips to listen to per class and side
UNLABELLED = 12

METRIC_ROWS = [  # key, label, how to read it
    ("fad", "Frechet audio distance", "lower is better; the real-against-real column is what a perfect generator gets"),
    ("precision", "precision", "share of synthetic clips among real ones, higher is better"),
    ("recall", "recall", "share of real clips the synthetic ones reach, higher is better"),
    ("coverage", "coverage", "share of real neighbourhoods with a synthetic clip, higher is better"),
    ("label_accuracy", "label accuracy", "synthetic clips heard as their label by the extractor, higher is better"),
    ("copies", "copies", "synthetic clips nearly identical to a training clip, 0 is right"),
]


def _wav_uri(wave: np.ndarray, rate: int) -> str:
    return "data:audio/wav;base64," + base64.b64encode(wav_bytes(wave, rate)).decode()


def _spectrogram_uri(clips: np.ndarray, view: Spectrogram) -> str:
    """Log spectrograms of `clips` side by side (on `view`'s scale, the same for every strip), as a PNG data URI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pictures = view.encode(torch.as_tensor(clips))[:, 0].numpy()
    figure, axes = plt.subplots(1, len(pictures), figsize=(1.5 * len(pictures), 1.6), squeeze=False)
    for axis, picture in zip(axes[0], pictures):
        axis.imshow(picture, origin="lower", aspect="auto", cmap="magma", vmin=-1, vmax=1)
        axis.set_axis_off()
    figure.subplots_adjust(left=0.01, right=0.99, top=0.98, bottom=0.02, wspace=0.05)
    return plots._data_uri(figure)


def _pick(audio: AudioSet, label: int | None, count: int) -> list[int]:
    rows = range(len(audio)) if label is None or audio.labels is None else np.flatnonzero(audio.labels == label)
    return list(rows)[:count]


def class_rows(real: AudioSet, synthetic: AudioSet) -> list[dict]:
    """Per class (or once, unlabelled): spectrogram strips and players, real beside synthetic."""
    samples, _ = clip_length(real)
    view = Spectrogram.for_rate(real.sample_rate).fitted(torch.as_tensor(real.clips(samples)))  # one scale for all
    groups = ([("all clips", None, None)] if not real.classes or synthetic.labels is None else
              [(name, index, synthetic.classes.index(name) if name in synthetic.classes else -1)
               for index, name in enumerate(real.classes)])
    rows = []
    for name, mine, theirs in groups:
        count = UNLABELLED if mine is None else PER_CLASS
        sides = {}
        for side, audio, label in (("real", real, mine), ("synthetic", synthetic, theirs)):
            picked = [] if label == -1 else _pick(audio, label, count)
            clips = audio.subset(picked).clips(samples) if picked else None
            sides[side] = None if clips is None else {
                "picture": _spectrogram_uri(clips, view),
                "players": [_wav_uri(clip, audio.sample_rate) for clip in clips[:PLAYERS]]}
        rows.append({"name": name, **sides})
    return rows


def render_audio_report(results: dict, real: AudioSet, synthetic: AudioSet, history: list[dict] | None = None,
                        title: str = "Synthetic audio report") -> str:
    scores, real_ref, noise_ref = results["scores"], results["real_reference"], results["noise_reference"]
    metrics = [{"label": label, "value": scores[key], "real": real_ref.get(key), "noise": noise_ref.get(key),
                "direction": direction} for key, label, direction in METRIC_ROWS if key in scores]
    environment = Environment(loader=PackageLoader("ganforge.report", "templates"),
                              autoescape=select_autoescape(["html", "j2"]))
    return environment.get_template("audio.html.j2").render(
        title=title, results=results, metrics=metrics, rows=class_rows(real, synthetic),
        training=plots.training_figure(history) if history else None, version=metadata.version("ganforge"))
