"""Does synthetic sound help a classifier that has few labels? The same spoken-word classifier trained on a
small labelled subset, with and without class-balanced clips from a conditional GAN fitted on that subset alone."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..core.splits import few_labels_split
from ..errors import GanforgeError
from .data import AudioSet, clip_length
from .features import STEPS, LogSpectrogram, accuracy, fit_classifier
from .synthesizer import AudioSynthesizer

SYNTHETIC_PER_REAL = 4
GAN_MINUTES = 5.0  # the GAN's budget when no epoch count is given


def compare_augmentation(audio: AudioSet, labelled_share: float = 0.1, epochs: int | None = None, seed: int = 0,
                         steps: int = STEPS, progress: Callable[[str], None] = lambda text: None) -> dict:
    """20% of the clips are the test set; `labelled_share` of the rest is all the classifier (and the GAN)
    may learn from. Returns both test accuracies and the sizes involved."""
    if audio.labels is None or len(audio.classes) < 2:
        raise GanforgeError("augmentation needs labelled clips of at least two classes (one sub-folder per class, "
                            "or LABEL_name.wav file names)")
    labelled, test = few_labels_split(audio.labels, labelled_share, seed, "clips")
    small, held = audio.subset(labelled), audio.subset(test)
    classes = len(audio.classes)
    samples, _ = clip_length(audio)
    view = LogSpectrogram(small, samples)
    x_small, y_small = view(small), torch.as_tensor(small.labels)
    x_test, y_test = view(held), torch.as_tensor(held.labels)
    progress(f"classifier on {len(labelled)} real clips ...")
    real_only = fit_classifier(x_small, y_small, classes, seed, steps)
    budget = "" if epochs else f", {GAN_MINUTES:g} minutes"
    progress(f"conditional GAN on the same {len(labelled)} clips{budget} ...")
    model = AudioSynthesizer(conditioning="cgan", seed=seed,
                             **({"epochs": epochs} if epochs else {"epochs": 10**6, "max_minutes": GAN_MINUTES}))
    model.fit(small)
    per_class = -(-SYNTHETIC_PER_REAL * len(labelled) // classes)
    synthetic = [model.sample(per_class, seed=seed + c, label=name) for c, name in enumerate(audio.classes)]
    x_fake = torch.cat([view(s) for s in synthetic])
    y_fake = torch.arange(classes).repeat_interleave(per_class)
    progress(f"classifier on {len(labelled)} real + {per_class * classes} synthetic clips ...")
    augmented = fit_classifier(torch.cat([x_small, x_fake]), torch.cat([y_small, y_fake]), classes, seed, steps)
    return {"labelled": int(len(labelled)), "synthetic": int(per_class * classes), "test": int(len(test)),
            "epochs": model.training_["epochs_run"], "seed": seed,
            "accuracy_real": accuracy(real_only, x_test, y_test),
            "accuracy_augmented": accuracy(augmented, x_test, y_test)}
