"""Building blocks shared by the modalities' networks: spectral norm, and label conditioning (a label embedding
beside the generator's noise; a projection (Miyato & Koyama 2018) or AC-GAN class logits in the critic). Labels
arrive as one-hot rows, the trainer's condition format."""

from __future__ import annotations

import torch
from torch import nn

Tensor = torch.Tensor


def maybe_spectral_norm(layer: nn.Module, enabled: bool) -> nn.Module:
    """Spectral normalisation bounds each layer's Lipschitz constant (Miyato et al. 2018)."""
    return nn.utils.parametrizations.spectral_norm(layer) if enabled else layer


class Conditioned(nn.Module):
    """Noise and, for a conditional model, a learned label embedding of the same width beside it."""

    def __init__(self, noise_dim: int, classes: int):
        super().__init__()
        self.embed = nn.Linear(classes, noise_dim, bias=False) if classes else None

    def inputs(self, noise: Tensor, condition: Tensor | None) -> Tensor:
        if self.embed is None:
            return noise
        return torch.cat([noise, self.embed(condition)], dim=1)


class ClassBatchNorm(nn.Module):
    """Batch norm whose scale and shift are learned per label (conditional batch norm, de Vries et al. 2017, as
    in the generator of Miyato & Koyama 2018): the label shapes every layer, not only the input."""

    def __init__(self, channels: int, classes: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.scale, self.shift = nn.Linear(classes, channels), nn.Linear(classes, channels)
        for layer in (self.scale, self.shift):  # starts as plain batch norm
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: Tensor, condition: Tensor) -> Tensor:
        return self.norm(x) * (1 + self.scale(condition))[:, :, None, None] + self.shift(condition)[:, :, None, None]


def generator_norm(channels: int, classes: int, per_label: bool) -> nn.Module:
    """A generator's batch norm: with `per_label` (and labels), a ClassBatchNorm."""
    return ClassBatchNorm(channels, classes) if per_label and classes else nn.BatchNorm2d(channels)


def run_layers(layers: list[nn.Module] | nn.Sequential, x: Tensor, condition: Tensor | None) -> Tensor:
    """`layers` in turn, handing the label to those that take it."""
    for layer in layers:
        x = layer(x, condition) if isinstance(layer, ClassBatchNorm) else layer(x)
    return x


class ConditionalHead(nn.Module):
    """Adversarial score, plus projection (cgan) or class logits (acgan), from pooled features; `classify`
    adds class logits beside the projection too (for class guidance, see core.trainer.class_loss)."""

    def __init__(self, features: int, classes: int, conditioning: str, spectral_norm: bool, classify: bool = False):
        super().__init__()
        extra = classes if conditioning == "acgan" or (classify and conditioning != "none") else 0
        self.linear = maybe_spectral_norm(nn.Linear(features, 1 + extra), spectral_norm)
        self.project = (maybe_spectral_norm(nn.Linear(classes, features, bias=False), spectral_norm)
                        if conditioning == "cgan" else None)

    def forward(self, features: Tensor, condition: Tensor | None) -> Tensor:
        scores = self.linear(features)
        if self.project is not None:
            projected = (self.project(condition) * features).sum(dim=1, keepdim=True)
            scores = torch.cat([scores[:, :1] + projected, scores[:, 1:]], dim=1)
        return scores
