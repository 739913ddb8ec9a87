"""ImageSynthesizer: fit an (optionally class-conditional) image GAN, sample images, save and load it."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..config import (
    IMAGE_TRAIN_DEFAULTS,
    LABEL_FILTER_DRAWS,
    ImageConfig,
    TrainConfig,
    critic_names_classes,
    from_dict,
    saved_image_config,
    to_dict,
)
from ..core.batches import ConditionalBatches
from ..core.device import choose_device, flushing_subnormals, resolve_precision, seed_everything
from ..core.diversity import CollapseGuard
from ..core.label_filter import filtered
from ..core.losses import LOSSES
from ..core.progress import ProgressCallback, both
from ..core.trainer import train_gan
from ..errors import GanforgeError
from ..persist import Checkpoint, load_weights, require_keys, settings_of
from ..synthesizer import LabelledSynthesizer
from .data import ImageSet, default_size, from_network, read_images, to_network, to_size
from .diffaugment import DiffAugmented
from .networks import build_networks

Tensor = torch.Tensor
log = logging.getLogger(__name__)
MODEL_TYPE = "image"
SAMPLE_CHUNK = 1024
CRITIC_PREFIX = "critic"  # the critic's weights beside the generator's, where it names classes (label filter)


@dataclass(frozen=True)
class SizeRecipe:
    """What an image size trains with unless told: CPU minutes buy a network's steps, and a convolution's cost
    grows with the square of its width, so large images get a narrow network and a faster learning rate."""

    width: int
    learning_rate: float
    mode_seeking: float
    ema_decay: float
    class_guidance: float


# Chosen on benchmarks/image_quality.py's tuning half (scikit-learn's digits at 8, 16 and 32 px, Fashion-MNIST
# test images) at three CPU minutes. 32 px digits: width 64 reached FID 22.0 with recall 0.00, width 32 8.8, 16
# 5.9, 8 9.6; at width 16 the rate 5e-4 gave 1.4, 1e-3 0.67 (recall 0.61); on the Fashion-MNIST images 2e-4, 5e-4
# and 1e-3 came out level (25.4, 23.9, 24.2; width 64 37.2). See the README's table.
# 8 and 16 px keep 64 and 2e-4: 1e-3 there cut the 16 px digits' recall from 0.67 to 0.27. 64 px was not
# measured; it keeps 32 px's recipe. Mode seeking: 0, 0.1 and 1 tried at 8 and 16 px (0.1 lifted recall, 1 cost
# FID); at 32 px, once 28 px images were padded rather than stretched, 0.4 against 0.1 took the Fashion-MNIST
# tuning images from FID 3.11 to 2.09, recall 0.47 to 0.60 and the weakest class's recall 0.15 to 0.46, and the
# 32 px digits from FID 0.57 to 0.42, recall 0.76 to 0.83 (weakest class 0.67 to 0.77). EMA decay: from 32 px
# minutes buy few steps (about 6,000 in three), so an average over the last 1,000 (0.999) lags the generator;
# 0.995 took the Fashion-MNIST tuning images from FID 2.09 to 1.21, recall 0.60 to 0.67, the weakest class 0.46 to
# 0.51, and left the 32 px digits level (FID 0.42 and 0.44, recall 0.83 and 0.85, weakest class 0.77 both)
# Class guidance (core.trainer.class_loss) from 32 px, chosen on the Fashion-MNIST tuning images at ten minutes by
# the label accuracy of a reference classifier (trained on 50,000 other real images, 0.912 right on real ones) and
# the weakest class's recall: weight 0 (the default before) 0.885 and 0.62, 0.05 0.900 and 0.51, 0.1 0.917 and 0.49,
# 0.3 0.948 and 0.47 (FID 0.60, 0.71, 0.74, 0.97). 0.05 is the smallest weight that reaches 0.9 with every class's
# recall at 0.5 or more. 8 and 16 px keep none: their digits are named right 99% of the time without it.
GUIDANCE = 0.05
SIZE_RECIPES = {8: SizeRecipe(64, 2e-4, 0.1, 0.999, 0.0), 16: SizeRecipe(64, 2e-4, 0.1, 0.999, 0.0),
                32: SizeRecipe(16, 1e-3, 0.4, 0.995, GUIDANCE), 64: SizeRecipe(16, 1e-3, 0.4, 0.995, GUIDANCE)}
# Sampling noise under the label filter (core.label_filter), chosen with it on the Fashion-MNIST tuning images at
# ten minutes (one fit, 183 epochs; FID, weakest class's recall, reference label accuracy): without the filter at
# temperature 1 0.94, 0.52, 0.891; with it at 1 0.84, 0.49, 0.946; at 1.1 0.73, 0.55, 0.933; at 1.2 0.80, 0.61,
# 0.919. The filter names away the drifted images that a wider noise brings, so the classes keep their spread and
# their labels. Without the filter images sample at 1 (lower bought label accuracy with recall; see the README)
FILTERED_TEMPERATURE = 1.1
# the default's bfloat16 (where the processor computes it) starts here: 8 px maps are too small to gain from it
MIXED_PRECISION_FROM = 16


class ImageSynthesizer(LabelledSynthesizer):
    """Learns a set of images (labelled or not) with a DCGAN or residual GAN and samples new ones.

    Settings are the fields of `TrainConfig` (starting from IMAGE_TRAIN_DEFAULTS: hinge loss, spectral norm,
    batch 64, Adam betas 0.5/0.999; width, learning rate, mode seeking and EMA decay by image size,
    SIZE_RECIPES) and `ImageConfig`: `ImageSynthesizer(architecture="resnet", width=32)`.
    """

    model_type = MODEL_TYPE
    critic_: nn.Module | None = None  # set by fit and load where the critic names classes (the label filter's)

    def __init__(self, train: TrainConfig | None = None, image: ImageConfig | None = None, **settings: Any):
        self.train_config, self.image_config = self.merge_settings(train, image, ImageConfig, IMAGE_TRAIN_DEFAULTS,
                                                                   settings)

    # -- fitting -------------------------------------------------------------------------------------------
    @flushing_subnormals
    def fit(self, data: ImageSet | str | os.PathLike, checkpoint_dir: str | os.PathLike | None = None,
            resume: bool = False, progress: ProgressCallback | None = None) -> ImageSynthesizer:
        """Train on images (an ImageSet, a folder or an .npz). `progress` hears of every epoch (see
        `core.progress`); True from it stops training there. With `checkpoint_dir`, the training state is saved
        there (and left for the caller to remove once the model is saved)."""
        images = data if isinstance(data, ImageSet) else read_images(data)
        train, config = self.train_config, self.image_config
        if len(images.images) < 2:
            raise GanforgeError(f"need at least 2 images to learn from, got {len(images.images)}")
        conditioning = config.conditioning
        if conditioning == "auto":
            conditioning = "cgan" if images.labels is not None and len(images.classes) > 1 else "none"
        if conditioning != "none" and (images.labels is None or len(images.classes) < 2):
            raise GanforgeError(f"--conditional {conditioning} needs labelled images of at least two classes "
                                "(one sub-folder per class, or 'y' in the .npz)")
        size = config.image_size or default_size(images.images)
        recipe = SIZE_RECIPES[size]
        self.image_config = config = replace(config, conditioning=conditioning, image_size=size,
                                             width=config.width or recipe.width,
                                             mode_seeking=recipe.mode_seeking if config.mode_seeking is None
                                             else config.mode_seeking,
                                             class_guidance=(recipe.class_guidance if config.class_guidance is None
                                                             else config.class_guidance)
                                             if conditioning == "cgan" else 0.0)
        if config.temperature is None:  # a wider noise where the label filter names away the drifted images
            filtering = config.label_filter and self._names_classes()
            self.image_config = config = replace(config, temperature=FILTERED_TEMPERATURE if filtering else 1.0)
        self.train_config = train = replace(train, generator_lr=train.generator_lr or recipe.learning_rate,
                                            discriminator_lr=train.discriminator_lr or recipe.learning_rate,
                                            ema_decay=recipe.ema_decay if train.ema_decay is None else train.ema_decay)
        seed_everything(train.seed)
        device = choose_device(train.device)
        precision = False if train.mixed_precision is None and size < MIXED_PRECISION_FROM else train.mixed_precision
        self.train_config = train = replace(train, mixed_precision=resolve_precision(precision, device))
        batch = min(train.batch_size, len(images.images))
        pixels = to_network(images.images, config.image_size, config.resize).to(device)
        labels = None if conditioning == "none" else torch.as_tensor(images.labels, device=device)
        self.classes_ = list(images.classes) if conditioning != "none" else []
        self.class_counts_ = (np.bincount(images.labels, minlength=len(images.classes)).tolist()
                              if conditioning != "none" else [])
        self.channels_ = images.channels
        self.image_shape_ = [int(side) for side in images.images.shape[-2:]]  # (height, width) samples come out at
        generator, critic = self._networks(device)
        discriminator = DiffAugmented(critic) if config.diffaugment else critic
        problem = ConditionalBatches(pixels, labels, len(self.classes_), batch, config.noise_dim, config.mode_seeking,
                                     config.class_guidance)
        checkpoint = None if checkpoint_dir is None else Checkpoint(Path(checkpoint_dir), self._settings())
        state = checkpoint.load() if checkpoint is not None and resume else None
        guard = CollapseGuard(pixels, labels, self.classes_, config.noise_dim)

        result = train_gan(generator, discriminator, problem, replace(train, batch_size=batch),
                           steps_per_epoch=max(1, len(pixels) // batch), description="fit images", resume=state,
                           save_checkpoint=None if checkpoint is None else checkpoint.save,
                           progress=both(guard, progress))
        diversity = guard.finish(result.generator, restore=config.collapse_guard)
        self.generator_ = result.generator.eval()
        self.critic_ = critic.eval() if self._names_classes() else None  # trained in place beside the generator
        self.training_ = {"epochs_run": len(result.history), "stopped_by": result.stopped_by,
                          "seconds": round(result.seconds, 2), "device": str(device), "images": len(pixels),
                          "images_per_second": round(len(result.history) * max(1, len(pixels) // batch) * batch
                                                     / max(result.seconds, 1e-9), 1),
                          "rollbacks": result.rollbacks, "diversity": diversity, "history": result.history}
        return self

    def _settings(self) -> dict[str, Any]:
        return {"train_config": to_dict(self.train_config), "image_config": to_dict(self.image_config)}

    def _names_classes(self) -> bool:
        return critic_names_classes(self.image_config.conditioning, self.image_config.class_guidance)

    def _networks(self, device: torch.device) -> tuple[nn.Module, nn.Module]:
        train, config = self.train_config, self.image_config
        batch_norm = not (train.spectral_norm or LOSSES[train.loss].needs_gradient_penalty or train.r1_penalty > 0)
        generator, discriminator = build_networks(
            config.architecture, config.noise_dim, self.channels_, config.image_size, len(self.classes_),
            config.conditioning, config.width, train.spectral_norm, batch_norm, config.class_norm,
            classify=bool(config.class_guidance))
        return generator.to(device), discriminator.to(device)

    # -- sampling ------------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, n: int, *, seed: int | None = None, label: str | int | None = None,
               temperature: float | None = None, label_filter: bool | None = None) -> ImageSet:
        """`n` images (uint8 N, C, H, W). A conditional model draws labels with the training frequencies
        unless `label` fixes one. `temperature`: the noise's standard deviation (None: the model's
        `image_config.temperature`; 1 is the training noise, lower gives images nearer each class's middle).
        `label_filter` (None: the model's `image_config.label_filter`): keep, of a few draws per image, the
        first the critic names as its label (core.label_filter); a model whose critic names no classes has none."""
        self._check_fitted()
        return self._draw(self.generator_, n, seed, label, temperature, label_filter)

    @property
    def label_filter_active(self) -> bool:
        """Whether sampling checks labels by default: asked for, and a critic that names classes was kept."""
        return bool(self.image_config.label_filter) and self.critic_ is not None

    @torch.no_grad()
    def _draw(self, generator_network: nn.Module, num: int, seed: int | None, label: str | int | None,
              temperature: float | None = None, label_filter: bool | None = None) -> ImageSet:
        if num < 1:
            raise GanforgeError(f"number of images must be at least 1, got {num}")
        temperature = self.temperature(temperature, self.image_config.temperature)
        critic = self.critic_
        if label_filter and critic is None:
            raise GanforgeError("this model keeps no critic that names classes, so it cannot filter by label "
                                "(only conditional models with class guidance or AC-GAN do)")
        check = self.label_filter_active if label_filter is None else label_filter
        device = next(generator_network.parameters()).device
        was_training = generator_network.training
        generator_network.eval()
        generator = torch.Generator(device="cpu").manual_seed(seed if seed is not None else
                                                              int(torch.randint(2**31, ()).item()))
        classes = len(self.classes_)
        labels = self.draw_labels(num, label, generator)
        chunks = []
        for start in range(0, num, SAMPLE_CHUNK):
            rows = min(SAMPLE_CHUNK, num - start)
            draws = LABEL_FILTER_DRAWS if check and classes else 1  # the first draw's noise is the unfiltered one's
            noise = temperature * torch.randn(draws * rows, self.image_config.noise_dim, generator=generator)
            noise = noise.to(device)
            if draws > 1:
                pictures = filtered(generator_network, critic, noise, labels[start:start + rows], classes, draws)
            else:
                condition = None
                if classes:
                    condition = nn.functional.one_hot(labels[start:start + rows], classes).float().to(device)
                pictures = generator_network(noise, condition)
            chunks.append(from_network(to_size(pictures, self.image_shape_, self.image_config.resize)))
        generator_network.train(was_training)
        return ImageSet(np.concatenate(chunks), labels.numpy() if classes else None, list(self.classes_))

    # -- persistence ---------------------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        self._check_fitted()
        return {"model_type": MODEL_TYPE, "classes": self.classes_, "class_counts": self.class_counts_,
                "channels": self.channels_, "image_shape": self.image_shape_,
                "train_config": to_dict(self.train_config),
                "image_config": to_dict(self.image_config),
                "training": {k: v for k, v in self.training_.items() if k != "history"}}

    def state(self) -> tuple[dict, dict[str, Tensor]]:
        config = {**self._settings(), "classes": self.classes_, "class_counts": self.class_counts_,
                  "channels": self.channels_, "image_shape": self.image_shape_, "training": self.training_}
        weights = dict(self.generator_.state_dict())
        if self.critic_ is not None:
            weights |= {f"{CRITIC_PREFIX}.{key}": value for key, value in self.critic_.state_dict().items()}
        return config, weights

    @classmethod
    def from_state(cls, config: dict, weights: dict[str, Tensor], source: str | os.PathLike,
                   device: str = "auto") -> ImageSynthesizer:
        path, source = Path(source).parent, str(source)
        require_keys(config, ("train_config", "image_config", "classes", "class_counts", "channels", "training"),
                     source)
        with settings_of(source):
            model = cls(from_dict(TrainConfig, config["train_config"]),
                        from_dict(ImageConfig, saved_image_config(config)))
            model.classes_, model.class_counts_ = list(config["classes"]), list(config["class_counts"])
            model.channels_ = int(config["channels"])
            size = model.image_config.image_size  # models saved before image_shape was kept: the network's size
            model.image_shape_ = [int(side) for side in config.get("image_shape", [size, size])]
        generator, critic = model._networks(choose_device(device))
        prefix = CRITIC_PREFIX + "."
        load_weights(generator, {k: v for k, v in weights.items() if not k.startswith(prefix)}, path)
        critic_weights = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
        if critic_weights:  # models saved before the label filter kept no critic
            load_weights(critic, critic_weights, path)
        model.critic_ = critic.eval() if critic_weights else None
        model.generator_, model.training_ = generator.eval(), config["training"]
        return model
