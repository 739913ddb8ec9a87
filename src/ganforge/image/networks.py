"""Image generators and discriminators: DCGAN (Radford et al. 2016) and residual SNGAN-style networks (Miyato
et al. 2018), 8 to 64 pixels, grayscale or RGB.

Conditioning: the generator takes a label embedding beside its noise; the discriminator either projects its
features onto a label embedding (cGAN with projection, Miyato & Koyama 2018) or returns class logits after its
adversarial score (AC-GAN). Labels arrive as one-hot rows, the trainer's condition format.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..core.layers import ConditionalHead, Conditioned, generator_norm, maybe_spectral_norm, run_layers

Tensor = torch.Tensor
ARCHITECTURES = ("dcgan", "resnet")
CONDITIONING = ("none", "cgan", "acgan")


def _upsamplings(size: int) -> int:
    return int(math.log2(size // 4))


class DCGANGenerator(Conditioned):
    """With `class_norm` (and labels), every batch norm takes its scale and shift from the label."""

    def __init__(self, noise_dim: int, channels: int, size: int, classes: int = 0, width: int = 64,
                 class_norm: bool = False):
        super().__init__(noise_dim, classes)
        steps = _upsamplings(size)
        top = width * 2 ** (steps - 1)

        self.project = nn.Sequential(nn.Linear(noise_dim * (2 if classes else 1), top * 16, bias=False),
                                     nn.Unflatten(1, (top, 4, 4)), generator_norm(top, classes, class_norm),
                                     nn.ReLU(True))
        layers: list[nn.Module] = []
        for step in range(steps - 1):
            out = top // 2 ** (step + 1)
            layers += [nn.ConvTranspose2d(out * 2, out, 4, 2, 1, bias=False), generator_norm(out, classes, class_norm),
                       nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, noise: Tensor, condition: Tensor | None = None) -> Tensor:
        return run_layers([*self.project, *self.body], self.inputs(noise, condition), condition)


class DCGANDiscriminator(nn.Module):
    """Strided convolutions down to 4x4. Batch norm as in the paper, except with spectral norm or a gradient
    penalty (both need each image judged on its own)."""

    def __init__(self, channels: int, size: int, classes: int = 0, conditioning: str = "none", width: int = 64,
                 spectral_norm: bool = False, batch_norm: bool = True, classify: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        current = channels
        for step in range(_upsamplings(size)):
            out = width * 2 ** step
            layers.append(maybe_spectral_norm(nn.Conv2d(current, out, 4, 2, 1), spectral_norm))
            if batch_norm and step > 0:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.LeakyReLU(0.2, True))
            current = out
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = ConditionalHead(current * 16, classes, conditioning, spectral_norm, classify)

    def forward(self, images: Tensor, condition: Tensor | None = None) -> Tensor:
        return self.head(self.body(images), condition)


class _UpBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.norm1, self.norm2 = nn.BatchNorm2d(channels), nn.BatchNorm2d(channels)
        self.conv1, self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1), nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x: Tensor) -> Tensor:
        up = F.interpolate(x, scale_factor=2, mode="nearest")
        h = self.conv1(F.interpolate(F.relu(self.norm1(x)), scale_factor=2, mode="nearest"))
        return up + self.conv2(F.relu(self.norm2(h)))


class _DownBlock(nn.Module):
    def __init__(self, inputs: int, channels: int, downsample: bool, first: bool, spectral_norm: bool):
        super().__init__()
        self.first, self.downsample = first, downsample
        self.conv1 = maybe_spectral_norm(nn.Conv2d(inputs, channels, 3, 1, 1), spectral_norm)
        self.conv2 = maybe_spectral_norm(nn.Conv2d(channels, channels, 3, 1, 1), spectral_norm)
        self.shortcut = (maybe_spectral_norm(nn.Conv2d(inputs, channels, 1), spectral_norm)
                         if inputs != channels or downsample else None)

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        if self.first:  # pool before the 1x1 convolution: cheaper, as in SNGAN's optimised first block
            skip = F.avg_pool2d(x, 2) if self.downsample else x
            return h + (skip if self.shortcut is None else self.shortcut(skip))
        skip = x if self.shortcut is None else self.shortcut(x)
        return h + (F.avg_pool2d(skip, 2) if self.downsample else skip)


class ResNetGenerator(Conditioned):
    def __init__(self, noise_dim: int, channels: int, size: int, classes: int = 0, width: int = 64):
        super().__init__(noise_dim, classes)
        self.width = width
        self.project = nn.Linear(noise_dim * (2 if classes else 1), width * 16)
        self.blocks = nn.Sequential(*[_UpBlock(width) for _ in range(_upsamplings(size))])
        self.out = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(True), nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, noise: Tensor, condition: Tensor | None = None) -> Tensor:
        x = self.project(self.inputs(noise, condition)).view(-1, self.width, 4, 4)
        return self.out(self.blocks(x))


class ResNetDiscriminator(nn.Module):
    """Residual blocks halving the size down to 4x4 (and one more at 4x4), ReLU, sum pooling, linear head."""

    def __init__(self, channels: int, size: int, classes: int = 0, conditioning: str = "none", width: int = 64,
                 spectral_norm: bool = True, classify: bool = False):
        super().__init__()
        downs = _upsamplings(size)
        blocks = [_DownBlock(channels, width, downs > 0, True, spectral_norm)]
        blocks += [_DownBlock(width, width, step < downs, False, spectral_norm) for step in range(1, downs + 1)]
        self.blocks = nn.Sequential(*blocks)
        self.head = ConditionalHead(width, classes, conditioning, spectral_norm, classify)

    def forward(self, images: Tensor, condition: Tensor | None = None) -> Tensor:
        features = F.relu(self.blocks(images)).sum(dim=(2, 3))
        return self.head(features, condition)


def build_networks(architecture: str, noise_dim: int, channels: int, size: int, classes: int, conditioning: str,
                   width: int, spectral_norm: bool, batch_norm: bool, class_norm: bool = False,
                   classify: bool = False) -> tuple[nn.Module, nn.Module]:
    """The (generator, discriminator) pair for an image model's settings; `classify`: the discriminator also
    returns class logits (AC-GAN does without it)."""
    generator_classes = classes if conditioning != "none" else 0
    if architecture == "dcgan":
        return (DCGANGenerator(noise_dim, channels, size, generator_classes, width, class_norm),
                DCGANDiscriminator(channels, size, classes, conditioning, width, spectral_norm, batch_norm, classify))
    return (ResNetGenerator(noise_dim, channels, size, generator_classes, width * 2),
            ResNetDiscriminator(channels, size, classes, conditioning, width * 2, spectral_norm, classify))
