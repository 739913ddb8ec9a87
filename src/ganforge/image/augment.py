"""Does synthetic data help a classifier that has few labels? The same classifier trained on a small labelled
subset, with and without class-balanced images from a conditional GAN fitted on that subset alone."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..config import IMAGE_TRAIN_DEFAULTS
from ..core.splits import few_labels_split
from ..errors import GanforgeError
from .data import ImageSet
from .features import accuracy, fit_classifier
from .synthesizer import ImageSynthesizer

SYNTHETIC_PER_REAL = 4


GAN_STEPS = 3000  # generator steps when no epoch count is given: a few hundred images need many epochs


def compare_augmentation(images: ImageSet, labelled_share: float = 0.1, epochs: int | None = None, seed: int = 0,
                         steps: int = 800, progress: Callable[[str], None] = lambda text: None) -> dict:
    """20% of the images are the test set; `labelled_share` of the rest is all the classifier (and the GAN)
    may learn from. The GAN is a projection cGAN with hinge loss, spectral norm and DiffAugment (made for
    small data). Returns both test accuracies and the sizes involved."""
    if images.labels is None or len(images.classes) < 2:
        raise GanforgeError("augmentation needs labelled images of at least two classes (one sub-folder per class)")
    labelled, test = few_labels_split(images.labels, labelled_share, seed, "images")
    small, held = images.subset(labelled), images.subset(test)
    classes = len(images.classes)
    progress(f"classifier on {len(labelled)} real images ...")
    real_only = fit_classifier(small.images, small.labels, classes, "classifier", seed, steps)
    epochs = epochs or -(-GAN_STEPS // max(1, len(labelled) // IMAGE_TRAIN_DEFAULTS["batch_size"]))
    progress(f"conditional GAN on the same {len(labelled)} images ({epochs} epochs) ...")
    model = ImageSynthesizer(conditioning="cgan", diffaugment=True, loss="hinge", spectral_norm=True,
                             mode_seeking=0.0, epochs=epochs, seed=seed).fit(small)  # the measured recipe
    per_class = -(-SYNTHETIC_PER_REAL * len(labelled) // classes)
    synthetic = [model.sample(per_class, seed=seed + c, label=name) for c, name in enumerate(images.classes)]
    fake_images = np.concatenate([_resized(s.images, small.images.shape[-2:]) for s in synthetic])
    fake_labels = np.repeat(np.arange(classes), per_class)
    progress(f"classifier on {len(labelled)} real + {per_class * classes} synthetic images ...")
    augmented = fit_classifier(small.images, small.labels, classes, "classifier", seed, steps,
                               extra=(fake_images, fake_labels))
    return {"labelled": int(len(labelled)), "synthetic": int(per_class * classes), "test": int(len(test)),
            "epochs": epochs, "seed": seed,
            "accuracy_real": round(accuracy(real_only, held.images, held.labels), 4),
            "accuracy_augmented": round(accuracy(augmented, held.images, held.labels), 4)}


def _resized(images: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Synthetic images back at the real images' size (the model may work at a rounded-up size)."""
    if images.shape[-2:] == tuple(shape):
        return images
    import torch
    import torch.nn.functional as F

    tensor = F.interpolate(torch.from_numpy(images).float(), size=tuple(shape), mode="bilinear",
                           align_corners=False, antialias=True)
    return tensor.round().clamp(0, 255).to(torch.uint8).numpy()
